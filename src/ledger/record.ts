// The ledger: the authoritative record of one cluster's tracking item, kept in the cluster (see
// store.ts) and written only through the action's Kubernetes identity. The issue or PR body shows
// it; nothing in a body is read back for a decision. Pure: the schema and small helpers.
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const LEDGER_NAME = 'reboot-pilot-ledger';
export const LEDGER_KEY = 'ledger.json';
export const PLAN_KEY = 'plan.json.gz';

const Approval = z.object({
  login: z.string(),
  userId: z.number().int(),
  commentId: z.number().int(),
  /** sha256 of the comment body as accepted: an edit withdraws the approval. */
  bodySha256: z.string(),
  at: z.string(),
  revision: z.number().int(),
});
export type LedgerApproval = z.infer<typeof Approval>;

const Command = z.object({
  kind: z.enum(['pause', 'resume', 'skip', 'cancel', 'reject', 'replan']),
  login: z.string(),
  userId: z.number().int(),
  commentId: z.number().int(),
  bodySha256: z.string(),
  at: z.string(),
  revision: z.number().int(),
  node: z.string().optional(),
  reason: z.string().optional(),
});
export type LedgerCommand = z.infer<typeof Command>;

const NodeResult = z.object({
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
});

export const RUN_STATES = ['executing', 'completed', 'paused', 'cancelled', 'stale', 'failed'] as const;
const Run = z.object({
  state: z.enum(RUN_STATES),
  at: z.string(),
  message: z.string(),
  nodes: z.array(NodeResult),
  leftCordoned: z.array(z.string()),
});
export type LedgerRun = z.infer<typeof Run>;

export const PLAN_STATES = [
  'awaiting-approval',
  'approved',
  'paused',
  'rejected',
  'cancelled',
  'replan-requested',
  'closed',
] as const;

export const Ledger = z.object({
  v: z.literal(1),
  repository: z.string(),
  cluster: z.string(),
  tracking: z.enum(['issue', 'pull-request']),
  /** The tracking item; `closed` once it is closed, by us or by hand: a reopened item stays closed here. */
  item: z
    .object({
      number: z.number().int().positive(),
      openedAt: z.string(),
      closed: z.object({ at: z.string(), by: z.string(), how: z.string() }).optional(),
    })
    .optional(),
  /**
   * A job about to open a new tracking item, claimed at the version it read before it opens the
   * item: of two jobs planning at once (two schedules, no shared concurrency group), one opens it.
   */
  opening: z.object({ by: z.string(), at: z.string() }).optional(),
  /** Earlier tracking items, closed: a comment on one (reopened by hand) is answered, never obeyed. */
  former: z.array(
    z.object({
      number: z.number().int(),
      closedAt: z.string(),
      by: z.string(),
      how: z.string(),
      lastCommentId: z.number().int(),
    }),
  ),
  plan: z
    .object({
      id: z.string().regex(/^[0-9a-f]{64}$/),
      revision: z.number().int().positive(),
      createdAt: z.string(),
      expiresAt: z.string(),
      requestedBy: z.string().optional(),
      /** Comments up to this ID were written before this revision existed. */
      afterCommentId: z.number().int().nonnegative(),
      nodes: z.array(z.string()),
    })
    .optional(),
  state: z.enum(PLAN_STATES),
  pausedFrom: z.enum(PLAN_STATES).optional(),
  /** The newest comment decided on: every comment up to it has been judged exactly once. */
  lastCommentId: z.number().int().nonnegative(),
  approvals: z.array(Approval),
  /** Approvals withdrawn by an edit or a deletion (audit). */
  withdrawn: z.array(Approval.extend({ why: z.string() })),
  /** Every accepted command other than approvals and /status: sticky whatever happens to its comment. */
  commands: z.array(Command),
  skipped: z.array(z.string()),
  replanBy: z.string().optional(),
  /** The comment that started the execution on purpose (a completing approval or /resume). */
  go: z.object({ commentId: z.number().int(), revision: z.number().int() }).optional(),
  /** Edited comments already answered. */
  answeredEdits: z.array(z.number().int()),
  run: Run.optional(),
  updatedAt: z.string(),
});
export type Ledger = z.infer<typeof Ledger>;
export type LedgerPlan = NonNullable<Ledger['plan']>;

export const FINISHED_RUNS = ['completed', 'cancelled', 'stale', 'failed'] as const;
export const runFinished = (run: Ledger['run']) =>
  !!run && (FINISHED_RUNS as readonly string[]).includes(run.state);

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export function emptyLedger(
  repository: string,
  cluster: string,
  tracking: Ledger['tracking'],
  at: Date,
): Ledger {
  return {
    v: 1,
    repository,
    cluster,
    tracking,
    state: 'awaiting-approval',
    former: [],
    lastCommentId: 0,
    approvals: [],
    withdrawn: [],
    commands: [],
    skipped: [],
    answeredEdits: [],
    updatedAt: at.toISOString(),
  };
}

/** Approvals that count: those given for the current revision. */
export const currentApprovals = (ledger: Ledger) =>
  ledger.approvals.filter((a) => a.revision === ledger.plan?.revision);
