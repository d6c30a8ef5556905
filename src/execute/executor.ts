// Executes an approved plan: one node at a time, each step recorded on the node before the
// next starts, so a killed run started again continues where it stopped and reboots every
// node exactly once. Per node: re-verify against the plan -> cluster health (a node this plan
// rebooted NotReady again fails the run; another node unavailable since the plan pauses it) ->
// gates -> cordon -> drain -> reboot -> wait for a new boot ID and Ready (and the planned
// kernel), riding out an API server that is away meanwhile (its own node rebooting) -> uncordon
// (only if we cordoned) -> evicted workloads available -> soak, watched (the node must stay
// Ready). The first failure stops the run; no second node is touched after it, and any node
// left cordoned by us is named. The steps of one node are in src/execute/steps.ts.
import * as k8s from '@kubernetes/client-node';
import { explainApiError, type KubeClients } from '../kube/client.ts';
import { listAll } from '../cluster/snapshot.ts';
import { isReady } from '../cluster/node.ts';
import type { Plan, PlanNode } from '../plan/types.ts';
import { checkBudgetOverlap, DrainError } from '../drain/drain.ts';
import { runProbes, type ProbeOptions } from '../detect/probe.ts';
import { ANN } from '../kube/labels.ts';
import { patchNode, readProgress } from './progress.ts';
import { checkHealth } from './health.ts';
import { PendingTaints } from './taints.ts';
import { durationsAnnotation } from '../estimate/history.ts';
import { rebootNode, setImages } from './steps.ts';
import { Stop, errorText, lockCheck, type ExecuteDeps, type ExecutorOptions, type Run } from './context.ts';
import type { ExecutionResult, NodeOutcome, NodeReport, RunState } from './types.ts';

export async function executePlan(
  plan: Plan,
  planId: string,
  options: ExecutorOptions,
  deps: ExecuteDeps,
): Promise<ExecutionResult> {
  const run = startRun(plan, planId, options, deps);
  const taints =
    options.preferNoScheduleTaint === false ? undefined : new PendingTaints(run.kube, plan, planId, run.log);
  await taints?.start(planId);
  let ending: { state: RunState; message: string } | undefined;
  for (const [index, planned] of plan.nodes.entries()) {
    const report = run.reports[index]!;
    try {
      await executeNode(run, planned, report);
    } catch (error) {
      ending = await stopRun(run, planned, report, error);
      run.log(`run stops: ${ending.message}`);
      break;
    } finally {
      await afterNode(run, planned, report, taints);
    }
  }
  await taints?.finish();
  const leftCordoned = await cordonedByUs(run.kube, plan);
  const state = ending?.state ?? 'completed';
  const message = ending?.message ?? summary(run.reports);
  return { planId, state, message, nodes: run.reports, leftCordoned };
}

function startRun(plan: Plan, planId: string, options: ExecutorOptions, deps: ExecuteDeps): Run {
  const reports: NodeReport[] = plan.nodes.map((planned) => ({
    name: planned.name,
    outcome: 'not-started',
    kernelBefore: planned.kernel.running,
    bootIdBefore: planned.bootID,
    timings: {},
  }));
  const kube = deps.kube;
  return {
    plan,
    planId,
    options,
    deps,
    kube,
    log: deps.log ?? (() => undefined),
    emit: deps.onEvent ?? (() => undefined),
    now: deps.now ?? (() => new Date()),
    reports,
    patched: 0,
    upgradedPools: new Map(),
    health: (current) => checkHealth(kube, { plan, planId, current, rebootedThisRun: rebootedIn(reports) }),
  };
}

/** One node of the plan, from its re-verification to done (or the reason the run stops). */
async function executeNode(run: Run, planned: PlanNode, report: NodeReport): Promise<void> {
  // A node's time starts with its re-verification, so the total includes all of our own work.
  const startedMs = Date.now();
  run.deps.checkLock?.();
  const node = await readNode(run.kube, planned.name);
  if (!node) throw new Stop('stale', `plan is stale: node ${planned.name} no longer exists`);
  const progress = readProgress(node);
  const resuming = progress.planId === run.planId && progress.step !== undefined;
  if (resuming && progress.step === 'done') {
    report.outcome = 'already-done';
    report.detail = 'done by an earlier run of this plan';
    return;
  }
  if (!resuming) {
    if (await interrupted(run, planned, report)) return;
    const health = await run.health(planned.name);
    if (!health.ok) throw new Stop(health.state, health.reason);
    if (reimagedWithPool(run, planned, node, report)) return;
  }
  if (planned.update === 'node-image-upgrade') {
    if (!resuming) await checkGates(run, node);
    await upgradeNodeImage(run, planned, report, startedMs);
    return;
  }
  if (!resuming && !(await readyToStart(run, planned, node, report))) return;
  run.emit({ type: 'node-start', node: planned.name, order: planned.order });
  await rebootNode({ run, planned, report, startedMs, node });
  run.patched++;
}

/** A pause or cancel requested meanwhile stops the run; a skip skips the node (true). */
async function interrupted(run: Run, planned: PlanNode, report: NodeReport): Promise<boolean> {
  const stop = await run.deps.interrupt?.(planned.name);
  if (!stop) return false;
  if (stop.action !== 'skip') throw new Stop(stop.action === 'pause' ? 'paused' : 'cancelled', stop.reason);
  report.outcome = 'skipped';
  report.detail = stop.reason;
  run.emit({ type: 'node-end', report });
  return true;
}

/** True when the node image upgrade of its pool, earlier in this run, already reimaged the node. */
function reimagedWithPool(run: Run, planned: PlanNode, node: k8s.V1Node, report: NodeReport): boolean {
  const upgradedFor = run.upgradedPools.get(planned.pool);
  const live = node.status?.nodeInfo;
  if (upgradedFor === undefined || live?.bootID === planned.bootID || !isReady(node)) return false;
  report.outcome = 'reimaged';
  report.bootIdAfter = live?.bootID ?? '';
  report.kernelAfter = live?.kernelVersion ?? '';
  setImages(report, planned, node);
  report.detail =
    `reimaged by the node image upgrade of pool ${planned.pool} in this run ` +
    `(the fallback for ${upgradedFor}); not rebooted again`;
  run.emit({ type: 'node-end', report });
  return true;
}

/** Every gate must be open before a node is started; a closed one pauses the run. */
async function checkGates(run: Run, node: k8s.V1Node): Promise<void> {
  for (const gate of run.deps.gates) {
    const verdict = await gate.check({ node, now: run.now(), done: run.patched });
    if (!verdict.open) throw new Stop('paused', `${gate.name}: ${verdict.reason}`);
  }
}

/** A planned node image upgrade of the node's pool (AKS). */
async function upgradeNodeImage(
  run: Run,
  planned: PlanNode,
  report: NodeReport,
  startedMs: number,
): Promise<void> {
  const requestedMs = Date.now();
  report.startedAt = new Date(requestedMs).toISOString();
  const upgrade = run.deps.nodeImageUpgrade;
  const request = { reason: 'planned node image upgrade', failedReboot: false, ...lockCheck(run) };
  const outcome = upgrade ? await upgrade.upgrade(planned, request) : { result: 'unavailable' as const };
  const handled = outcome.result === 'handled';
  report.outcome = handled ? 'reimaged' : 'skipped';
  report.detail =
    outcome.detail ??
    (handled
      ? 'node image upgraded'
      : 'node image upgrade needs the AKS integration, which is not configured');
  if (handled) {
    const after = await readNode(run.kube, planned.name);
    report.bootIdAfter = after?.status?.nodeInfo?.bootID ?? '';
    report.kernelAfter = after?.status?.nodeInfo?.kernelVersion ?? '';
    if (after) setImages(report, planned, after);
    report.timings = { reboot: Date.now() - requestedMs, total: Date.now() - startedMs };
    report.finishedAt = new Date().toISOString();
    run.patched++;
  }
  run.emit({ type: 'node-end', report });
}

/**
 * Before a node is touched: within max-nodes, unchanged since the plan, still in need of its
 * reboot (false: skipped, it no longer is), the gates open, the rebooter able to reboot it, and
 * no pod under two budgets.
 */
async function readyToStart(
  run: Run,
  planned: PlanNode,
  node: k8s.V1Node,
  report: NodeReport,
): Promise<boolean> {
  const { maxNodes, reprobe, drain } = run.options;
  if (maxNodes > 0 && run.patched >= maxNodes)
    throw new Stop(
      'paused',
      `max-nodes reached: ${run.patched} node(s) patched in this run; the next run continues`,
    );
  const stale = staleness(planned, node);
  if (stale) throw new Stop('stale', `plan is stale: ${stale}`);
  if (reprobe && !(await stillNeedsReboot(run, planned, reprobe))) {
    report.outcome = 'skipped';
    report.detail = 'no longer needs a reboot (the sentinel is gone)';
    run.emit({ type: 'node-end', report });
    return false;
  }
  await checkGates(run, node);
  // A method that cannot reboot this node at all fails before the node is touched.
  await run.deps.rebooter.preflight?.(node);
  // A pod under two budgets can never be evicted: refused before the node is cordoned.
  await checkBudgetOverlap(run.kube, planned.name, drain).catch((error: unknown) => {
    throw error instanceof DrainError ? new Stop('failed', `${planned.name}: ${error.message}`) : error;
  });
  return true;
}

/** Re-probes the node: false when the sentinel its plan relied on is gone. */
async function stillNeedsReboot(run: Run, planned: PlanNode, reprobe: ProbeOptions): Promise<boolean> {
  const outcome = (await runProbes(run.kube, [planned.name], reprobe, run.log)).get(planned.name);
  if (!outcome?.ok) {
    const why = outcome ? outcome.reason : 'no probe result';
    throw new Stop('failed', `cannot confirm ${planned.name} still needs a reboot: ${why}`);
  }
  const bySentinel = planned.evidence.some(
    (evidence) => evidence.source === 'sentinel' || evidence.source === 'sentinel-command',
  );
  return outcome.result.sentinel.present || !bySentinel;
}

/** Why the run stops after `error`; a failure is recorded on the node and reported. */
async function stopRun(
  run: Run,
  planned: PlanNode,
  report: NodeReport,
  error: unknown,
): Promise<{ state: RunState; message: string }> {
  if (error instanceof Stop) return { state: error.state, message: error.message };
  const message = `${planned.name}: ${errorText(error)}`;
  report.outcome = 'failed';
  report.detail = message;
  await patchNode(run.kube, planned.name, { [ANN.error]: message.slice(0, 1000) }).catch(() => undefined);
  run.emit({ type: 'node-end', report });
  return { state: 'failed', message };
}

/** Whatever the node's end: its taint goes once it is handled, and a reboot's times are kept. */
async function afterNode(
  run: Run,
  planned: PlanNode,
  report: NodeReport,
  taints: PendingTaints | undefined,
): Promise<void> {
  if (report.outcome !== 'not-started' && report.outcome !== 'failed')
    await taints?.release(planned.name).catch(() => undefined);
  // The next plan's estimate: how long this node took (rebooted in place, whole).
  if (report.outcome === 'rebooted' && report.timings.total !== undefined)
    await patchNode(run.kube, planned.name, durationsAnnotation(report.timings)).catch(() => undefined);
}

function summary(reports: NodeReport[]): string {
  const count = (outcome: NodeOutcome) => reports.filter((report) => report.outcome === outcome).length;
  const reimaged = count('reimaged') ? `${count('reimaged')} reimaged, ` : '';
  return (
    `${count('rebooted')} rebooted, ${reimaged}${count('already-done')} done earlier, ` +
    `${count('skipped')} skipped, of ${reports.length} planned`
  );
}

function rebootedIn(reports: NodeReport[]): Set<string> {
  // "or upgraded": a reimaged node was patched by this run as much as a rebooted one.
  const patched = reports.filter((report) => report.outcome === 'rebooted' || report.outcome === 'reimaged');
  return new Set(patched.map((report) => report.name));
}

async function readNode(kube: KubeClients, name: string): Promise<k8s.V1Node | undefined> {
  try {
    return await kube.core.readNode({ name });
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return undefined;
    throw explainApiError(error, 'get', `nodes/${name}`, kube.server);
  }
}

/** Why the live node no longer matches what was approved, or undefined. */
export function staleness(planned: PlanNode, node: k8s.V1Node): string | undefined {
  const info = node.status?.nodeInfo;
  const name = planned.name;
  const providerID = node.spec?.providerID ?? '';
  if (providerID !== planned.providerID)
    return (
      `${name} has provider ID ${providerID || '(none)'}, ` +
      `the plan has ${planned.providerID || '(none)'} (the machine was replaced)`
    );
  if (info?.bootID !== planned.bootID)
    return `${name} booted since the plan was made (boot ID ${info?.bootID} is not ${planned.bootID})`;
  if (info.kernelVersion !== planned.kernel.running)
    return `${name} runs kernel ${info.kernelVersion}, the plan expected ${planned.kernel.running}`;
  return undefined;
}

/** Nodes of this plan that we cordoned and that are still cordoned. */
export async function cordonedByUs(kube: KubeClients, plan: Plan): Promise<string[]> {
  const names = new Set(plan.nodes.map((planned) => planned.name));
  const nodes = await listAll((page) => kube.core.listNode(page)).catch(() => [] as k8s.V1Node[]);
  return nodes
    .filter(
      (node) =>
        names.has(node.metadata!.name!) &&
        node.spec?.unschedulable &&
        node.metadata?.annotations?.[ANN.cordonedByUs] === 'true',
    )
    .map((node) => node.metadata!.name!)
    .sort();
}
