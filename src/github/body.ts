// The tracking issue (or PR) body: a hidden marker that finds the cluster's one tracking issue,
// the report, a progress checklist, and a hidden state naming the plan under review. The state
// holds no approvals: anyone who can edit the body could forge them, so approvals are always
// recomputed from the comments themselves (see foldComments).
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
  nodes: z.array(z.string()),
});
export type TrackedPlan = z.infer<typeof TrackedPlan>;

export type ProgressMark = 'pending' | 'running' | 'done' | 'skipped' | 'failed';
export interface ProgressLine {
  node: string;
  mark: ProgressMark;
  text: string;
}

const BOX: Record<ProgressMark, string> = { pending: '- [ ]', running: '- [ ] ⏳', done: '- [x]', skipped: '- [x] ⏭️', failed: '- [ ] ❌' };

export function renderBody(cluster: string, plan: TrackedPlan, report: string, progress: ProgressLine[], footer = ''): string {
  const state = `${STATE_PREFIX}${Buffer.from(JSON.stringify(plan)).toString('base64url')} -->`;
  const checklist = progress.length ? ['### Progress', '', ...progress.map((p) => `${BOX[p.mark]} ${md(p.node)}: ${md(p.text)}`), ''].join('\n') : '';
  const fixed = `${marker(cluster)}\n\n\n${checklist}\n${footer}\n${state}\n`;
  // The report yields to the parts that must survive; it is size-capped already, this is the last guard.
  const room = GITHUB_BODY_LIMIT - 1000 - fixed.length;
  const body = report.length > room ? `${report.slice(0, room)}\n\n_(report cut to fit GitHub's body limit; the full report is in the run's artifact)_\n` : report;
  return `${marker(cluster)}\n\n${body}\n${checklist}\n${footer}\n${state}\n`;
}

/** The plan named in a tracking body, or undefined when there is none or it does not parse. */
export function readTrackedPlan(body: string | null | undefined): TrackedPlan | undefined {
  const text = body ?? '';
  const at = text.lastIndexOf(STATE_PREFIX);
  if (at < 0) return undefined;
  const end = text.indexOf(' -->', at);
  try {
    const json = Buffer.from(text.slice(at + STATE_PREFIX.length, end), 'base64url').toString('utf8');
    const r = TrackedPlan.safeParse(JSON.parse(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export interface FoldResult {
  record: PlanRecord;
  /** Decisions for comments not answered yet (by id), in order. */
  decisions: { commentId: number; decision: NonNullable<ReturnType<typeof decide>> }[];
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
  answered: Set<number>,
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
  };
  const decisions: FoldResult['decisions'] = [];
  for (const c of [...comments].sort((a, b) => a.id - b.id)) {
    // Comments are listed as they are now: an edited one is not the text anyone decided on, so it
    // counts for nothing (an approval edited later is withdrawn, never rewritten).
    const edited = Date.parse(c.updatedAt) > Date.parse(c.createdAt);
    const d = decide(record, { ...c, action: edited ? 'edited' : 'created' }, () => authOf(c.login), { ...o, nodes: plan.nodes });
    if (!d) continue;
    record = d.record;
    if (!answered.has(c.id)) decisions.push({ commentId: c.id, decision: d });
  }
  return { record, decisions };
}
