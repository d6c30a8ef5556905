// Executes an approved plan: one node at a time, each step recorded on the node before the
// next starts, so a killed run started again continues where it stopped and reboots every
// node exactly once. Per node: re-verify against the plan -> cluster health (a node this plan
// rebooted NotReady again fails the run; another node unavailable since the plan pauses it) ->
// gates -> cordon -> drain -> reboot -> wait for a new boot ID and Ready (and the planned
// kernel), riding out an API server that is away meanwhile (its own node rebooting) -> uncordon
// (only if we cordoned) -> evicted workloads available -> soak, watched (the node must stay
// Ready). The first failure stops the run; no second node is touched after it, and any node
// left cordoned by us is named.
import * as k8s from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { MERGE_PATCH, explainApiError, type KubeClients } from '../kube/client.ts';
import { listAll } from '../cluster/snapshot.ts';
import type { Plan, PlanNode } from '../plan/types.ts';
import { checkBudgetOverlap, drainNode, DrainError, type DrainSettings } from '../drain/drain.ts';
import type { Rebooter } from '../reboot/types.ts';
import type { Gate } from '../gates/types.ts';
import { runProbes, type ProbeOptions } from '../detect/probe.ts';
import { ANN, NODE_IMAGE_LABEL, SCALE_DOWN_DISABLED } from '../kube/labels.ts';
import { clearProgress, patchNode, readProgress, stepPatch, type Workload } from './progress.ts';
import { untilAnswered, waitForBoot, waitForWorkloads, watchSoak } from './wait.ts';
import { checkHealth, type Health } from './health.ts';
import { PendingTaints } from './taints.ts';
import { recordDurations } from '../estimate/history.ts';

/** reimaged: patched by a node image upgrade of its pool (planned, or the fallback of a failed reboot). */
export type NodeOutcome = 'rebooted' | 'reimaged' | 'already-done' | 'skipped' | 'failed' | 'not-started';
export type RunState = 'completed' | 'paused' | 'cancelled' | 'stale' | 'failed';

export interface NodeReport {
  name: string;
  outcome: NodeOutcome;
  kernelBefore: string;
  kernelAfter?: string;
  /** Reimaged nodes: the node image before and after (AKS's node-image-version label). */
  nodeImageBefore?: string;
  nodeImageAfter?: string;
  bootIdBefore: string;
  bootIdAfter?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Milliseconds per phase: drain, reboot (request to Ready), workloads, soak; total from re-verification to done. */
  timings: Partial<Record<'drain' | 'reboot' | 'workloads' | 'soak' | 'total', number>>;
  detail?: string;
}

export interface ExecutionResult {
  planId: string;
  state: RunState;
  message: string;
  nodes: NodeReport[];
  /** Nodes this run (or an earlier run of the plan) cordoned and left cordoned. */
  leftCordoned: string[];
}

export interface ExecuteSettings {
  drain: DrainSettings;
  rebootTimeoutSeconds: number;
  rebootDelaySeconds: number;
  workloadTimeoutSeconds: number;
  soakSeconds: number;
  maxNodes: number;
  preRebootLabels?: Record<string, string>;
  postRebootLabels?: Record<string, string>;
  /** Reboot even when the drain timed out (kured's --force-reboot). */
  forceReboot?: boolean;
  /** Re-probe each node before touching it (is the reboot still needed?). */
  reprobe?: ProbeOptions;
  /** PreferNoSchedule taints on the nodes still pending, so pods move once (default on). */
  preferNoScheduleTaint?: boolean;
}

/** Progress events for live reporting (GitHub body, terminal, chat). */
export type ExecEvent =
  | { type: 'node-start'; node: string; order: number }
  | { type: 'step'; node: string; step: string; detail?: string }
  | { type: 'node-end'; report: NodeReport }
  | { type: 'waiting'; node: string; what: string; sinceMs: number };

export type Interruption = { action: 'pause' | 'cancel' | 'skip'; reason: string };

/**
 * What a fallback did: 'handled' (the node's pool got a new node image), 'up-to-date' (nothing
 * newer to install: nothing done), 'unavailable' (cannot be done here); with a line for the report.
 */
export type FallbackResult =
  'handled' | 'unavailable' | { result: 'handled' | 'unavailable' | 'up-to-date'; detail: string };

export interface FallbackContext {
  /** True when called because the node's in-place reboot failed (it did not come back). */
  failedReboot: boolean;
  /** Throws when the run lock was lost; long waits call it between polls. */
  checkLock?: () => void;
}

function fallbackOutcome(r: FallbackResult): {
  result: 'handled' | 'unavailable' | 'up-to-date';
  detail?: string;
} {
  return typeof r === 'string' ? { result: r } : r;
}

export interface ExecuteDeps {
  clients: KubeClients;
  rebooter: Rebooter;
  gates: Gate[];
  /** Called for node-image-upgrade nodes and as the fallback when an in-place reboot fails. */
  fallback?: (node: PlanNode, reason: string, ctx?: FallbackContext) => Promise<FallbackResult>;
  onEvent?: (e: ExecEvent) => void;
  log?: (line: string) => void;
  /** Checked before every step: throws when the run lock was lost. */
  checkLock?: () => void;
  /** Asked before each node is started: a pause, cancel or skip requested meanwhile (GitHub comments). */
  interrupt?: (node: string) => Promise<Interruption | undefined>;
  now?: () => Date;
}

class Stop extends Error {
  readonly state: RunState;
  constructor(state: RunState, message: string) {
    super(message);
    this.state = state;
  }
}

export async function executePlan(
  plan: Plan,
  planId: string,
  s: ExecuteSettings,
  d: ExecuteDeps,
): Promise<ExecutionResult> {
  const c = d.clients;
  const log = d.log ?? (() => undefined);
  const emit = d.onEvent ?? (() => undefined);
  const now = d.now ?? (() => new Date());
  const reports: NodeReport[] = plan.nodes.map((n) => ({
    name: n.name,
    outcome: 'not-started',
    kernelBefore: n.kernel.running,
    bootIdBefore: n.bootID,
    timings: {},
  }));
  let state: RunState = 'completed';
  let message = '';
  let done = 0;
  // Pools whose node image this run upgraded (the fallback of a failed reboot): their other
  // nodes were reimaged with it and are not rebooted again.
  const upgradedPools = new Map<string, string>();
  const ctx = {
    upgradedPools,
    health: (current: string) =>
      checkHealth(c, { plan, planId, current, rebootedThisRun: rebootedIn(reports) }),
  };
  const taints = s.preferNoScheduleTaint === false ? undefined : new PendingTaints(c, plan, planId, log);
  await taints?.start(planId);

  for (const [i, n] of plan.nodes.entries()) {
    const report = reports[i]!;
    // A node's time starts with its re-verification, so the total includes all of our own work.
    const nodeStart = Date.now();
    try {
      d.checkLock?.();
      const node = await readNode(c, n.name);
      if (!node) throw new Stop('stale', `plan is stale: node ${n.name} no longer exists`);
      const p = readProgress(node);
      const resuming = p.planId === planId && p.step !== undefined;
      if (resuming && p.step === 'done') {
        report.outcome = 'already-done';
        report.detail = 'done by an earlier run of this plan';
        continue;
      }
      if (!resuming) {
        const stop = await d.interrupt?.(n.name);
        if (stop?.action === 'skip') {
          report.outcome = 'skipped';
          report.detail = stop.reason;
          emit({ type: 'node-end', report });
          continue;
        }
        if (stop) throw new Stop(stop.action === 'pause' ? 'paused' : 'cancelled', stop.reason);
        const health = await ctx.health(n.name);
        if (!health.ok) throw new Stop(health.state, health.reason);
      }
      const upgradedFor = upgradedPools.get(n.pool);
      if (upgradedFor !== undefined && !resuming) {
        const live = node.status?.nodeInfo;
        if (live?.bootID !== n.bootID && isReadyNode(node)) {
          report.outcome = 'reimaged';
          report.bootIdAfter = live?.bootID ?? '';
          report.kernelAfter = live?.kernelVersion ?? '';
          setImages(report, n, node);
          report.detail = `reimaged by the node image upgrade of pool ${n.pool} in this run (the fallback for ${upgradedFor}); not rebooted again`;
          emit({ type: 'node-end', report });
          continue;
        }
      }
      if (n.method === 'node-image-upgrade') {
        if (!resuming) {
          for (const g of d.gates) {
            const r = await g.check({ node, now: now(), done });
            if (!r.open) throw new Stop('paused', `${g.name}: ${r.reason}`);
          }
        }
        const t = Date.now();
        report.startedAt = new Date(t).toISOString();
        const r = fallbackOutcome(
          d.fallback
            ? await d.fallback(n, 'planned node image upgrade', {
                failedReboot: false,
                ...(d.checkLock ? { checkLock: d.checkLock } : {}),
              })
            : 'unavailable',
        );
        report.outcome = r.result === 'handled' ? 'reimaged' : 'skipped';
        report.detail =
          r.detail ??
          (r.result === 'handled'
            ? 'node image upgraded'
            : 'node image upgrade needs the AKS integration, which is not configured');
        if (r.result === 'handled') {
          const after = await readNode(c, n.name);
          report.bootIdAfter = after?.status?.nodeInfo?.bootID ?? '';
          report.kernelAfter = after?.status?.nodeInfo?.kernelVersion ?? '';
          if (after) setImages(report, n, after);
          report.timings = { reboot: Date.now() - t, total: Date.now() - nodeStart };
          report.finishedAt = new Date().toISOString();
          done++;
        }
        emit({ type: 'node-end', report });
        continue;
      }
      if (!resuming) {
        if (s.maxNodes > 0 && done >= s.maxNodes)
          throw new Stop(
            'paused',
            `max-nodes reached: ${done} node(s) patched in this run; the next run continues`,
          );
        const stale = staleness(n, node);
        if (stale) throw new Stop('stale', `plan is stale: ${stale}`);
        if (s.reprobe) {
          const outcome = (await runProbes(c, [n.name], s.reprobe, log)).get(n.name);
          if (!outcome?.ok)
            throw new Stop(
              'failed',
              `cannot confirm ${n.name} still needs a reboot: ${outcome && !outcome.ok ? outcome.reason : 'no probe result'}`,
            );
          const r = outcome.result;
          if (
            !r.sentinel.present &&
            n.evidence.some((e) => e.source === 'sentinel' || e.source === 'sentinel-command')
          ) {
            report.outcome = 'skipped';
            report.detail = 'no longer needs a reboot (the sentinel is gone)';
            emit({ type: 'node-end', report });
            continue;
          }
        }
        for (const g of d.gates) {
          const r = await g.check({ node, now: now(), done });
          if (!r.open) throw new Stop('paused', `${g.name}: ${r.reason}`);
        }
        // A method that cannot reboot this node at all fails before the node is touched.
        await d.rebooter.preflight?.(node);
        // A pod under two budgets can never be evicted: refused before the node is cordoned.
        await checkBudgetOverlap(c, n.name, s.drain).catch((e: unknown) => {
          throw e instanceof DrainError ? new Stop('failed', `${n.name}: ${e.message}`) : e;
        });
      }
      emit({ type: 'node-start', node: n.name, order: n.order });
      await processNode(c, n, node, planId, s, d, report, log, emit, nodeStart, ctx);
      done++;
    } catch (e) {
      if (e instanceof Stop) {
        state = e.state;
        message = e.message;
      } else {
        state = 'failed';
        message = `${n.name}: ${e instanceof Error ? e.message : String(e)}`;
        report.outcome = 'failed';
        report.detail = message;
        await patchNode(c, n.name, { [ANN.error]: message.slice(0, 1000) }).catch(() => undefined);
        emit({ type: 'node-end', report });
      }
      log(`run stops: ${message}`);
      break;
    } finally {
      if (report.outcome !== 'not-started' && report.outcome !== 'failed')
        await taints?.release(n.name).catch(() => undefined);
      // The next plan's estimate: how long this node took (rebooted in place, whole).
      if (report.outcome === 'rebooted' && report.timings.total !== undefined)
        await recordDurations(c, n.name, report.timings).catch(() => undefined);
    }
  }
  await taints?.finish();
  if (state === 'completed') {
    const count = (o: NodeOutcome) => reports.filter((r) => r.outcome === o).length;
    const reimaged = count('reimaged') ? `${count('reimaged')} reimaged, ` : '';
    message = `${count('rebooted')} rebooted, ${reimaged}${count('already-done')} done earlier, ${count('skipped')} skipped, of ${plan.nodes.length} planned`;
  }
  const leftCordoned = await cordonedByUs(c, plan);
  return { planId, state, message, nodes: reports, leftCordoned };
}

function setImages(report: NodeReport, n: PlanNode, after: k8s.V1Node): void {
  report.nodeImageBefore = n.nodeImageVersion;
  report.nodeImageAfter = after.metadata?.labels?.[NODE_IMAGE_LABEL] ?? '';
}

function rebootedIn(reports: NodeReport[]): Set<string> {
  // "or upgraded": a reimaged node was patched by this run as much as a rebooted one.
  return new Set(
    reports.filter((r) => r.outcome === 'rebooted' || r.outcome === 'reimaged').map((r) => r.name),
  );
}

function isReadyNode(n: k8s.V1Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

async function readNode(c: KubeClients, name: string): Promise<k8s.V1Node | undefined> {
  try {
    return await c.core.readNode({ name });
  } catch (e) {
    if (e instanceof k8s.ApiException && e.code === 404) return undefined;
    throw explainApiError(e, 'get', `nodes/${name}`, c.server);
  }
}

/** Why the live node no longer matches what was approved, or undefined. */
export function staleness(n: PlanNode, node: k8s.V1Node): string | undefined {
  const info = node.status?.nodeInfo;
  if ((node.spec?.providerID ?? '') !== n.providerID)
    return `${n.name} has provider ID ${node.spec?.providerID || '(none)'}, the plan has ${n.providerID || '(none)'} (the machine was replaced)`;
  if (info?.bootID !== n.bootID)
    return `${n.name} booted since the plan was made (boot ID ${info?.bootID} is not ${n.bootID})`;
  if (info?.kernelVersion !== n.kernel.running)
    return `${n.name} runs kernel ${info?.kernelVersion}, the plan expected ${n.kernel.running}`;
  return undefined;
}

async function processNode(
  c: KubeClients,
  n: PlanNode,
  node: k8s.V1Node,
  planId: string,
  s: ExecuteSettings,
  d: ExecuteDeps,
  report: NodeReport,
  log: (l: string) => void,
  emit: (e: ExecEvent) => void,
  t0: number,
  ctx: { upgradedPools: Map<string, string>; health: (current: string) => Promise<Health> },
): Promise<void> {
  const health = () => ctx.health(n.name);
  const waiting = (what: string, sinceMs: number) => {
    emit({ type: 'waiting', node: n.name, what, sinceMs });
    log(`waiting (${Math.round(sinceMs / 1000)}s): ${what}`);
  };
  // After the reboot request the API server may be away (its own node rebooting): calls are
  // repeated while it does not answer, each for up to reboot-timeout.
  const api = <T>(what: string, fn: () => Promise<T>) =>
    untilAnswered(`${n.name}: ${what}`, fn, Date.now() + s.rebootTimeoutSeconds * 1000, waiting);
  report.startedAt = new Date().toISOString();
  let p = readProgress(node);
  const fresh = p.planId !== planId || !p.step;
  const step = (name: string, detail?: string) => {
    d.checkLock?.();
    log(`${n.name}: ${name}${detail ? ` (${detail})` : ''}`);
    emit({ type: 'step', node: n.name, step: name, ...(detail ? { detail } : {}) });
  };

  if (fresh) {
    // Record first, then act: a crash between the two leaves a record that says "maybe".
    // Cordoned by an earlier, unfinished run of ours (another plan) is not "cordoned before".
    const oursBefore = node.metadata?.annotations?.[ANN.cordonedByUs] === 'true';
    const wasUnschedulable = node.spec?.unschedulable === true && !oursBefore;
    const scaleDownBefore = node.metadata?.annotations?.[SCALE_DOWN_DISABLED];
    step('cordon', wasUnschedulable ? 'already cordoned before this run: it stays cordoned' : undefined);
    node = await patchNode(
      c,
      n.name,
      stepPatch('cordoned', {
        [ANN.planId]: planId,
        [ANN.cordonedByUs]: String(!wasUnschedulable),
        [ANN.bootIdBefore]: n.bootID,
        [ANN.kernelBefore]: n.kernel.running,
        [ANN.scaleDownBefore]: scaleDownBefore ?? '',
        [ANN.error]: null,
        [SCALE_DOWN_DISABLED]: 'true',
      }),
      true,
    );
    p = readProgress(node);
    if (s.preRebootLabels && Object.keys(s.preRebootLabels).length)
      await labelNode(c, n.name, s.preRebootLabels);
  }
  const bootBefore = p.bootIdBefore ?? n.bootID;
  const rebootedAlready = () => node.status?.nodeInfo?.bootID !== bootBefore;

  if (p.step === 'cordoned' && !rebootedAlready()) {
    step('drain');
    const t = Date.now();
    let pods: Awaited<ReturnType<typeof drainNode>> = [];
    try {
      pods = await drainNode(c, n.name, s.drain, log);
    } catch (e) {
      if (!(e instanceof DrainError)) throw e;
      if (!(s.forceReboot && /timed out/.test(e.message))) throw new Error(e.message);
      log(`${e.message}; force-reboot is on: rebooting anyway`);
    }
    // The controllers of what was evicted, waited for after the reboot.
    const evicted = new Map<string, Workload>();
    for (const e of pods)
      if (e.owner)
        evicted.set(`${e.namespace}/${e.owner.kind}/${e.owner.name}`, {
          namespace: e.namespace,
          kind: e.owner.kind,
          name: e.owner.name,
        });
    report.timings.drain = Date.now() - t;
    node = await patchNode(
      c,
      n.name,
      stepPatch('drained', { [ANN.evicted]: JSON.stringify([...evicted.values()].slice(0, 100)) }),
    );
    p = readProgress(node);
  }

  if ((p.step === 'cordoned' || p.step === 'drained' || p.step === 'rebooting') && !rebootedAlready()) {
    const resumedAtRequest = p.step === 'rebooting';
    if (!resumedAtRequest) {
      if (s.rebootDelaySeconds > 0) {
        step('reboot delay', `${s.rebootDelaySeconds}s`);
        await sleep(s.rebootDelaySeconds * 1000);
      }
      node = await patchNode(
        c,
        n.name,
        stepPatch('rebooting', { [ANN.rebootRequestedAt]: new Date().toISOString() }),
      );
      p = readProgress(node);
    }
    // Requesting is idempotent (one pod per plan and node): after a crash between recording
    // "rebooting" and the request, this makes the request; after one past it, it finds it.
    const r = await d.rebooter.reboot({ node, planId });
    if (r === 'issued' && resumedAtRequest) {
      // An earlier run recorded the step but died before requesting: the reboot timeout
      // starts now, with the actual request.
      node = await patchNode(c, n.name, { [ANN.rebootRequestedAt]: new Date().toISOString() });
      p = readProgress(node);
    }
    step('reboot', `${d.rebooter.method}${r === 'already-issued' ? ', requested by an earlier run' : ''}`);
  }

  if (p.step === 'cordoned' || p.step === 'drained' || p.step === 'rebooting') {
    const since = p.rebootRequestedAt ?? new Date();
    const deadline = since.getTime() + s.rebootTimeoutSeconds * 1000;
    step('wait for the node to come back', `new boot ID, Ready; timeout ${s.rebootTimeoutSeconds}s`);
    // From the request, not from here: a method whose request blocks (a VMSS restart) is timed whole.
    const t = since.getTime();
    const back = await waitForBoot(c, n.name, bootBefore, deadline, waiting);
    let fellBack = false;
    if (!back.ok) {
      const reason = `${n.name} did not come back: ${back.reason}`;
      if (!d.fallback) throw new Error(`${reason}; it stays cordoned`);
      step('fallback', `in-place reboot failed: ${back.reason}`);
      let r: ReturnType<typeof fallbackOutcome>;
      try {
        r = fallbackOutcome(
          await d.fallback(n, reason, {
            failedReboot: true,
            ...(d.checkLock ? { checkLock: d.checkLock } : {}),
          }),
        );
      } catch (e) {
        throw new Error(
          `${reason}; the node image upgrade fallback failed: ${e instanceof Error ? e.message : String(e)}; it stays cordoned`,
        );
      }
      if (r.result !== 'handled')
        throw new Error(
          `${reason}; no fallback: ${r.detail ?? 'node image upgrade unavailable'}; it stays cordoned`,
        );
      fellBack = true;
      report.outcome = 'reimaged';
      ctx.upgradedPools.set(n.pool, n.name);
      report.detail = `in-place reboot failed (${back.reason}); fell back to ${r.detail ?? 'a node image upgrade of its pool'}`;
    }
    report.timings.reboot = Date.now() - t;
    const after = back.ok ? back.node : await c.core.readNode({ name: n.name });
    report.bootIdAfter = after.status?.nodeInfo?.bootID ?? '';
    report.kernelAfter = after.status?.nodeInfo?.kernelVersion ?? '';
    if (fellBack) setImages(report, n, after);
    await api('remove the reboot request', () => d.rebooter.cleanup({ node: after, planId }));
    // After a fallback the node runs the new node image's kernel (the fallback verified the image).
    if (!fellBack && n.kernel.next !== n.kernel.running && report.kernelAfter !== n.kernel.next) {
      throw new Error(
        `${n.name} rebooted (boot ID ${report.bootIdAfter}) but runs kernel ${report.kernelAfter}, not the planned ${n.kernel.next}; it stays cordoned for a look`,
      );
    }
    node = await api('record the step', () => patchNode(c, n.name, stepPatch('rebooted')));
    p = readProgress(node);
  }

  if (p.step === 'rebooted') {
    const scaleDownBefore = node.metadata?.annotations?.[ANN.scaleDownBefore];
    step('uncordon', p.cordonedByUs ? undefined : 'it was cordoned before the run: left cordoned');
    const uncordon = stepPatch('uncordoned', { [SCALE_DOWN_DISABLED]: scaleDownBefore || null });
    node = await api('uncordon', () => patchNode(c, n.name, uncordon, p.cordonedByUs ? false : undefined));
    p = readProgress(node);
    // kured sets post-reboot labels only after its own successful uncordon; so do we.
    const labels = s.postRebootLabels;
    if (p.cordonedByUs && labels && Object.keys(labels).length) {
      await api('label', () => labelNode(c, n.name, labels));
    }
  }

  if (p.step === 'uncordoned') {
    if (p.evicted.length && s.workloadTimeoutSeconds > 0) {
      step('wait for evicted workloads', p.evicted.map((w) => `${w.namespace}/${w.name}`).join(', '));
      const t = Date.now();
      const ok = await waitForWorkloads(c, p.evicted, Date.now() + s.workloadTimeoutSeconds * 1000, waiting);
      report.timings.workloads = Date.now() - t;
      if (!ok.ok)
        throw new Error(
          `after ${n.name}: ${ok.reason}; not starting another node while they are unavailable`,
        );
    }
    if (s.soakSeconds > 0) {
      step('soak', `${s.soakSeconds}s, watching that it stays Ready`);
      const t = Date.now();
      const soak = await watchSoak(c, n.name, Date.now() + s.soakSeconds * 1000, health);
      report.timings.soak = Date.now() - t;
      if (!soak.ok) throw new Error(soak.reason);
    }
    node = await api('record the step', () => patchNode(c, n.name, clearProgress({ planId })));
  }
  // A fallback's node image upgrade reimaged it (set above); else it was rebooted in place.
  if (report.outcome !== 'reimaged') report.outcome = 'rebooted';
  if (!report.kernelAfter) report.kernelAfter = node.status?.nodeInfo?.kernelVersion ?? '';
  if (!report.bootIdAfter) report.bootIdAfter = node.status?.nodeInfo?.bootID ?? '';
  report.finishedAt = new Date().toISOString();
  report.timings.total = Date.now() - t0;
  emit({ type: 'node-end', report });
}

async function labelNode(c: KubeClients, node: string, labels: Record<string, string>): Promise<void> {
  try {
    await c.core.patchNode({ name: node, body: { metadata: { labels } } }, MERGE_PATCH);
  } catch (e) {
    throw explainApiError(e, 'patch', `nodes/${node} (labels)`, c.server);
  }
}

/** Nodes of this plan that we cordoned and that are still cordoned. */
export async function cordonedByUs(c: KubeClients, plan: Plan): Promise<string[]> {
  const names = new Set(plan.nodes.map((n) => n.name));
  const nodes = await listAll((page) => c.core.listNode(page)).catch(() => [] as k8s.V1Node[]);
  return nodes
    .filter(
      (n) =>
        names.has(n.metadata!.name!) &&
        n.spec?.unschedulable &&
        n.metadata?.annotations?.[ANN.cordonedByUs] === 'true',
    )
    .map((n) => n.metadata!.name!)
    .sort();
}
