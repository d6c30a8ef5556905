// Each pod moved once: evictions per replica in a 10-node rollout with every node pending and 60
// replicas over 6 Deployments under PDBs, with the PreferNoSchedule taint on the pending nodes
// and without it (kured's default), measured in the same bench run on fresh clusters (the order
// alternates between runs). A replica's lineage is the chain of pods its ReplicaSet creates as
// each one is evicted: every pod created during the rollout replaces one evicted pod, so the
// evictions of all lineages are the pods created, and per replica that over 60.
import * as k8s from '@kubernetes/client-node';
import { startCluster } from '../../test/harness/controlplane.ts';
import { NodeSimulator, waitUntil } from '../../test/harness/simulator.ts';
import { guardedDeployment } from '../../test/harness/workloads.ts';
import { keepPodsReady } from '../../test/harness/kubelet-ready.ts';
import { createAksNodes, markRebootRequired } from '../../test/harness/fixtures.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';
import { parseExecuteSettings, parsePlanSettings } from '../../src/settings.ts';
import { loadKubeConfig, makeClients } from '../../src/kube/client.ts';
import { runPlan } from '../../src/execute/run.ts';

export const TAINT_BENCH = { nodes: 10, deployments: 6, replicasEach: 10 };

export interface TaintRollout {
  taint: boolean;
  /** Pods evicted over the whole rollout (= replacement pods created). */
  evictions: number;
  replicas: number;
  /** The most evictions any one Deployment had per replica. */
  worstDeployment: number;
  /** The fewest possible: every pod once, plus the first node's pods once more (nowhere rebooted to go). */
  floor: number;
  /** Pods the simulated kubelet had to report Ready again (see test/harness/kubelet-ready.ts). */
  readied: number;
  wallMs: number;
}

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

async function rollout(taint: boolean): Promise<TaintRollout> {
  const { nodes, deployments, replicasEach } = TAINT_BENCH;
  const cluster = await startCluster();
  const sim = new NodeSimulator(cluster);
  sim.rebootDownMs = 2000;
  await sim.start();
  let ctl: AbortController | undefined;
  let watching = true;
  const stopReady = keepPodsReady(cluster, 'shop');
  try {
    const names = await createAksNodes(sim, nodes, { pool: 'roll', bootKernel: false });
    markRebootRequired(sim, '5.15.0-1081-azure', names);
    for (let d = 0; d < deployments; d++) {
      await guardedDeployment(cluster, {
        namespace: 'shop',
        name: `app${d}`,
        replicas: replicasEach,
        minAvailable: replicasEach - 1,
      });
    }
    // Every pod of the Deployments seen from here on, by UID and Deployment.
    const seen = new Map<string, string>();
    // Watches end (server timeouts): restarted, the re-list's ADDED events dedupe by UID.
    const watch = async (): Promise<void> => {
      ctl = await new k8s.Watch(cluster.kc).watch(
        '/api/v1/namespaces/shop/pods',
        {},
        (_t: string, p: k8s.V1Pod) => {
          if (p.metadata?.uid && p.metadata.labels?.app) seen.set(p.metadata.uid, p.metadata.labels.app);
        },
        () => {
          if (watching) void watch().catch(() => undefined);
        },
      );
    };
    await watch();
    const replicas = deployments * replicasEach;
    await waitUntil('the initial pods listed', () => Promise.resolve(seen.size >= replicas), 30_000);
    const clients = makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
    const plan = parsePlanSettings({ kubeconfig: cluster.kubeconfigPath, order: 'name' });
    const { plan: p, planId: id } = await inspectCluster(clients, plan, () => undefined);
    if (p.nodes.length !== nodes) throw new Error(`expected ${nodes} planned nodes, got ${p.nodes.length}`);
    const first = await cluster.kc
      .makeApiClient(k8s.CoreV1Api)
      .listNamespacedPod({ namespace: 'shop', fieldSelector: `spec.nodeName=${p.nodes[0]!.name}` });
    const floor = replicas + first.items.length;
    const t0 = Date.now();
    const execute = parseExecuteSettings({
      soak: '0',
      'drain-retry-delay': '1',
      'prefer-no-schedule-taint': String(taint),
    });
    const r = await runPlan(clients, { planId: id, plan: p }, { plan, execute, log: () => undefined });
    if (r.state !== 'completed') throw new Error(`rollout ${r.state}: ${r.message}`);
    const wallMs = Date.now() - t0;
    const perApp = new Map<string, number>();
    for (const app of seen.values()) perApp.set(app, (perApp.get(app) ?? 0) + 1);
    const evictions = seen.size - replicas;
    const worstDeployment = Math.max(...[...perApp.values()].map((n) => (n - replicasEach) / replicasEach));
    return { taint, evictions, replicas, worstDeployment, floor, wallMs, readied: stopReady() };
  } finally {
    watching = false;
    stopReady();
    ctl?.abort();
    await sim.stop();
    await cluster.stop();
  }
}

/** `runs` pairs of rollouts, with and without the taint, alternating which goes first. */
export async function benchTaints(runs: number): Promise<TaintRollout[]> {
  const out: TaintRollout[] = [];
  for (let r = 0; r < runs; r++) {
    for (const taint of r % 2 === 0 ? [true, false] : [false, true]) {
      const x = await rollout(taint);
      log(
        `taint run ${r + 1} (${taint ? 'with' : 'without'} taint): ${x.evictions} evictions for ${x.replicas} replicas = ${(x.evictions / x.replicas).toFixed(2)} per replica (floor ${(x.floor / x.replicas).toFixed(2)}; ${x.readied} pods re-readied)`,
      );
      out.push(x);
    }
  }
  return out;
}
