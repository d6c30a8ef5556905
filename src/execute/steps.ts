// The recorded steps of one node's in-place reboot, each a function of the node's context:
// cordon -> drain -> reboot request -> wait for the new boot (with the node image upgrade as the
// fallback) -> uncordon -> settle (the controller's taints lifted, evicted workloads available,
// the watched soak) -> done. Each step records itself on the node (src/execute/progress.ts)
// before the next starts; a run that resumes skips the steps its record shows done.
import type * as k8s from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { MERGE_PATCH, explainApiError, type KubeClients } from '../kube/client.ts';
import type { PlanNode } from '../plan/types.ts';
import { drainNode, DrainError, type EvictedPod } from '../drain/drain.ts';
import { ANN, NODE_IMAGE_LABEL, SCALE_DOWN_DISABLED } from '../kube/labels.ts';
import { clearProgress, patchNode, readProgress, stepPatch, type Step, type Workload } from './progress.ts';
import { untilAnswered, waitForBoot, waitForSchedulable, waitForWorkloads, watchSoak } from './wait.ts';
import type { Waiting } from './wait.ts';
import type { NodeImageResult, NodeReport } from './types.ts';
import { errorText, lockCheck, type NodeContext, type NodeStart } from './context.ts';

/** How long the node lifecycle controller may take to lift its taints after the uncordon. */
const SCHEDULABLE_TIMEOUT_MS = 120_000;

/** Steps after which the node has not yet come back from its reboot. */
const BEFORE_BOOT: readonly (Step | undefined)[] = ['cordoned', 'drained', 'rebooting'];

/** Reboots the node in place, from the step its record shows on. */
export async function rebootNode(start: NodeStart): Promise<void> {
  const { run, report } = start;
  const progress = readProgress(start.node);
  const context: NodeContext = { ...start, progress, bootBefore: '' };
  report.startedAt = new Date().toISOString();
  if (progress.planId !== run.planId || !progress.step) await cordon(context);
  // Recorded at the cordon: a resumed run reads the boot its reboot must replace.
  context.bootBefore = context.progress.bootIdBefore ?? start.planned.bootID;
  if (context.progress.step === 'cordoned' && !rebootedAlready(context)) await drain(context);
  if (BEFORE_BOOT.includes(context.progress.step) && !rebootedAlready(context)) await requestReboot(context);
  if (BEFORE_BOOT.includes(context.progress.step)) await waitForReboot(context);
  if (context.progress.step === 'rebooted') await uncordon(context);
  if (context.progress.step === 'uncordoned') await settle(context);
  // A fallback's node image upgrade reimaged it (set above); else it was rebooted in place.
  if (report.outcome !== 'reimaged') report.outcome = 'rebooted';
  const info = context.node.status?.nodeInfo;
  if (!report.kernelAfter) report.kernelAfter = info?.kernelVersion ?? '';
  if (!report.bootIdAfter) report.bootIdAfter = info?.bootID ?? '';
  report.finishedAt = new Date().toISOString();
  report.timings.total = Date.now() - context.startedMs;
  run.emit({ type: 'node-end', report });
}

function rebootedAlready(context: NodeContext): boolean {
  return context.node.status?.nodeInfo?.bootID !== context.bootBefore;
}

/** Logs and reports a step; checks the run lock first (never act without it). */
function step(context: NodeContext, name: string, detail?: string): void {
  const { run, planned } = context;
  run.deps.checkLock?.();
  run.log(`${planned.name}: ${name}${detail ? ` (${detail})` : ''}`);
  run.emit({ type: 'step', node: planned.name, step: name, ...(detail ? { detail } : {}) });
}

function waiting(context: NodeContext): Waiting {
  return (what, sinceMs) => {
    context.run.emit({ type: 'waiting', node: context.planned.name, what, sinceMs });
    context.run.log(`waiting (${Math.round(sinceMs / 1000)}s): ${what}`);
  };
}

/**
 * After the reboot request the API server may be away (its own node rebooting): calls are
 * repeated while it does not answer, each for up to reboot-timeout.
 */
function whenAnswered<T>(context: NodeContext, what: string, call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + context.run.options.rebootTimeoutSeconds * 1000;
  return untilAnswered(`${context.planned.name}: ${what}`, call, deadline, waiting(context));
}

/** Patches the node (annotations, and the cordon when given) and keeps what it now says. */
async function record(
  context: NodeContext,
  annotations: Record<string, string | null>,
  unschedulable?: boolean,
): Promise<void> {
  context.node = await patchNode(context.run.kube, context.planned.name, annotations, unschedulable);
  context.progress = readProgress(context.node);
}

async function cordon(context: NodeContext): Promise<void> {
  const { run, planned, node } = context;
  // Record first, then act: a crash between the two leaves a record that says "maybe".
  // Cordoned by an earlier, unfinished run of ours (another plan) is not "cordoned before".
  const oursBefore = node.metadata?.annotations?.[ANN.cordonedByUs] === 'true';
  const wasUnschedulable = node.spec?.unschedulable === true && !oursBefore;
  const scaleDownBefore = node.metadata?.annotations?.[SCALE_DOWN_DISABLED];
  step(
    context,
    'cordon',
    wasUnschedulable ? 'already cordoned before this run: it stays cordoned' : undefined,
  );
  const annotations = {
    [ANN.planId]: run.planId,
    [ANN.cordonedByUs]: String(!wasUnschedulable),
    [ANN.bootIdBefore]: planned.bootID,
    [ANN.kernelBefore]: planned.kernel.running,
    [ANN.scaleDownBefore]: scaleDownBefore ?? '',
    [ANN.error]: null,
    [SCALE_DOWN_DISABLED]: 'true',
  };
  await record(context, stepPatch('cordoned', annotations), true);
  const labels = run.options.preRebootLabels;
  if (labels && Object.keys(labels).length) await labelNode(run.kube, planned.name, labels);
}

async function drain(context: NodeContext): Promise<void> {
  const { run, planned, report } = context;
  step(context, 'drain');
  const startedMs = Date.now();
  let pods: EvictedPod[] = [];
  try {
    pods = await drainNode(run.kube, planned.name, run.options.drain, run.log);
  } catch (error) {
    if (!(error instanceof DrainError)) throw error;
    if (!(run.options.forceReboot && /timed out/.test(error.message)))
      throw new Error(error.message, { cause: error });
    run.log(`${error.message}; force-reboot is on: rebooting anyway`);
  }
  // The controllers of what was evicted, waited for after the reboot.
  const evicted = new Map<string, Workload>();
  for (const pod of pods)
    if (pod.owner)
      evicted.set(`${pod.namespace}/${pod.owner.kind}/${pod.owner.name}`, {
        namespace: pod.namespace,
        kind: pod.owner.kind,
        name: pod.owner.name,
      });
  report.timings.drain = Date.now() - startedMs;
  const workloads = JSON.stringify([...evicted.values()].slice(0, 100));
  await record(context, stepPatch('drained', { [ANN.evicted]: workloads }));
}

async function requestReboot(context: NodeContext): Promise<void> {
  const { run } = context;
  const { rebooter } = run.deps;
  const resumedAtRequest = context.progress.step === 'rebooting';
  if (!resumedAtRequest) {
    const delay = run.options.rebootDelaySeconds;
    if (delay > 0) {
      step(context, 'reboot delay', `${delay}s`);
      await sleep(delay * 1000);
    }
    await record(context, stepPatch('rebooting', { [ANN.rebootRequestedAt]: new Date().toISOString() }));
  }
  // Requesting is idempotent (one pod per plan and node): after a crash between recording
  // "rebooting" and the request, this makes the request; after one past it, it finds it.
  const issued = await rebooter.reboot({ node: context.node, planId: run.planId });
  if (issued === 'issued' && resumedAtRequest) {
    // An earlier run recorded the step but died before requesting: the reboot timeout
    // starts now, with the actual request.
    await record(context, { [ANN.rebootRequestedAt]: new Date().toISOString() });
  }
  const earlier = issued === 'already-issued' ? ', requested by an earlier run' : '';
  step(context, 'reboot', `${rebooter.rebootMethod}${earlier}`);
}

/** Until a new boot ID and Ready, else the node image upgrade; then the planned kernel is checked. */
async function waitForReboot(context: NodeContext): Promise<void> {
  const { run, planned, report } = context;
  const timeout = run.options.rebootTimeoutSeconds;
  // From the request, not from here: a method whose request blocks (a VMSS restart) is timed whole.
  const since = (context.progress.rebootRequestedAt ?? new Date()).getTime();
  step(context, 'wait for the node to come back', `new boot ID, Ready; timeout ${timeout}s`);
  const deadline = since + timeout * 1000;
  const back = await waitForBoot(run.kube, planned.name, context.bootBefore, deadline, waiting(context));
  if (!back.ok) await fallBack(context, back.reason);
  report.timings.reboot = Date.now() - since;
  const after = back.ok ? back.node : await run.kube.core.readNode({ name: planned.name });
  report.bootIdAfter = after.status?.nodeInfo?.bootID ?? '';
  report.kernelAfter = after.status?.nodeInfo?.kernelVersion ?? '';
  if (!back.ok) setImages(report, planned, after);
  await whenAnswered(context, 'remove the reboot request', () =>
    run.deps.rebooter.cleanup({ node: after, planId: run.planId }),
  );
  // After a fallback the node runs the new node image's kernel (the fallback verified the image).
  const { running, next } = planned.kernel;
  if (back.ok && next !== running && report.kernelAfter !== next) {
    throw new Error(
      `${planned.name} rebooted (boot ID ${report.bootIdAfter}) but runs kernel ${report.kernelAfter}, ` +
        `not the planned ${next}; it stays cordoned for a look`,
    );
  }
  await whenAnswered(context, 'record the step', () => record(context, stepPatch('rebooted')));
}

/** The node did not come back: the node image upgrade of its pool, when there is one. */
async function fallBack(context: NodeContext, why: string): Promise<void> {
  const { run, planned, report } = context;
  const reason = `${planned.name} did not come back: ${why}`;
  const upgrade = run.deps.nodeImageUpgrade;
  if (!upgrade) throw new Error(`${reason}; it stays cordoned`);
  step(context, 'fallback', `in-place reboot failed: ${why}`);
  let outcome: NodeImageResult;
  try {
    outcome = await upgrade.upgrade(planned, { reason, failedReboot: true, ...lockCheck(run) });
  } catch (error) {
    throw new Error(
      `${reason}; the node image upgrade fallback failed: ${errorText(error)}; it stays cordoned`,
      { cause: error },
    );
  }
  if (outcome.result !== 'handled')
    throw new Error(
      `${reason}; no fallback: ${outcome.detail ?? 'node image upgrade unavailable'}; it stays cordoned`,
    );
  report.outcome = 'reimaged';
  run.upgradedPools.set(planned.pool, planned.name);
  report.detail =
    `in-place reboot failed (${why}); ` +
    `fell back to ${outcome.detail ?? 'a node image upgrade of its pool'}`;
}

async function uncordon(context: NodeContext): Promise<void> {
  const { run, planned } = context;
  const ours = context.progress.cordonedByUs;
  const scaleDownBefore = context.node.metadata?.annotations?.[ANN.scaleDownBefore];
  step(context, 'uncordon', ours ? undefined : 'it was cordoned before the run: left cordoned');
  const annotations = stepPatch('uncordoned', { [SCALE_DOWN_DISABLED]: scaleDownBefore || null });
  await whenAnswered(context, 'uncordon', () => record(context, annotations, ours ? false : undefined));
  // kured sets post-reboot labels only after its own successful uncordon; so do we.
  const labels = run.options.postRebootLabels;
  if (context.progress.cordonedByUs && labels && Object.keys(labels).length)
    await whenAnswered(context, 'label', () => labelNode(run.kube, planned.name, labels));
}

/** Evicted workloads available again, then the watched soak; then the node is done. */
async function settle(context: NodeContext): Promise<void> {
  const { run, planned, report } = context;
  const { workloadTimeoutSeconds, soakSeconds } = run.options;
  await untilSchedulable(context);
  const evicted = context.progress.evicted;
  if (evicted.length && workloadTimeoutSeconds > 0) {
    step(context, 'wait for evicted workloads', evicted.map((w) => `${w.namespace}/${w.name}`).join(', '));
    const startedMs = Date.now();
    const deadline = startedMs + workloadTimeoutSeconds * 1000;
    const available = await waitForWorkloads(run.kube, evicted, deadline, waiting(context));
    report.timings.workloads = Date.now() - startedMs;
    if (!available.ok)
      throw new Error(
        `after ${planned.name}: ${available.reason}; not starting another node while they are unavailable`,
      );
  }
  if (soakSeconds > 0) {
    step(context, 'soak', `${soakSeconds}s, watching that it stays Ready`);
    const startedMs = Date.now();
    const health = () => run.health(planned.name);
    const soak = await watchSoak(run.kube, planned.name, startedMs + soakSeconds * 1000, health);
    report.timings.soak = Date.now() - startedMs;
    if (!soak.ok) throw new Error(soak.reason);
  }
  const done = clearProgress({ planId: run.planId });
  await whenAnswered(context, 'record the step', () => record(context, done));
}

/** The controller's not-ready and unschedulable taints lifted: the node takes pods again. */
async function untilSchedulable(context: NodeContext): Promise<void> {
  const { run, planned } = context;
  const deadline = Date.now() + SCHEDULABLE_TIMEOUT_MS;
  const lifted = await waitForSchedulable(run.kube, planned.name, deadline, waiting(context));
  if (!lifted.ok)
    throw new Error(
      `after ${planned.name}: ${lifted.reason} ${SCHEDULABLE_TIMEOUT_MS / 60_000} minutes after its ` +
        'uncordon; not starting another node while it takes no pods',
    );
}

async function labelNode(kube: KubeClients, node: string, labels: Record<string, string>): Promise<void> {
  try {
    await kube.core.patchNode({ name: node, body: { metadata: { labels } } }, MERGE_PATCH);
  } catch (error) {
    throw explainApiError(error, 'patch', `nodes/${node} (labels)`, kube.server);
  }
}

export function setImages(report: NodeReport, planned: PlanNode, after: k8s.V1Node): void {
  report.nodeImageBefore = planned.nodeImageVersion;
  report.nodeImageAfter = after.metadata?.labels?.[NODE_IMAGE_LABEL] ?? '';
}
