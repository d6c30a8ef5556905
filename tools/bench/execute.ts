// Execution benchmarks, side by side in one run:
//  - drain of a 110-pod node (mixed PDBs) by Reboot Pilot vs `kubectl drain` from the same
//    Kubernetes release, each on an identical node of the same cluster, order alternating;
//  - a 10-node rollout: the executor's own latency per node (total minus the physical steps:
//    drain, reboot request to Ready with a new boot ID, workloads available, soak).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../../test/harness/controlplane.ts';
import { NodeSimulator, waitUntil } from '../../test/harness/simulator.ts';
import { aksNode } from '../../test/harness/nodes.ts';
import { BOOT_TIME } from '../../test/fixtures/hosts.ts';
import { createAksNodes, markRebootRequired } from '../../test/harness/fixtures.ts';
import {
  MERGE_PATCH as MERGE,
  loadKubeConfig,
  makeClients,
  type KubeClients,
} from '../../src/kube/client.ts';
import { drainNode } from '../../src/drain/drain.ts';
import { patchNode } from '../../src/execute/progress.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';
import { parseExecuteSettings, parsePlanSettings } from '../../src/settings.ts';
import { runPlan } from '../../src/execute/run.ts';

const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function cordonAllBut(core: k8s.CoreV1Api, names: string[], keep: string[]) {
  for (const name of names)
    await core.patchNode({ name, body: { spec: { unschedulable: !keep.includes(name) } } }, MERGE);
}

/** 10 Deployments × 11 pods on `node`: 4 with maxUnavailable 1, 3 with minAvailable 50%, 3 without a PDB. */
async function fill(cluster: Cluster, node: string, tag: string): Promise<void> {
  const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  const policy = cluster.kc.makeApiClient(k8s.PolicyV1Api);
  for (let i = 0; i < 10; i++) {
    const name = `${tag}-app${i}`;
    await apps.createNamespacedDeployment({
      namespace: 'bench',
      body: {
        metadata: { name },
        spec: {
          replicas: 11,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [
                { name: 'c', image: 'nginx', resources: { requests: { cpu: '10m', memory: '16Mi' } } },
              ],
            },
          },
        },
      },
    });
    if (i < 4)
      await policy.createNamespacedPodDisruptionBudget({
        namespace: 'bench',
        body: { metadata: { name }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: name } } } },
      });
    else if (i < 7)
      await policy.createNamespacedPodDisruptionBudget({
        namespace: 'bench',
        body: { metadata: { name }, spec: { minAvailable: '50%', selector: { matchLabels: { app: name } } } },
      });
  }
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  await waitUntil(
    `110 pods running on ${node}`,
    async () =>
      (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items.filter(
        (p) => p.status?.phase === 'Running',
      ).length === 110,
    300_000,
    500,
  );
}

function kubectlDrain(bin: string, kubeconfig: string, node: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    execFile(
      join(bin, 'kubectl'),
      [
        '--kubeconfig',
        kubeconfig,
        'drain',
        node,
        '--ignore-daemonsets',
        '--delete-emptydir-data',
        '--timeout=15m',
      ],
      { maxBuffer: 16 << 20 },
      (err, _out, stderr) =>
        err ? reject(new Error(`kubectl drain failed: ${stderr}`)) : resolve(performance.now() - t),
    );
  });
}

async function ourDrain(kube: KubeClients, node: string): Promise<number> {
  const started = performance.now();
  await patchNode(kube, node, {}, true);
  const settings = parseExecuteSettings({});
  await drainNode(
    kube,
    node,
    {
      deleteEmptyDirData: true,
      force: false,
      timeoutSeconds: 900,
      gracePeriodSeconds: settings.drainGracePeriod,
      podSelector: '',
      retryDelayMs: settings.drainRetryDelay * 1000,
      concurrency: 10,
    },
    () => undefined,
  );
  return performance.now() - started;
}

export interface DrainRun {
  ours: number;
  kubectl: number;
}

export async function benchDrain(runs: number): Promise<{ runs: DrainRun[]; version: string }> {
  const out: DrainRun[] = [];
  let version = '';
  for (let r = 0; r < runs; r++) {
    const cluster = await startCluster();
    const sim = new NodeSimulator(cluster);
    try {
      const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
      // Two identical 110-pod nodes to drain, two roomy ones to take their pods.
      const specs = [0, 1, 2, 3].map((i) => ({
        ...aksNode({ pool: 'bench', index: i }),
        bootTime: BOOT_TIME,
        ...(i >= 2 ? { cpu: '32', memory: '128Gi', pods: '250' } : {}),
      }));
      const nodes = await sim.createNodes(specs);
      const names = nodes.map((n) => n.metadata!.name!).sort();
      const [a, b] = [names[0]!, names[1]!];
      await core.createNamespace({ body: { metadata: { name: 'bench' } } });
      await cordonAllBut(core, names, [a]);
      await fill(cluster, a, 'a');
      await cordonAllBut(core, names, [b]);
      await fill(cluster, b, 'b');
      await cordonAllBut(core, names, names.slice(2).concat([a, b]));
      const clients = makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
      version = (await cluster.kc.makeApiClient(k8s.VersionApi).getCode()).gitVersion;
      // Alternate who goes first, so neither always drains into the emptier cluster.
      let ours: number;
      let kubectl: number;
      if (r % 2 === 0) {
        ours = await ourDrain(clients, a);
        kubectl = await kubectlDrain(cluster.binDir, cluster.kubeconfigPath, b);
      } else {
        kubectl = await kubectlDrain(cluster.binDir, cluster.kubeconfigPath, a);
        ours = await ourDrain(clients, b);
      }
      const seconds = (ms: number) => (ms / 1000).toFixed(1);
      log(`drain run ${r + 1}: reboot-pilot ${seconds(ours)} s, kubectl drain ${seconds(kubectl)} s`);
      out.push({ ours, kubectl });
    } finally {
      await sim.stop();
      await cluster.stop();
    }
  }
  return { runs: out, version };
}

export interface RolloutNode {
  total: number;
  physical: number;
  drain: number;
  reboot: number;
}

/** A 10-node rollout, soak 0, the simulator keeping each node down `downMs`. */
export async function benchRollout(downMs: number): Promise<RolloutNode[]> {
  const cluster = await startCluster();
  const sim = new NodeSimulator(cluster);
  sim.rebootDownMs = downMs;
  await sim.start();
  try {
    const names = await createAksNodes(sim, 10, { pool: 'roll', bootKernel: false });
    markRebootRequired(sim, '5.15.0-1081-azure', names);
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 30,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'c', image: 'nginx' }] },
          },
        },
      },
    });
    const clients = makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
    await waitUntil(
      '30 pods available',
      async () =>
        ((await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' })).status
          ?.availableReplicas ?? 0) === 30,
      120_000,
    );
    const plan = parsePlanSettings({ kubeconfig: cluster.kubeconfigPath });
    const { plan: p, planId: id } = await inspectCluster(clients, plan, () => undefined);
    const r = await runPlan(
      clients,
      { planId: id, plan: p },
      { plan, execute: parseExecuteSettings({ soak: '0' }), log: () => undefined },
    );
    if (r.state !== 'completed') throw new Error(`rollout ${r.state}: ${r.message}`);
    return r.nodes.map((n) => {
      const t = n.timings;
      const physical = (t.drain ?? 0) + (t.reboot ?? 0) + (t.workloads ?? 0) + (t.soak ?? 0);
      return { total: t.total ?? 0, physical, drain: t.drain ?? 0, reboot: t.reboot ?? 0 };
    });
  } finally {
    await sim.stop();
    await cluster.stop();
  }
}
