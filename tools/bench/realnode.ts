// Real-node benchmark: Reboot Pilot reboots a real node (a Debian VM with a real kubelet, see
// test/harness/realnode.ts) that runs a Deployment under a PDB, `runs` times in one VM. Per run:
// the physical steps (drain; reboot request to new boot ID and Ready, split into the guest's
// shutdown, qemu's exit to the next start, and boot to Ready; workloads available again) next to
// Reboot Pilot's own latency (the total minus those steps, and how long after the node reported
// Ready the executor uncordoned it), with the accelerator (KVM or TCG) named.
import * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster } from '../../test/harness/controlplane.ts';
import { waitUntil } from '../../test/harness/simulator.ts';
import {
  pickAccelerator,
  startRealNode,
  realNodeClusterOptions,
  REAL_NODE_IMAGES,
} from '../../test/harness/realnode.ts';
import { MERGE_PATCH as MERGE, loadKubeConfig, makeClients } from '../../src/kube/client.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';
import { parseExecuteSettings, parsePlanSettings } from '../../src/settings.ts';
import { runPlan } from '../../src/execute/run.ts';
import { ANN } from '../../src/kube/labels.ts';

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

export interface RealNodeRun {
  drainMs: number;
  rebootMs: number;
  shutdownMs: number;
  offMs: number;
  bootToReadyMs: number;
  workloadsMs: number;
  totalMs: number;
  ownMs: number;
  readyToUncordonMs: number;
}

export interface RealNodeBench {
  accelerator: string;
  why: string;
  firstBootToReadyMs: number;
  runs: RealNodeRun[];
}

/** boots.log lines "<unix s> boot <n> <kernel>" and "<unix s> exit <n> <rc>" (run-vm.sh). */
function bootLog(dir: string): { starts: number[]; exits: number[] } {
  const lines = readFileSync(join(dir, 'boots.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  return {
    starts: lines.filter((l) => l[1] === 'boot').map((l) => Number(l[0]) * 1000),
    exits: lines.filter((l) => l[1] === 'exit').map((l) => Number(l[0]) * 1000),
  };
}

export async function benchRealNode(runs: number): Promise<RealNodeBench> {
  const name = 'rp-bench-1';
  const cluster = await startCluster(realNodeClusterOptions([name]));
  const t0 = Date.now();
  const node = await startRealNode(cluster, { name, log });
  const firstBootToReadyMs = Date.now() - t0;
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  const policy = cluster.kc.makeApiClient(k8s.PolicyV1Api);
  const clients = makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  const out: RealNodeRun[] = [];
  try {
    await core.createNamespace({ body: { metadata: { name: 'bench' } } });
    const labels = { app: 'web' };
    // One node: the evicted replicas wait for it (the PDB allows one down at a time).
    await apps.createNamespacedDeployment({
      namespace: 'bench',
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              terminationGracePeriodSeconds: 5,
              containers: [{ name: 'c', image: REAL_NODE_IMAGES.busybox, command: ['sleep', '100000'] }],
            },
          },
        },
      },
    });
    await policy.createNamespacedPodDisruptionBudget({
      namespace: 'bench',
      body: { metadata: { name: 'web' }, spec: { maxUnavailable: 2, selector: { matchLabels: labels } } },
    });
    await waitUntil(
      '2 pods running on the real node',
      async () =>
        (await apps.readNamespacedDeployment({ name: 'web', namespace: 'bench' })).status
          ?.availableReplicas === 2,
      600_000,
      2000,
    );
    const plan = parsePlanSettings({
      kubeconfig: cluster.kubeconfigPath,
      'cluster-name': 'bench',
      'probe-timeout': '300',
    });
    const execute = parseExecuteSettings({
      soak: '0',
      'reboot-timeout': '900',
      'workload-timeout': '600',
      'drain-timeout': '600',
    });
    for (let i = 0; i < runs; i++) {
      await node.shOk('echo "*** System restart required ***" > /var/run/reboot-required');
      const p = await inspectCluster(clients, plan, () => undefined);
      if (p.plan.nodes.length !== 1)
        throw new Error(`run ${i + 1}: the plan has ${p.plan.nodes.length} nodes, not the real one`);
      let readyAt = 0;
      let uncordonAt = 0;
      const bootBefore = (await core.readNode({ name })).status!.nodeInfo!.bootID;
      // The executor's record of its reboot request (the reboot timeout starts there).
      const requestedAt = { t: 0 };
      // Polled, not watched: the moments the node is back (new boot ID, Ready) and uncordoned.
      const poll = { on: true };
      const polling = (async () => {
        while (poll.on) {
          const n = await core.readNode({ name }).catch(() => undefined);
          const ready = n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
          if (!readyAt && ready && n?.status?.nodeInfo?.bootID !== bootBefore) readyAt = Date.now();
          if (readyAt && !uncordonAt && !n?.spec?.unschedulable) uncordonAt = Date.now();
          const asked = n?.metadata?.annotations?.[ANN.rebootRequestedAt];
          if (asked) requestedAt.t = Date.parse(asked);
          await new Promise((res) => setTimeout(res, 250));
        }
      })();
      const r = await runPlan(
        clients,
        { planId: p.planId, plan: p.plan },
        {
          plan,
          execute,
          log: () => undefined,
          onEvent: (e) => {
            if (e.type === 'step' && e.step === 'reboot' && !requestedAt.t) requestedAt.t = Date.now();
          },
        },
      );
      poll.on = false;
      await polling;
      if (r.state !== 'completed') throw new Error(`run ${i + 1}: ${r.message}`);
      const t = r.nodes[0]!.timings;
      const b = bootLog(node.dir);
      const exit = b.exits[b.exits.length - 1]!;
      const start = b.starts[b.starts.length - 1]!;
      const physical = (t.drain ?? 0) + (t.reboot ?? 0) + (t.workloads ?? 0);
      const run: RealNodeRun = {
        drainMs: t.drain ?? 0,
        rebootMs: t.reboot ?? 0,
        shutdownMs: exit - requestedAt.t,
        offMs: start - exit,
        bootToReadyMs: readyAt - start,
        workloadsMs: t.workloads ?? 0,
        totalMs: t.total ?? 0,
        ownMs: (t.total ?? 0) - physical,
        readyToUncordonMs: uncordonAt - readyAt,
      };
      log(`real node run ${i + 1}: ${JSON.stringify(run)}`);
      out.push(run);
      await core.patchNode({ name, body: { spec: { unschedulable: false } } }, MERGE);
    }
  } finally {
    await node.stop();
    await cluster.stop();
  }
  return {
    accelerator: node.accelerator.toUpperCase(),
    why: pickAccelerator().why,
    firstBootToReadyMs,
    runs: out,
  };
}

export function realNodeSection(
  b: RealNodeBench,
  median: (xs: number[]) => number,
  spread: (xs: number[], f: (n: number) => string) => string,
): string[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const row = (what: string, xs: number[]) => `| ${what} | ${s(median(xs))} | ${spread(xs, s)} |`;
  const r = b.runs;
  return [
    '## Real node',
    '',
    `How: one Debian bookworm VM (tools/realnode/build.sh: cloud kernel, containerd 2, kubelet v1.36.3) under QEMU **${b.accelerator}**${b.accelerator === 'TCG' ? ` (software emulation; ${b.why})` : ''}, one vCPU, joined to the local control plane; a Deployment of 2 busybox pods on it. Each run: a sentinel written in the guest, \`plan\`, then the executor with the pod method (\`nsenter … systemctl reboot\`) — cordon, drain, a real reboot (qemu's bootloader loop boots the disk's newest kernel), new boot ID and Ready, uncordon, workloads back. The physical steps are timed by the executor (drain, reboot, workloads), split by the VM loop's log and by polling the node; Reboot Pilot's own latency is the rest (cordon, the re-probe of the node before it is touched — a probe pod on the real kubelet —, annotations, uncordon). First boot to Ready: ${s(b.firstBootToReadyMs)}.`,
    '',
    '| Per node | Median | Spread |',
    '|---|---|---|',
    row(
      'Drain (2 pods, grace period 5 s)',
      r.map((x) => x.drainMs),
    ),
    row(
      'Reboot: request → new boot ID and Ready',
      r.map((x) => x.rebootMs),
    ),
    row(
      '… of which: request → guest powered off',
      r.map((x) => x.shutdownMs),
    ),
    row(
      '… of which: powered off → next boot started',
      r.map((x) => x.offMs),
    ),
    row(
      '… of which: boot → kubelet reports Ready',
      r.map((x) => x.bootToReadyMs),
    ),
    row(
      'Workloads available again',
      r.map((x) => x.workloadsMs),
    ),
    row(
      'Total per node',
      r.map((x) => x.totalMs),
    ),
    row(
      "Reboot Pilot's own latency (total − physical steps)",
      r.map((x) => x.ownMs),
    ),
    row(
      'Node Ready → uncordoned by Reboot Pilot',
      r.map((x) => x.readyToUncordonMs),
    ),
    '',
  ];
}
