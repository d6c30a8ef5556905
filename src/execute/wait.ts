// Waiting, with a report of what is awaited and for how long.
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { isTransient, type KubeClients } from '../kube/client.ts';
import type { Workload } from './progress.ts';
import { isReady } from '../cluster/node.ts';

export type Waiting = (what: string, sinceMs: number) => void;

/** Until the node reports a boot ID other than `before` and is Ready, or the deadline. */
export async function waitForBoot(
  c: KubeClients,
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
      const n = await c.core.readNode({ name });
      const boot = n.status?.nodeInfo?.bootID;
      if (boot && boot !== before && isReady(n)) return { ok: true, node: n };
      last =
        boot === before
          ? isReady(n)
            ? 'still running the old boot (Ready)'
            : 'going down (NotReady, old boot ID)'
          : 'booted (new boot ID), not Ready yet';
    } catch (e) {
      if (e instanceof k8s.ApiException && e.code === 404) last = 'the node object is gone';
      else
        last = isTransient(e) ? apiAway(e) : `cannot read the node (${(e as Error).message.split('\n')[0]})`;
    }
    if (Date.now() - lastReport >= 10_000) {
      waiting(`${name}: ${last}`, Date.now() - start);
      lastReport = Date.now();
    }
    await sleep(500);
  }
  return { ok: false, reason: `no new boot ID and Ready within the reboot timeout (last seen: ${last})` };
}

/** The waiting line while the API server does not answer (its own node may be rebooting). */
function apiAway(e: unknown): string {
  const code =
    e instanceof k8s.ApiException ? `HTTP ${e.code}` : (e as Error).message.split('\n')[0]!.slice(0, 120);
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
  fn: () => Promise<T>,
  deadline: number,
  waiting: Waiting,
): Promise<T> {
  const start = Date.now();
  let lastReport = 0;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || Date.now() >= deadline) throw e;
      if (Date.now() - lastReport >= 10_000) {
        waiting(`${what}: ${apiAway(e)}`, Date.now() - start);
        lastReport = Date.now();
      }
    }
    await sleep(1000);
  }
}

async function availability(c: KubeClients, w: Workload): Promise<{ ok: boolean; text: string }> {
  const { namespace, name } = w;
  try {
    if (w.kind === 'ReplicaSet') {
      const rs = await c.apps.readNamespacedReplicaSet({ name, namespace });
      const dep = rs.metadata?.ownerReferences?.find((o) => o.controller && o.kind === 'Deployment');
      if (dep) return availability(c, { namespace, kind: 'Deployment', name: dep.name });
      const want = rs.spec?.replicas ?? 1;
      const have = rs.status?.availableReplicas ?? 0;
      return { ok: have >= want, text: `ReplicaSet ${namespace}/${name} ${have}/${want} available` };
    }
    if (w.kind === 'Deployment') {
      const d = await c.apps.readNamespacedDeployment({ name, namespace });
      const want = d.spec?.replicas ?? 1;
      const have = d.status?.availableReplicas ?? 0;
      return { ok: have >= want, text: `Deployment ${namespace}/${name} ${have}/${want} available` };
    }
    if (w.kind === 'StatefulSet') {
      const st = await c.apps.readNamespacedStatefulSet({ name, namespace });
      const want = st.spec?.replicas ?? 1;
      const have = st.status?.availableReplicas ?? 0;
      return { ok: have >= want, text: `StatefulSet ${namespace}/${name} ${have}/${want} available` };
    }
  } catch (e) {
    // Deleted meanwhile: nothing to wait for.
    if (e instanceof k8s.ApiException && e.code === 404)
      return { ok: true, text: `${w.kind} ${namespace}/${name} is gone` };
    return { ok: false, text: `${w.kind} ${namespace}/${name}: ${(e as Error).message.split('\n')[0]}` };
  }
  // Jobs and other controllers: their pods finish or are recreated on their own terms.
  return { ok: true, text: `${w.kind} ${namespace}/${name}` };
}

/** Until every evicted workload is fully available again, or the deadline. */
export async function waitForWorkloads(
  c: KubeClients,
  ws: Workload[],
  deadline: number,
  waiting: Waiting,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const start = Date.now();
  let lastReport = 0;
  let pending: string[] = [];
  while (Date.now() < deadline) {
    const states = await Promise.all(ws.map((w) => availability(c, w)));
    pending = states.filter((s) => !s.ok).map((s) => s.text);
    if (!pending.length) return { ok: true };
    if (Date.now() - lastReport >= 10_000) {
      waiting(pending.join(', '), Date.now() - start);
      lastReport = Date.now();
    }
    await sleep(1000);
  }
  return { ok: false, reason: `evicted workloads not available again in time: ${pending.join(', ')}` };
}

/**
 * A soak that watches: until the deadline, the soaking node (every second) and every other node
 * this plan rebooted (every few seconds, through `health`) must stay Ready. A node unstable
 * after its reboot is what a soak exists to catch.
 */
export async function watchSoak(
  c: KubeClients,
  name: string,
  deadline: number,
  health: () => Promise<{ ok: true } | { ok: false; state: string; reason: string }>,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  let lastHealth = Date.now();
  while (Date.now() < deadline) {
    await sleep(Math.max(0, Math.min(1000, deadline - Date.now())));
    // An unanswered read is not a verdict: the next one is.
    const n = await c.core.readNode({ name }).catch(() => undefined);
    if (n && !isReady(n)) {
      const cond = n.status?.conditions?.find((x) => x.type === 'Ready');
      const why = cond?.reason ? ` (${cond.reason})` : '';
      // The run's message names the node ("<node>: went NotReady ...").
      const reason = `went NotReady during its soak${why}: it is unstable after its reboot; no further node is started`;
      return { ok: false, reason };
    }
    if (Date.now() - lastHealth >= 5000) {
      lastHealth = Date.now();
      const h = await health().catch(() => undefined);
      if (h && !h.ok && h.state === 'failed') return { ok: false, reason: h.reason };
    }
  }
  return { ok: true };
}
