// Comments judged against the ledger, pure: each comment is decided exactly once (by ID, in
// order), and what was accepted is recorded with who, which comment and the hash of its text.
// Restrictions (/pause, /skip, /cancel, /reject) are kept whatever later happens to their comment;
// an edit or deletion can only withdraw an approval, and an edited approval is answered.
import {
  decide,
  type Authorization,
  type DecideOptions,
  type Decision,
  type IncomingComment,
  type PlanRecord,
} from './decide.ts';
import { parseComment } from './commands.ts';
import { currentApprovals, runFinished, sha256, type Ledger, type LedgerCommand } from '../ledger/record.ts';

export interface JudgedComment extends Omit<IncomingComment, 'action'> {
  userId: number;
  updatedAt: string;
}

export interface Notice {
  commentId: number;
  /** The key shown in the reply's hidden marker: the comment ID, with "e" for an edit. */
  key: string;
  reaction: Decision['reaction'];
  reply: string;
  /** A /status: the reply is the ledger's status, rendered by the caller. */
  status?: boolean;
}

export interface Judgement {
  ledger: Ledger;
  notices: Notice[];
}

export type JudgeOptions = Omit<DecideOptions, 'nodes' | 'finished' | 'executing'> & { executing: boolean };

const edited = (comment: JudgedComment) => Date.parse(comment.updatedAt) > Date.parse(comment.createdAt);

/** The decision's view of the ledger. */
function recordOf(ledger: Ledger): PlanRecord {
  const p = ledger.plan!;
  return {
    planId: p.id,
    revision: p.revision,
    createdAt: p.createdAt,
    expiresAt: p.expiresAt,
    ...(p.requestedBy ? { requestedBy: p.requestedBy } : {}),
    approvals: currentApprovals(ledger).map((a) => ({ login: a.login, at: a.at, commentId: a.commentId })),
    state: ledger.state === 'closed' ? 'cancelled' : ledger.state,
    ...(ledger.pausedFrom && ledger.pausedFrom !== 'closed' ? { pausedFrom: ledger.pausedFrom } : {}),
    skipped: ledger.skipped,
    lastCommentId: ledger.lastCommentId,
    afterCommentId: p.afterCommentId,
    ...(ledger.replanBy ? { replanBy: ledger.replanBy } : {}),
  };
}

/** Edits and deletions of comments already judged: approvals withdrawn, edited commands answered once. */
function reviewEarlier(judged: Ledger, comments: JudgedComment[], options: JudgeOptions): Judgement {
  const notices: Notice[] = [];
  const byId = new Map(comments.map((c) => [c.id, c]));
  let ledger = judged;
  for (const a of currentApprovals(judged)) {
    const c = byId.get(a.commentId);
    if (c && sha256(c.body) === a.bodySha256) continue;
    const why = c ? 'edited' : 'deleted';
    ledger = {
      ...ledger,
      approvals: ledger.approvals.filter((x) => x !== a),
      withdrawn: [...ledger.withdrawn, { ...a, why }],
    };
    if (c) ledger = { ...ledger, answeredEdits: [...ledger.answeredEdits, c.id] };
    notices.push({
      commentId: c?.id ?? 0,
      key: c ? `${c.id}e` : `${a.commentId}d`,
      reaction: 'confused',
      reply:
        `The approval of @${a.login} (comment ${a.commentId}) was ${why}: it is withdrawn and no ` +
        `longer counts (${currentApprovals(ledger).length} of ${options.requiredApprovals}). ` +
        'Approve again in a new comment.',
    });
  }
  for (const c of comments) {
    if (c.id > judged.lastCommentId || !edited(c) || ledger.answeredEdits.includes(c.id)) continue;
    if (c.userType === 'Bot' || c.login.toLowerCase() === options.selfLogin.toLowerCase()) continue;
    if (parseComment(c.body).kind === 'none' && !judged.commands.some((x) => x.commentId === c.id)) continue;
    ledger = { ...ledger, answeredEdits: [...ledger.answeredEdits, c.id] };
    const held = judged.commands.find((x) => x.commentId === c.id);
    notices.push({
      commentId: c.id,
      key: `${c.id}e`,
      reaction: 'confused',
      reply: held
        ? `@${c.login}: an edited comment is not a command; the /${held.kind} it gave when written ` +
          'still holds (restrictions are kept whatever happens to their comment).'
        : `@${c.login}: an edited comment is not a command; write a new comment.`,
    });
  }
  if (ledger.state === 'approved' && currentApprovals(ledger).length < options.requiredApprovals) {
    const { go: _, ...rest } = ledger;
    ledger = { ...rest, state: 'awaiting-approval' };
  }
  return { ledger, notices };
}

const RESTRICTIVE: Record<string, LedgerCommand['kind'] | undefined> = {
  pause: 'pause',
  resume: 'resume',
  cancel: 'cancel',
  replan: 'replan',
};

/** Records what one accepted decision changed. */
function record(ledger: Ledger, comment: JudgedComment, decision: Decision): Ledger {
  const r = decision.record;
  const base = {
    login: comment.login,
    userId: comment.userId,
    commentId: comment.id,
    bodySha256: sha256(comment.body),
    at: comment.createdAt,
    revision: ledger.plan!.revision,
  };
  const next: Ledger = {
    ...ledger,
    state:
      r.state === 'executing' || r.state === 'completed' || r.state === 'failed' ? ledger.state : r.state,
    skipped: r.skipped,
    lastCommentId: Math.max(ledger.lastCommentId, comment.id),
  };
  if (r.pausedFrom) next.pausedFrom = r.pausedFrom as Ledger['state'];
  else delete next.pausedFrom;
  if (r.replanBy) next.replanBy = r.replanBy;
  if (decision.reaction === 'confused' || decision.next === 'status') return next;
  const isApproval = r.approvals.length > currentApprovals(ledger).length;
  if (isApproval) next.approvals = [...ledger.approvals, base];
  let kind: LedgerCommand['kind'] | undefined = RESTRICTIVE[decision.next];
  if (decision.reaction === '-1') kind = 'reject';
  if (!kind && r.skipped.length > ledger.skipped.length) kind = 'skip';
  if (kind) {
    const parsed = parseComment(comment.body);
    const cmd = parsed.kind === 'command' ? parsed.command : undefined;
    next.commands = [
      ...ledger.commands,
      {
        ...base,
        kind,
        ...(cmd?.kind === 'skip' ? { node: cmd.node } : {}),
        ...(cmd?.kind === 'reject' && cmd.reason ? { reason: cmd.reason.slice(0, 200) } : {}),
      },
    ];
  }
  if (decision.next === 'execute' || decision.next === 'resume')
    next.go = { commentId: comment.id, revision: ledger.plan!.revision };
  if (decision.next === 'pause' || decision.next === 'cancel' || decision.next === 'replan') delete next.go;
  return next;
}

/**
 * Judges the comments not judged yet (ID above the ledger's lastCommentId), after reviewing the
 * earlier ones for edits and deletions. Returns the new ledger and what to answer.
 */
export function judge(
  judged: Ledger,
  comments: JudgedComment[],
  authOf: (login: string) => Authorization,
  options: JudgeOptions,
): Judgement {
  if (!judged.plan) return { ledger: judged, notices: [] };
  const sorted = [...comments].sort((a, b) => a.id - b.id);
  const review = reviewEarlier(judged, sorted, options);
  let ledger = review.ledger;
  const notices = [...review.notices];
  for (const c of sorted) {
    if (c.id <= ledger.lastCommentId) continue;
    const finished =
      ledger.state === 'closed' ? 'closed' : runFinished(ledger.run) ? ledger.run!.state : undefined;
    const runPaused = ledger.state === 'approved' && ledger.run?.state === 'paused';
    const d = decide(
      recordOf(ledger),
      { ...c, action: edited(c) ? 'edited' : 'created' },
      () => authOf(c.login),
      { ...options, nodes: ledger.plan!.nodes, ...(finished ? { finished } : {}), runPaused },
    );
    if (!d) {
      ledger = { ...ledger, lastCommentId: c.id };
      continue;
    }
    ledger = record(ledger, c, d);
    notices.push({
      commentId: c.id,
      key: `${c.id}${edited(c) ? 'e' : ''}`,
      reaction: d.reaction,
      reply: d.reply ?? '',
      ...(d.next === 'status' ? { status: true } : {}),
    });
  }
  return { ledger, notices };
}
