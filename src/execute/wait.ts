// Waiting, with a report of what is awaited and for how long.
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { isTransient, type KubeClients } from '../kube/client.ts';
import type { Workload } from './progress.ts';
import { isReady } from '../cluster/node.ts';
import { CONDITION_TAINTS } from '../kube/labels.ts';

export type Waiting = (what: string, sinceMs: number) => void;

/** Until the node reports a boot ID other than `before` and is Ready, or the deadline. */
export async function waitForBoot(
  kube: KubeClients,
  name: string,
  before: string,
  deadline: number,
  waiting: Waiting,
): Promise<{ ok: true; node: k8s.V1Node } | { ok: false; reason: string }> {
  const start = Date.now();
  let last = 'no answer from the API server yet';
  let lastReport = 0;
  // Looked at least once: a run resumed after the deadline may find the node long back.
  for (let first = true; first || Date.now() < deadline; first = false) {
    try {
      const node = await kube.core.readNode({ name });
      const boot = node.status?.nodeInfo?.bootID;
      if (boot && boot !== before && isReady(node)) return { ok: true, node };
      last = bootState(boot === before, isReady(node));
    } catch (error) {
      last = unreadable(error);
    }
    if (Date.now() - lastReport >= 10_000) {
      waiting(`${name}: ${last}`, Date.now() - start);
      lastReport = Date.now();
    }
    await sleep(500);
  }
  return { ok: false, reason: `no new boot ID and Ready within the reboot timeout (last seen: ${last})` };
}

function bootState(oldBoot: boolean, ready: boolean): string {
  if (!oldBoot) return 'booted (new boot ID), not Ready yet';
  return ready ? 'still running the old boot (Ready)' : 'going down (NotReady, old boot ID)';
}

function unreadable(error: unknown): string {
  if (error instanceof k8s.ApiException && error.code === 404) return 'the node object is gone';
  return isTransient(error) ? apiAway(error) : `cannot read the node (${firstLine(error)})`;
}

function firstLine(error: unknown): string {
  return (error as Error).message.split('\n')[0]!;
}

/** The waiting line while the API server does not answer (its own node may be rebooting). */
function apiAway(error: unknown): string {
  const code = error instanceof k8s.ApiException ? `HTTP ${error.code}` : firstLine(error).slice(0, 120);
  return (
    `the API server does not answer (${code}); ` +
    'if this is its control-plane node, that is expected while it reboots: retrying'
  );
}

/**
 * Repeats a call while the API server is away or coming back (transient errors only), until
 * the deadline: the first calls after a control-plane node's reboot may meet a half-started
 * API server.
 */
export async function untilAnswered<T>(
  what: string,
  call: () => Promise<T>,
  deadline: number,
  waiting: Waiting,
): Promise<T> {
  const start = Date.now();
  let lastReport = 0;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error) || Date.now() >= deadline) throw error;
      if (Date.now() - lastReport >= 10_000) {
        waiting(`${what}: ${apiAway(error)}`, Date.now() - start);
        lastReport = Date.now();
      }
    }
    await sleep(1000);
  }
}

async function availability(kube: KubeClients, workload: Workload): Promise<{ ok: boolean; text: string }> {
  const { namespace, name, kind } = workload;
  try {
    if (kind === 'ReplicaSet') {
      const rs = await kube.apps.readNamespacedReplicaSet({ name, namespace });
      const dep = rs.metadata?.ownerReferences?.find((o) => o.controller && o.kind === 'Deployment');
      if (dep) return await availability(kube, { namespace, kind: 'Deployment', name: dep.name });
      const want = rs.spec?.replicas ?? 1;
      const have = rs.status?.availableReplicas ?? 0;
      return { ok: have >= want, text: `ReplicaSet ${namespace}/${name} ${have}/${want} available` };
    }
    if (kind === 'Deployment') {
      const deployment = await kube.apps.readNamespacedDeployment({ name, namespace });
      const want = deployment.spec?.replicas ?? 1;
      const have = deployment.status?.availableReplicas ?? 0;
      return { ok: have >= want, text: `Deployment ${namespace}/${name} ${have}/${want} available` };
    }
    if (kind === 'StatefulSet') {
      const st = await kube.apps.readNamespacedStatefulSet({ name, namespace });
      const want = st.spec?.replicas ?? 1;
      const have = st.status?.availableReplicas ?? 0;
      return { ok: have >= want, text: `StatefulSet ${namespace}/${name} ${have}/${want} available` };
    }
  } catch (error) {
    // Deleted meanwhile: nothing to wait for.
    if (error instanceof k8s.ApiException && error.code === 404)
      return { ok: true, text: `${kind} ${namespace}/${name} is gone` };
    return { ok: false, text: `${kind} ${namespace}/${name}: ${firstLine(error)}` };
  }
  // Jobs and other controllers: their pods finish or are recreated on their own terms.
  return { ok: true, text: `${kind} ${namespace}/${name}` };
}

/** Until every evicted workload is fully available again, or the deadline. */
export async function waitForWorkloads(
  kube: KubeClients,
  workloads: Workload[],
  deadline: number,
  waiting: Waiting,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const start = Date.now();
  let lastReport = 0;
  let pending: string[] = [];
  while (Date.now() < deadline) {
    const states = await Promise.all(workloads.map((workload) => availability(kube, workload)));
    pending = states.filter((state) => !state.ok).map((state) => state.text);
    if (!pending.length) return { ok: true };
    if (Date.now() - lastReport >= 10_000) {
      waiting(pending.join(', '), Date.now() - start);
      lastReport = Date.now();
    }
    await sleep(1000);
  }
  return { ok: false, reason: `evicted workloads not available again in time: ${pending.join(', ')}` };
}

/** Until the node carries none of CONDITION_TAINTS (but a cordon it keeps), or the deadline. */
export async function waitForSchedulable(
  kube: KubeClients,
  name: string,
  deadline: number,
  waiting: Waiting,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const start = Date.now();
  let lastReport = 0;
  let left: string[] = [];
  for (let first = true; first || Date.now() < deadline; first = false) {
    const node = await kube.core.readNode({ name }).catch((error: unknown) => {
      // A node object that is gone has no taints to wait for; any other failure: read again.
      if (error instanceof k8s.ApiException && error.code === 404) return null;
      return undefined;
    });
    if (node === null) return { ok: true };
    if (node) left = conditionTaints(node);
    if (node && !left.length) return { ok: true };
    if (Date.now() - lastReport >= 10_000) {
      waiting(`${name}: tainted ${left.join(', ') || '(not read yet)'}`, Date.now() - start);
      lastReport = Date.now();
    }
    await sleep(500);
  }
  return { ok: false, reason: `still tainted ${left.join(', ')} by the node lifecycle controller` };
}

function conditionTaints(node: k8s.V1Node): string[] {
  // A node that stays cordoned (cordoned before the run) keeps its unschedulable taint.
  const cordoned = node.spec?.unschedulable === true;
  // A key can stand twice, once per effect (not-ready: NoSchedule and NoExecute).
  const keys = new Set((node.spec?.taints ?? []).map((taint) => taint.key));
  return [...keys].filter(
    (key) => CONDITION_TAINTS.includes(key) && !(cordoned && key.endsWith('/unschedulable')),
  );
}

/**
 * A soak that watches: until the deadline, the soaking node (every second) and every other node
 * this plan rebooted (every few seconds, through `health`) must stay Ready. A node unstable
 * after its reboot is what a soak exists to catch.
 */
export async function watchSoak(
  kube: KubeClients,
  name: string,
  deadline: number,
  health: () => Promise<{ ok: true } | { ok: false; state: string; reason: string }>,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  let lastHealth = Date.now();
  while (Date.now() < deadline) {
    await sleep(Math.max(0, Math.min(1000, deadline - Date.now())));
    // An unanswered read is not a verdict: the next one is.
    const node = await kube.core.readNode({ name }).catch(() => undefined);
    if (node && !isReady(node)) {
      const condition = node.status?.conditions?.find((x) => x.type === 'Ready');
      const why = condition?.reason ? ` (${condition.reason})` : '';
      // The run's message names the node ("<node>: went NotReady ...").
      const reason =
        `went NotReady during its soak${why}: ` +
        'it is unstable after its reboot; no further node is started';
      return { ok: false, reason };
    }
    if (Date.now() - lastHealth >= 5000) {
      lastHealth = Date.now();
      const verdict = await health().catch(() => undefined);
      if (verdict && !verdict.ok && verdict.state === 'failed') return { ok: false, reason: verdict.reason };
    }
  }
  return { ok: true };
}
