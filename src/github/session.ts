// One cluster's GitHub session: answer the commands on its tracking issue or PR, then do what the
// mode and the ledger call for: execute the approved plan, or inspect the cluster and open,
// refresh, revise or close the tracking item. The ledger in the cluster (src/ledger/) is the
// record: the item it names, the plan revision, accepted approvals and commands, the execution.
// Bodies are views of it; nothing in a body is read back for a decision. The phases live beside
// this file: planning.ts (a plan onto the item), answer.ts (commands), execution.ts (the approved
// plan run), closing.ts (the item's end), view.ts (what the item shows).
import * as k8s from '@kubernetes/client-node';
import type { KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import { shortId } from '../plan/canonical.ts';
import { md } from '../report/escape.ts';
import type { ActionState } from '../states.ts';
import { LedgerStore } from '../ledger/store.ts';
import { LEDGER_NAME, runFinished, type Ledger } from '../ledger/record.ts';
import type { TrackedItem } from './tracker.ts';
import { answer, answerElsewhere } from './answer.ts';
import { closeItem, currentItem } from './closing.ts';
import { executePlan } from './execution.ts';
import { planAndSync } from './planning.ts';
import { statusText } from './view.ts';
import {
  NO_NODES,
  clusterName,
  currentTime,
  itemNoun,
  nodeCounts,
  type SessionContext,
  type SessionDeps,
  type SessionMode,
  type SessionResult,
} from './context.ts';

export type { SessionDeps, SessionEvent, SessionMode, SessionResult } from './context.ts';

export async function runSession(mode: SessionMode, deps: SessionDeps): Promise<SessionResult> {
  const store = new LedgerStore(deps.clients, deps.settings.plan.namespace);
  try {
    return await session(mode, deps, store);
  } finally {
    const requests = `${store.reads + store.writes} Kubernetes requests`;
    const split = `${store.reads} reads, ${store.writes} writes`;
    deps.log(`ledger ${deps.settings.plan.namespace}/${LEDGER_NAME}: ${requests} (${split})`);
  }
}

async function session(mode: SessionMode, deps: SessionDeps, store: LedgerStore): Promise<SessionResult> {
  const context: SessionContext = {
    deps,
    cluster: clusterName(deps.clients, deps.settings.plan),
    store,
    where: `${deps.settings.plan.namespace}/${LEDGER_NAME}`,
    snapshot: await store.read(),
  };
  checkLedgerOwner(context);
  const item = await currentItem(context);
  if (deps.event.issueNumber !== undefined && deps.event.issueNumber !== item?.number)
    return answerElsewhere(context, deps.event.issueNumber);
  if (!item) {
    if (mode !== 'plan') {
      const noun = itemNoun(deps.tracker);
      const summary = `Reboot Pilot: no open tracking ${noun} for ${md(context.cluster)}.\n`;
      return { outcome: 'none', state: 'none', ...NO_NODES, summary };
    }
    // An item made before the ledger existed is adopted (with a new revision: no approval carries over).
    const legacy = context.snapshot ? undefined : await deps.tracker.find(context.cluster);
    return planAndSync(context, legacy, dispatcher(deps), false);
  }
  await answer(context, item, mode === 'decide' && context.snapshot?.ledger.run?.state === 'executing');
  return afterAnswers(context, item, mode);
}

/** One ledger per namespace: it must be this cluster's, tracked in this repository this way. */
function checkLedgerOwner(context: SessionContext): void {
  const { tracker } = context.deps;
  const owner = context.snapshot?.ledger;
  if (!owner) return;
  const { repository, kind } = tracker;
  if (owner.repository === repository && owner.cluster === context.cluster && owner.tracking === kind) return;
  throw new UserError(
    `the ledger ${context.where} belongs to cluster ${owner.cluster} tracked by ${owner.repository} ` +
      `(${owner.tracking}), not ${context.cluster} in ${repository} (${kind}); ` +
      `use another namespace for a second setup`,
  );
}

/** Who asked for a plan by hand (workflow_dispatch): its requester, for prevent-self-approval. */
const dispatcher = (deps: SessionDeps) =>
  deps.event.name === 'workflow_dispatch' ? deps.event.actor : undefined;

/** Where the answered plan stands, as the decisions after the answers need it. */
interface Standing {
  ledger: Ledger;
  /** An execution is under way (started, not finished). */
  started: boolean;
  /** Approved, never started, and past its expiry. */
  lapsed: boolean;
  /** This run's comment is the one the ledger names as the start (the completing approval, /resume). */
  onPurpose: boolean;
  /** Approved, unexpired, and its execution not finished. */
  runnable: boolean;
  /** A job started by no comment (schedule, dispatch) may continue what the ledger shows under way. */
  continuation: boolean;
}

function standingOf(context: SessionContext): Standing {
  const { deps } = context;
  const ledger = context.snapshot!.ledger;
  const plan = ledger.plan!;
  const started = !!ledger.run && !runFinished(ledger.run);
  const lapsed =
    ledger.state === 'approved' && !ledger.run && currentTime(deps).getTime() > Date.parse(plan.expiresAt);
  // Executions start only on purpose: the comment that completed the approvals or resumed (the
  // ledger names it), or a schedule continuing an execution the ledger shows under way.
  const go = ledger.go && ledger.go.revision === plan.revision ? ledger.go : undefined;
  const onPurpose = !!go && deps.event.commentId === go.commentId;
  const runnable = ledger.state === 'approved' && !lapsed && !runFinished(ledger.run);
  const continuation = started && !!go && deps.event.commentId === undefined;
  return { ledger, started, lapsed, onPurpose, runnable, continuation };
}

/** What the answered ledger calls for in this mode. */
async function afterAnswers(
  context: SessionContext,
  item: TrackedItem,
  mode: SessionMode,
): Promise<SessionResult> {
  const ledger = context.snapshot!.ledger;
  // decide (beside a possibly live execution) only answers; closing and re-planning are left to the
  // jobs in its group.
  if (mode !== 'decide' && ledger.state === 'replan-requested')
    return planAndSync(context, item, ledger.replanBy, true);
  if (mode !== 'decide' && (ledger.state === 'rejected' || ledger.state === 'cancelled'))
    return closeItem(context, item, ledger.state);
  const standing = standingOf(context);
  const refusal = mode === 'execute' ? notTheExpectedPlan(context, item) : undefined;
  if (refusal) return refusal;
  const { runnable, onPurpose, continuation } = standing;
  if (runnable && mode === 'execute' && (onPurpose || continuation)) return executePlan(context, item);
  if (runnable && mode === 'plan' && continuation) return continueOrHandOver(context, item);
  await explainNotExecuting(context, item, mode, standing);
  if (mode === 'plan' && !standing.started && (ledger.state !== 'approved' || standing.lapsed))
    return planAndSync(context, item, dispatcher(context.deps), false);
  return answered(context, item, mode, standing);
}

/** expect-plan-id: the environment reviewer approved a job for one plan (its full ID); no other. */
function notTheExpectedPlan(context: SessionContext, item: TrackedItem): SessionResult | undefined {
  const { deps } = context;
  const ledger = context.snapshot!.ledger;
  const planId = ledger.plan!.id;
  const expectedPlanId = deps.settings.github.expectPlanId.toLowerCase();
  if (!expectedPlanId || expectedPlanId === planId) return undefined;
  const why =
    expectedPlanId.length !== 64
      ? `expect-plan-id must be the full 64-digit plan ID, not ${expectedPlanId.length} digits`
      : `the plan is now \`${shortId(planId)}\`, ` +
        `not the \`${shortId(expectedPlanId)}\` this job was approved for`;
  deps.log(`${why}: not executing`);
  return {
    outcome: 'ignored',
    state: 'ignored',
    planId,
    number: item.number,
    ...nodeCounts(ledger),
    summary: `Reboot Pilot: ${why}; nothing executed.\n`,
  };
}

/**
 * A schedule whose identity cannot reboot (the environment setup's plan workflow) hands the
 * continuation to a job that can (state executing starts the environment's execute job),
 * instead of failing the execution on the first cordon.
 */
async function continueOrHandOver(context: SessionContext, item: TrackedItem): Promise<SessionResult> {
  const { deps } = context;
  const missing = await cannotReboot(deps.clients);
  if (!missing) return executePlan(context, item);
  const why =
    `this job's Kubernetes identity cannot ${missing}, so it does not continue the execution: ` +
    `it is left to a job that can (the environment's execute job, started by the state output ` +
    `executing), or to /resume`;
  deps.log(why);
  const ledger = context.snapshot!.ledger;
  return {
    outcome: 'answered',
    state: 'executing',
    planId: ledger.plan!.id,
    number: item.number,
    ...nodeCounts(ledger),
    summary: `Reboot Pilot: ${md(why)}.\n`,
  };
}

/** What this identity may not do of what an execution needs (SelfSubjectAccessReview), or undefined. */
async function cannotReboot(clients: KubeClients): Promise<string | undefined> {
  const api = clients.kc.makeApiClient(k8s.AuthorizationV1Api);
  const needs: [string, k8s.V1ResourceAttributes][] = [
    ['patch (cordon) nodes', { verb: 'patch', resource: 'nodes' }],
    ['evict pods', { verb: 'create', resource: 'pods', subresource: 'eviction' }],
  ];
  for (const [what, resourceAttributes] of needs) {
    try {
      const review = await api.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes } } });
      if (!review.status?.allowed) return what;
    } catch {
      return undefined; // Unknown: try, as before; the execution names any denial itself.
    }
  }
  return undefined;
}

/** Why an approved plan is not executed by this job: in the log, or on the item when it expired. */
async function explainNotExecuting(
  context: SessionContext,
  item: TrackedItem,
  mode: SessionMode,
  standing: Standing,
): Promise<void> {
  const { deps } = context;
  const plan = standing.ledger.plan!;
  if (standing.runnable && mode === 'execute')
    deps.log(
      'the plan is approved, but this comment did not start it ' +
        '(only the completing approval or /resume does): not executing',
    );
  if (standing.runnable && mode === 'plan' && !standing.started)
    deps.log(
      'the plan is approved but its execution never started: a schedule only continues ' +
        'an execution the ledger shows under way, so nothing is executed',
    );
  if (standing.lapsed && mode === 'execute' && standing.onPurpose)
    await deps.tracker.comment(
      item,
      `Plan \`${shortId(plan.id)}\` expired at ${plan.expiresAt} before its execution started; ` +
        'comment `/replan` for a fresh plan.',
    );
}

/** The state the action reports for a plan that was only answered. */
function answeredState(ledger: Ledger, lapsed: boolean): ActionState {
  if (runFinished(ledger.run)) return ledger.run!.state;
  if (lapsed) return 'expired';
  if (ledger.run?.state === 'executing') return 'executing';
  return ledger.state;
}

function answered(
  context: SessionContext,
  item: TrackedItem,
  mode: SessionMode,
  standing: Standing,
): SessionResult {
  const { ledger } = standing;
  let state = answeredState(ledger, standing.lapsed);
  // decide's "approved" starts the environment's execute job: only for the comment that approved.
  if (mode === 'decide' && state === 'approved' && !standing.onPurpose) state = 'answered';
  return {
    outcome: 'answered',
    state,
    planId: ledger.plan!.id,
    number: item.number,
    ...nodeCounts(ledger),
    summary: statusText(context.cluster, ledger, context.deps.settings.github.requiredApprovals) + '\n',
  };
}
