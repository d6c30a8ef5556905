// npm run bench: measures Reboot Pilot on the real local control plane and writes BENCHMARKS.md.
// Figures are medians of several runs with their spread (min–max), with the machine and versions.
//
// Inspection: a cluster of N KWOK nodes (AKS-like, 10% with a pending kernel, one Deployment
// with N/10 pods); `plan` runs in a child process as the audited user "bench", without probe
// pods (detectors=kured) and with them (detectors=probe,kured; the node simulator answers each
// probe by running the real probe script over the node's simulated files). Requests are counted
// from the API server's audit log (every completed request of that user), so they are exact.
//
// Execution: see tools/bench/execute.ts (drain vs kubectl drain; per-node latency of a rollout).
//
// Usage: npm run bench [-- --sizes 100,1000,5000 --runs 3 --probe-sizes 100,1000 --only inspect|execute]
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../test/harness/controlplane.ts';
import { NodeSimulator, waitUntil } from '../test/harness/simulator.ts';
import { aksNode } from '../test/harness/nodes.ts';
import { BOOT_TIME, ubuntu2204, ubuntuUpToDate } from '../test/fixtures/hosts.ts';
import { PAGE_SIZE } from '../src/cluster/snapshot.ts';
import { benchDrain, benchRollout } from './bench/execute.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,5000' },
    'probe-sizes': { type: 'string', default: '100,1000' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string', default: '' },
    out: { type: 'string', default: join(root, 'BENCHMARKS.md') },
  },
});
const sizes = args.sizes!.split(',').map(Number);
const probeSizes = new Set(args['probe-sizes']!.split(',').map(Number));
const runs = Number(args.runs);
const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

interface Run {
  wallMs: number;
  maxRssKiB: number;
  requests: Map<string, number>;
  planned: number;
  probed: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const spread = (xs: number[], f: (n: number) => string) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

function auditCounts(cluster: Cluster, fromByte: number): Map<string, number> {
  // Offsets are bytes: slice the buffer, not the decoded string.
  const text = readFileSync(cluster.auditLogPath).subarray(fromByte).toString('utf8');
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { verb: string; objectRef?: { resource?: string; subresource?: string }; stage: string };
    if (e.stage !== 'ResponseComplete') continue;
    const key = `${e.verb} ${e.objectRef?.resource ?? '(non-resource)'}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function inspectOnce(kubeconfig: string, detectors: string): Promise<{ wallMs: number; maxRssKiB: number; planned: number; probed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'tools/bench/inspect-child.ts'), kubeconfig, detectors, '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`inspect child exited ${code}`))));
  });
}

async function benchInspection(n: number): Promise<{ n: number; results: Record<string, Run[]>; setupMs: number }> {
  const t0 = Date.now();
  const cluster = await startCluster({ users: [{ name: 'bench', groups: ['system:masters'] }], auditUsers: ['bench'], nodeLeaseDurationSeconds: 1200, nodeMonitorGracePeriod: '30m' });
  const sim = new NodeSimulator(cluster);
  await sim.start();
  try {
    log(`${n} nodes: creating`);
    const pools = Math.max(1, Math.round(n / 100));
    const specs = Array.from({ length: n }, (_, i) => ({ ...aksNode({ pool: `pool${i % pools}`, index: Math.floor(i / pools) }), bootTime: BOOT_TIME }));
    await sim.createNodes(specs);
    specs.forEach((s, i) => sim.writeHostFiles(s.name, i % 10 === 0 ? ubuntu2204 : ubuntuUpToDate));
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const replicas = Math.max(1, Math.floor(n / 10));
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: { metadata: { name: 'app' }, spec: { replicas, selector: { matchLabels: { app: 'app' } }, template: { metadata: { labels: { app: 'app' } }, spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '10m' } } }] } } } },
    });
    await waitUntil(`${replicas} pods running`, async () => (await core.listNamespacedPod({ namespace: 'default' })).items.filter((p) => p.status?.phase === 'Running').length === replicas, 600_000, 1000);
    const setupMs = Date.now() - t0;
    const kubeconfig = join(cluster.dir, 'bench.kubeconfig');
    writeFileSync(kubeconfig, cluster.kubeconfigFor('bench'));
    const results: Record<string, Run[]> = {};
    for (const detectors of ['kured', ...(probeSizes.has(n) ? ['probe,kured'] : [])]) {
      results[detectors] = [];
      for (let r = 0; r < runs; r++) {
        const from = statSync(cluster.auditLogPath, { throwIfNoEntry: false })?.size ?? 0;
        const res = await inspectOnce(kubeconfig, detectors);
        // The audit log is written in blocking mode: complete once the requests are.
        const requests = auditCounts(cluster, from);
        results[detectors].push({ ...res, requests });
        const ran = sim.ran.splice(0);
        if (ran.length) log(`simulator: ${ran.length} probes, script median ${median(ran.map((x) => x.scriptMs)).toFixed(0)} ms, creation to finish median ${median(ran.map((x) => x.totalMs)).toFixed(0)} ms`);
        log(`${n} nodes, detectors=${detectors}, run ${r + 1}: ${sec(res.wallMs)}, ${mib(res.maxRssKiB)}, ${[...requests.values()].reduce((a, b) => a + b, 0)} requests, ${res.planned} planned`);
      }
    }
    return { n, results, setupMs };
  } finally {
    await sim.stop();
    await cluster.stop();
  }
}

function machine(): string {
  const cpu = cpus();
  const bin = execFileSync('bash', [join(root, 'tools/controlplane/build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()!;
  const v = (cmd: string, a: string[]) => execFileSync(join(bin, cmd), a, { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
  return [
    `- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory, ${process.platform} ${process.arch}`,
    `- Node ${process.version}; reboot-pilot ${pkg.version}; @kubernetes/client-node ${pkg.dependencies['@kubernetes/client-node']}`,
    `- Control plane: ${v('kube-apiserver', ['--version'])}, ${v('etcd', ['--version'])}, kwok ${v('kwok', ['--version']).replace(/^kwok version /, '')}`,
    `- Date: ${new Date().toISOString().slice(0, 10)}; ${runs} runs per figure; median, spread (min–max)`,
  ].join('\n');
}

const inspections = [];
if (args.only !== 'execute') for (const n of sizes) inspections.push(await benchInspection(n));
const drain = args.only === 'inspect' ? undefined : await benchDrain(runs);
const rollout = args.only === 'inspect' ? undefined : await benchRollout(2000);

const lines: string[] = [];
lines.push('# Benchmarks', '', '_Generated by `npm run bench` (tools/bench.ts); do not edit by hand._', '', machine(), '');
if (inspections.length) {
lines.push('## Inspection (`reboot-pilot plan`)', '');
lines.push(
  `How: a throwaway cluster of N KWOK nodes (AKS-like, 10% with a pending kernel and sentinel, one Deployment of N/10 pods). Each run is a fresh process running the same code as \`reboot-pilot plan\` as user "bench"; wall time is the inspection alone (after module load), peak RSS is the process's maxRSS, and requests are every completed request of that user in the API server's audit log. "probe" runs create one probe pod per node (20 at a time); the node simulator answers each by running the real probe script over the node's simulated files, so probe wall time includes the simulator's work on the same 2 cores. Page size ${PAGE_SIZE}.`,
  '',
  '| Nodes | Detectors | Wall time | Peak RSS | Requests (median, by verb and resource) | list nodes = pages? | per-node GETs |',
  '|---:|---|---|---|---|---|---|',
);
for (const { n, results } of inspections) {
  for (const [detectors, rs] of Object.entries(results)) {
    const keys = [...new Set(rs.flatMap((r) => [...r.requests.keys()]))].sort();
    const req = keys.map((k) => `${k}: ${median(rs.map((r) => r.requests.get(k) ?? 0))}`).join('<br>');
    const listNodes = median(rs.map((r) => r.requests.get('list nodes') ?? 0));
    const pages = Math.ceil(n / PAGE_SIZE);
    const getNodes = median(rs.map((r) => r.requests.get('get nodes') ?? 0));
    lines.push(
      `| ${n} | ${detectors === 'kured' ? 'kured (no probe pods)' : 'probe + kured'} | ${sec(median(rs.map((r) => r.wallMs)))} (${spread(rs.map((r) => r.wallMs), sec)}) | ${mib(median(rs.map((r) => r.maxRssKiB)))} (${spread(rs.map((r) => r.maxRssKiB), mib)}) | ${req} | ${listNodes} = ${pages} ${listNodes === pages ? '✓' : '✗'} | ${getNodes} |`,
    );
  }
}
lines.push('', `Cluster set-up time (create nodes and pods, not measured above): ${inspections.map((i) => `${i.n} nodes ${sec(i.setupMs)}`).join(', ')}.`, '');
}

if (drain) {
  const ratios = drain.runs.map((r) => r.kubectl / r.ours);
  lines.push(
    '## Drain of a 110-pod node: Reboot Pilot vs `kubectl drain`',
    '',
    `How: per run a fresh cluster with two identical nodes of 110 pods each (10 Deployments × 11 replicas: 4 with a PDB maxUnavailable 1, 3 with minAvailable 50%, 3 without) and two roomy nodes to take them. Reboot Pilot drains one node (cordon + drain, default settings), \`kubectl drain --ignore-daemonsets --delete-emptydir-data\` of the same release (${drain.version}) the other, in the same cluster; who goes first alternates between runs. Wall time from the first request to the last pod gone.`,
    '',
    '| | Wall time | Spread |',
    '|---|---|---|',
    `| Reboot Pilot | ${sec(median(drain.runs.map((r) => r.ours)))} | ${spread(drain.runs.map((r) => r.ours), sec)} |`,
    `| kubectl drain | ${sec(median(drain.runs.map((r) => r.kubectl)))} | ${spread(drain.runs.map((r) => r.kubectl), sec)} |`,
    `| Ratio kubectl / Reboot Pilot (per run, then median) | ${median(ratios).toFixed(2)}× | ${spread(ratios, (x) => `${x.toFixed(2)}×`)} |`,
    '',
    'Why: kubectl answers a PDB refusal (429) by retrying that pod every 5 s; Reboot Pilot reads the budgets each round (once a second, a quarter second after progress) and evicts a pod in the first round its budget allows.',
    '',
  );
}
if (rollout) {
  const over = rollout.map((n) => n.total - n.physical);
  lines.push(
    '## Per-node latency in a 10-node rollout',
    '',
    'How: 10 nodes with a pending kernel, a 30-replica Deployment, soak 0, each simulated reboot keeping its node down 2 s. Per node, the executor\'s total time minus the physical steps it waits for (drain, reboot request to Ready with a new boot ID, evicted workloads available again): what remains is Reboot Pilot\'s own latency (re-verification with a fresh probe pod, gates, lock checks, cordon/uncordon, progress annotations, the reboot pod).',
    '',
    '| Per node | Median | Spread |',
    '|---|---|---|',
    `| Total | ${sec(median(rollout.map((n) => n.total)))} | ${spread(rollout.map((n) => n.total), sec)} |`,
    `| Physical steps | ${sec(median(rollout.map((n) => n.physical)))} | ${spread(rollout.map((n) => n.physical), sec)} |`,
    `| of which drain | ${sec(median(rollout.map((n) => n.drain)))} | ${spread(rollout.map((n) => n.drain), sec)} |`,
    `| of which reboot (request → Ready) | ${sec(median(rollout.map((n) => n.reboot)))} | ${spread(rollout.map((n) => n.reboot), sec)} |`,
    `| Reboot Pilot's own latency | ${sec(median(over))} | ${spread(over, sec)} |`,
    '',
  );
}
writeFileSync(args.out!, lines.join('\n'));
log(`wrote ${args.out}`);
process.exit(0);
