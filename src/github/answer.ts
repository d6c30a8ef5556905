// Answering commands: the comments not judged yet are judged against the ledger (each author's
// role read through the tracker's repository), the outcome is recorded, then each gets its
// reaction and reply. A comment on a former tracking item is answered too: it is closed for good.
import type { Ledger } from '../ledger/record.ts';
import { judge, type Notice } from './judge.ts';
import { md } from '../report/escape.ts';
import { parseComment } from './commands.ts';
import type { Authorization } from './decide.ts';
import { replyMarker } from './body.ts';
import type { Comment, TrackedItem } from './tracker.ts';
import { statusText } from './view.ts';
import {
  NO_NODES,
  currentTime,
  itemNoun,
  updateLedger,
  type SessionContext,
  type SessionDeps,
  type SessionResult,
} from './context.ts';

const NOBODY: Authorization = { permission: 'none', teams: [] };

/** Judges the comments not judged yet, records the outcome in the ledger, then reacts and replies. */
export async function answer(
  context: SessionContext,
  item: TrackedItem,
  executing: boolean,
): Promise<Ledger> {
  const { deps } = context;
  const github = deps.settings.github;
  const comments = await deps.tracker.comments(item);
  const authorizations = await authorize(deps, comments, context.snapshot!.ledger.lastCommentId);
  const options = {
    minPermission: github.minPermission,
    allowUsers: github.allowUsers,
    allowTeams: github.allowTeams,
    requiredApprovals: github.requiredApprovals,
    preventSelfApproval: github.preventSelfApproval,
    selfLogin: item.author ?? 'github-actions[bot]',
    now: currentTime(deps),
    executing,
  };
  let notices: Notice[] = [];
  const result = await context.store.update((snapshot) => {
    if (!snapshot) return undefined;
    const authorizationOf = (login: string) => authorizations.get(login.toLowerCase()) ?? NOBODY;
    const judgement = judge(snapshot.ledger, comments, authorizationOf, options);
    notices = judgement.notices;
    const unchanged = JSON.stringify(judgement.ledger) === JSON.stringify(snapshot.ledger);
    return unchanged ? undefined : { ledger: judgement.ledger, out: true };
  }, context.snapshot);
  context.snapshot = result.snapshot;
  const ledger = context.snapshot!.ledger;
  for (const notice of notices) await reply(deps, item, notice, ledger);
  return ledger;
}

async function reply(deps: SessionDeps, item: TrackedItem, notice: Notice, ledger: Ledger): Promise<void> {
  if (notice.commentId) await deps.tracker.react(notice.commentId, notice.reaction);
  const text = notice.status ? statusText('', ledger, deps.settings.github.requiredApprovals) : notice.reply;
  const marker = replyMarker(notice.key, notice.reaction === 'confused');
  await deps.tracker.comment(item, `${text}\n\n${marker}`);
  deps.log(`comment ${notice.commentId || notice.key}: ${notice.reaction}`);
}

/** Each author of a new command, authorized once (by lower-case login) through the tracker. */
async function authorize(
  deps: SessionDeps,
  comments: Comment[],
  after: number,
): Promise<Map<string, Authorization>> {
  const authorizations = new Map<string, Authorization>();
  for (const comment of comments) {
    const login = comment.login.toLowerCase();
    if (comment.id <= after || comment.userType === 'Bot' || authorizations.has(login)) continue;
    if (parseComment(comment.body).kind === 'none') continue;
    authorizations.set(login, await deps.tracker.authorize(comment.login, deps.settings.github.allowTeams));
  }
  return authorizations;
}

/** A comment on another issue or PR: a former tracking item (closed, maybe reopened) gets an answer. */
export async function answerElsewhere(context: SessionContext, number: number): Promise<SessionResult> {
  const { deps } = context;
  const former = formerItem(context.snapshot?.ledger, number);
  const noun = itemNoun(deps.tracker);
  if (!former) {
    const why = `#${number} is not the open tracking ${noun} of cluster ${context.cluster}; nothing to do`;
    deps.log(why);
    return { outcome: 'ignored', state: 'ignored', ...NO_NODES, summary: `Reboot Pilot: ${md(why)}.\n` };
  }
  const item = { number, body: '', url: '' };
  const comments = (await deps.tracker.comments(item)).filter(
    (comment) =>
      comment.id > former.lastCommentId &&
      comment.userType !== 'Bot' &&
      parseComment(comment.body).kind !== 'none',
  );
  const last = Math.max(former.lastCommentId, ...comments.map((comment) => comment.id));
  await updateLedger(context, (ledger) =>
    ledger.item?.number === number
      ? { ...ledger, lastCommentId: Math.max(ledger.lastCommentId, last) }
      : {
          ...ledger,
          former: ledger.former.map((entry) =>
            entry.number === number ? { ...entry, lastCommentId: last } : entry,
          ),
        },
  );
  const why =
    `#${number} was closed (${former.how}, by ${former.by} at ${former.closedAt}); Reboot Pilot's record ` +
    `keeps it closed, so nothing on it is executed, even if it was reopened. The next scheduled run ` +
    `plans in a new tracking ${noun}.`;
  for (const comment of comments) {
    await deps.tracker.react(comment.id, 'confused');
    await deps.tracker.comment(item, `@${comment.login}: ${why}\n\n${replyMarker(String(comment.id), true)}`);
  }
  return { outcome: 'ignored', state: 'closed', ...NO_NODES, summary: `Reboot Pilot: ${md(why)}\n` };
}

/** The ledger's record of a closed item by its number: a former one, or the current one once closed. */
function formerItem(ledger: Ledger | undefined, number: number): Ledger['former'][number] | undefined {
  const former = ledger?.former.find((item) => item.number === number);
  if (former) return former;
  const closed = ledger?.item?.number === number ? ledger.item.closed : undefined;
  if (!closed) return undefined;
  return {
    number,
    closedAt: closed.at,
    by: closed.by,
    how: closed.how,
    lastCommentId: ledger!.lastCommentId,
  };
}
