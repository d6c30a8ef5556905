// The tracking issue (or PR) body: a hidden marker that finds the cluster's one tracking issue,
// the report, a progress checklist, and a hidden state naming the plan under review. The state
// holds no approvals: anyone who can edit the body could forge them, so approvals are always
// recomputed from the comments themselves (see foldComments).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { md } from '../report/escape.ts';
import { GITHUB_BODY_LIMIT } from '../report/markdown.ts';
import { decide, type Authorization, type DecideOptions, type IncomingComment, type PlanRecord } from './decide.ts';

const MARKER_PREFIX = '<!-- reboot-pilot:tracking cluster=';
const STATE_PREFIX = '<!-- reboot-pilot:state ';

export function marker(cluster: string): string {
  return `${MARKER_PREFIX}${encodeURIComponent(cluster)} -->`;
}

/** Whether a body is the tracking issue of `cluster`. */
export function isTracking(body: string | null | undefined, cluster: string): boolean {
  return (body ?? '').startsWith(marker(cluster));
}

export const TrackedPlan = z.object({
  v: z.literal(1),
  planId: z.string().regex(/^[0-9a-f]{64}$/),
  revision: z.number().int().positive(),
  createdAt: z.string().datetime(),
  expiresAt: z.string().datetime(),
  requestedBy: z.string().optional(),
  /** The newest comment when this revision was made: older comments never count for it. */
  afterCommentId: z.number().int().nonnegative().optional(),
  nodes: z.array(z.string()),
  /** Issue mode: the plan file ({ planId, plan }) itself, so the approved plan is what executes. */
  planFile: z.string().optional(),
  /** PR mode: where the plan file is committed on the plan branch. */
  planPath: z.string().optional(),
  /** The execution, once one started. */
  run: z
    .object({
      state: z.enum(['executing', 'completed', 'paused', 'cancelled', 'stale', 'failed']),
      at: z.string(),
      message: z.string(),
      /** Per node, merged over the runs of this plan (a paused plan resumes in a later job). */
      nodes: z.array(
        z.object({
          name: z.string(),
          outcome: z.string(),
          kernelBefore: z.string(),
          kernelAfter: z.string().optional(),
          nodeImageBefore: z.string().optional(),
          nodeImageAfter: z.string().optional(),
          startedAt: z.string().optional(),
          finishedAt: z.string().optional(),
          timings: z.record(z.string(), z.number()),
          detail: z.string().optional(),
        }),
      ),
      leftCordoned: z.array(z.string()),
    })
    .optional(),
});
export type TrackedPlan = z.infer<typeof TrackedPlan>;
export type TrackedRun = NonNullable<TrackedPlan['run']>;
/** Run states after which the plan never executes again. */
export const FINISHED = ['completed', 'cancelled', 'stale', 'failed'] as const;
export const isFinished = (r: TrackedPlan['run']) => !!r && (FINISHED as readonly string[]).includes(r.state);

export type ProgressMark = 'pending' | 'running' | 'done' | 'skipped' | 'failed';
export interface ProgressLine {
  node: string;
  mark: ProgressMark;
  text: string;
}

const BOX: Record<ProgressMark, string> = { pending: '- [ ]', running: '- [ ] ⏳', done: '- [x]', skipped: '- [x] ⏭️', failed: '- [ ] ❌' };

const PROGRESS_START = '<!-- reboot-pilot:progress -->';
const PROGRESS_END = '<!-- reboot-pilot:/progress -->';

const sign = (payload: string, key: string) => createHmac('sha256', key).update(payload).digest('base64url');

/**
 * The hidden state: gzip, so a plan of a few hundred nodes still fits next to the report. With a
 * state key (a secret) it is signed, so a body edited by anyone but the action is not trusted.
 */
export function encodeState(plan: TrackedPlan, key?: string): string {
  const payload = gzipSync(JSON.stringify(plan)).toString('base64url');
  return `${STATE_PREFIX}${payload}${key ? `.${sign(payload, key)}` : ''} -->`;
}

/** Whether the state leaves room for a useful report in one body. */
export const stateFits = (plan: TrackedPlan) => encodeState(plan).length < GITHUB_BODY_LIMIT - 8000;

export function renderBody(cluster: string, plan: TrackedPlan, report: string, progress: ProgressLine[], footer = '', key?: string): string {
  const state = encodeState(plan, key);
  const checklist = progress.length ? ['### Progress', '', ...progress.map((p) => `${BOX[p.mark]} ${md(p.node)}: ${md(p.text)}`), ''].join('\n') : '';
  const tail = `${PROGRESS_START}\n${checklist}${PROGRESS_END}\n${footer}\n${state}\n`;
  // The report yields to the parts that must survive; it is size-capped already, this is the last guard.
  const room = GITHUB_BODY_LIMIT - 1000 - marker(cluster).length - tail.length;
  const body = report.length > room ? `${report.slice(0, Math.max(0, room))}\n\n_(report cut to fit GitHub's body limit; the full report is in the run's artifact)_\n` : report;
  return `${marker(cluster)}\n\n${body}\n${tail}`;
}

/** The report part of a tracking body, to re-render the body around it (progress updates). */
export function reportOf(body: string): string {
  const start = body.indexOf('\n\n');
  const end = body.indexOf(PROGRESS_START);
  return start < 0 || end < 0 ? '' : body.slice(start + 2, end).replace(/\n$/, '');
}

/** The plan named in a tracking body, or undefined when there is none, it does not parse, or (with a key) its signature is wrong. */
export function readTrackedPlan(body: string | null | undefined, key?: string): TrackedPlan | undefined {
  const text = body ?? '';
  const at = text.lastIndexOf(STATE_PREFIX);
  if (at < 0) return undefined;
  const end = text.indexOf(' -->', at);
  const [payload = '', sig] = text.slice(at + STATE_PREFIX.length, end).split('.');
  // A signed state read without the key is not trusted either (a job missing its secret).
  if (sig && !key) return undefined;
  if (key) {
    const want = Buffer.from(sign(payload, key));
    if (!sig || Buffer.byteLength(sig) !== want.length || !timingSafeEqual(Buffer.from(sig), want)) return undefined;
  }
  try {
    const json = gunzipSync(Buffer.from(payload, 'base64url'), { maxOutputLength: 32 << 20 }).toString('utf8');
    const r = TrackedPlan.safeParse(JSON.parse(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

const REPLY_PREFIX = '<!-- reboot-pilot:reply-to ';

/** The key under which a comment's decision is announced: an edit is a new thing to answer. */
export const answerKey = (c: { id: number; createdAt: string; updatedAt: string }) => (Date.parse(c.updatedAt) > Date.parse(c.createdAt) ? `${c.id}e` : `${c.id}`);

/** Hidden in each reply, so a re-run answers nothing twice. */
export const replyMarker = (key: string, refused = false) => `${REPLY_PREFIX}${key}${refused ? ' refused' : ''} -->`;

/**
 * Keys already answered, and whether the answer was a refusal: the marker that ends a reply of the
 * action itself (never one quoted inside). A refusal is final: replaying the comment later (when
 * its author has gained permission, or an execution has ended) never turns it into a command.
 */
export function answeredKeys(comments: { body: string; login: string }[], selfLogin: string): Map<string, 'accepted' | 'refused'> {
  const out = new Map<string, 'accepted' | 'refused'>();
  for (const c of comments) {
    if (c.login.toLowerCase() !== selfLogin.toLowerCase()) continue;
    const m = c.body.match(/\n<!-- reboot-pilot:reply-to (\d+e?)( refused)? -->\s*$/);
    if (m) out.set(m[1]!, m[2] ? 'refused' : 'accepted');
  }
  return out;
}

export interface FoldResult {
  record: PlanRecord;
  /** Decisions for comments not answered yet (by id), in order. */
  decisions: { commentId: number; key: string; decision: NonNullable<ReturnType<typeof decide>> }[];
}

/**
 * Replays every comment since the plan was made through decide(): the approvals, rejections and
 * pauses are whatever the comments say, never what the body claims. `answered` holds the ids the
 * action already reacted to, so their decisions are applied but not announced again.
 */
export function foldComments(
  plan: TrackedPlan,
  comments: (Omit<IncomingComment, 'action'> & { updatedAt: string })[],
  authOf: (login: string) => Authorization,
  o: Omit<DecideOptions, 'nodes'>,
  answered: Map<string, 'accepted' | 'refused'>,
): FoldResult {
  let record: PlanRecord = {
    planId: plan.planId,
    revision: plan.revision,
    createdAt: plan.createdAt,
    expiresAt: plan.expiresAt,
    ...(plan.requestedBy ? { requestedBy: plan.requestedBy } : {}),
    approvals: [],
    state: 'awaiting-approval',
    skipped: [],
    lastCommentId: 0,
    ...(plan.afterCommentId ? { afterCommentId: plan.afterCommentId } : {}),
  };
  const decisions: FoldResult['decisions'] = [];
  for (const c of [...comments].sort((a, b) => a.id - b.id)) {
    // Comments are listed as they are now: an edited one is not the text anyone decided on, so it
    // counts for nothing (an approval edited later is withdrawn, never rewritten).
    const key = answerKey(c);
    if (answered.get(key) === 'refused') continue;
    const d = decide(record, { ...c, action: key.endsWith('e') ? 'edited' : 'created' }, () => authOf(c.login), { ...o, nodes: plan.nodes });
    if (!d) continue;
    record = d.record;
    if (!answered.has(key)) decisions.push({ commentId: c.id, key, decision: d });
  }
  return { record, decisions };
}
