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
// GitHub: see tools/bench/github.ts (requests of the bundled action per plan run and per executed node).
// Cold start: see tools/bench/coldstart.ts (spawn of the bundled action to its first request).
// Taints: see tools/bench/taints.ts (evictions per replica with and without PreferNoSchedule).
// Real node: see tools/bench/realnode.ts (a real reboot of a Debian VM node, physical steps vs
// our own latency).
//
// Usage: npm run bench [-- --sizes 100,1000,5000 --runs 3 --probe-sizes 100,1000 --cold-runs 10
//                          --real-runs 2
//                          --only inspect|execute|github|coldstart|taints|realnode (comma-separated)]
// With --only, the sections of the other groups are kept from the current BENCHMARKS.md (each
// section says when it was measured); without it, every section is measured again.
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
import { benchGitHub, GITHUB_INPUTS, type GitHubRound, type Phase } from './bench/github.ts';
import { benchColdStart } from './bench/coldstart.ts';
import { benchTaints, TAINT_BENCH, type TaintRollout } from './bench/taints.ts';
import { benchRealNode, realNodeSection } from './bench/realnode.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,5000' },
    'probe-sizes': { type: 'string', default: '100,1000' },
    runs: { type: 'string', default: '3' },
    'cold-runs': { type: 'string', default: '10' },
    'real-runs': { type: 'string', default: '2' },
    only: { type: 'string', default: '' },
    out: { type: 'string', default: join(root, 'BENCHMARKS.md') },
  },
});
const sizes = args.sizes.split(',').map(Number);
const probeSizes = new Set(args['probe-sizes'].split(',').map(Number));
const runs = Number(args.runs);
const coldRuns = Number(args['cold-runs']);
const GROUPS = ['inspect', 'execute', 'github', 'coldstart', 'taints', 'realnode'];
const only = new Set(args.only ? args.only.split(',') : GROUPS);
for (const g of only)
  if (!GROUPS.includes(g)) throw new Error(`--only ${g}: expected one or more of ${GROUPS.join(', ')}`);
const today = new Date().toISOString().slice(0, 10);
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
    const e = JSON.parse(line) as {
      verb: string;
      objectRef?: { resource?: string; subresource?: string };
      stage: string;
    };
    if (e.stage !== 'ResponseComplete') continue;
    const key = `${e.verb} ${e.objectRef?.resource ?? '(non-resource)'}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** What tools/bench/inspect-child.ts prints: one inspection's time, memory and counts. */
interface InspectRun {
  wallMs: number;
  maxRssKiB: number;
  planned: number;
  probed: number;
}

function inspectOnce(kubeconfig: string, detectors: string): Promise<InspectRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(root, 'tools/bench/inspect-child.ts'), kubeconfig, detectors, '20'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out) as InspectRun) : reject(new Error(`inspect child exited ${code}`)),
    );
  });
}

async function benchInspection(
  n: number,
): Promise<{ n: number; results: Record<string, Run[]>; setupMs: number }> {
  const t0 = Date.now();
  const cluster = await startCluster({
    users: [{ name: 'bench', groups: ['system:masters'] }],
    auditUsers: ['bench'],
    nodeLeaseDurationSeconds: 1200,
    nodeMonitorGracePeriod: '30m',
  });
  const sim = new NodeSimulator(cluster);
  await sim.start();
  try {
    log(`${n} nodes: creating`);
    const pools = Math.max(1, Math.round(n / 100));
    const specs = Array.from({ length: n }, (_, i) => ({
      ...aksNode({ pool: `pool${i % pools}`, index: Math.floor(i / pools) }),
      bootTime: BOOT_TIME,
    }));
    await sim.createNodes(specs);
    specs.forEach((s, i) => sim.writeHostFiles(s.name, i % 10 === 0 ? ubuntu2204 : ubuntuUpToDate));
    const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const replicas = Math.max(1, Math.floor(n / 10));
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'app' },
        spec: {
          replicas,
          selector: { matchLabels: { app: 'app' } },
          template: {
            metadata: { labels: { app: 'app' } },
            spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '10m' } } }] },
          },
        },
      },
    });
    await waitUntil(
      `${replicas} pods running`,
      async () =>
        (await core.listNamespacedPod({ namespace: 'default' })).items.filter(
          (p) => p.status?.phase === 'Running',
        ).length === replicas,
      600_000,
      1000,
    );
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
        if (ran.length)
          log(
            `simulator: ${ran.length} probes, script median ${median(ran.map((x) => x.scriptMs)).toFixed(0)} ms, creation to finish median ${median(ran.map((x) => x.totalMs)).toFixed(0)} ms`,
          );
        log(
          `${n} nodes, detectors=${detectors}, run ${r + 1}: ${sec(res.wallMs)}, ${mib(res.maxRssKiB)}, ${[...requests.values()].reduce((a, b) => a + b, 0)} requests, ${res.planned} planned`,
        );
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
  const bin = execFileSync('bash', [join(root, 'tools/controlplane/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .trim()
    .split('\n')
    .pop()!;
  const v = (cmd: string, a: string[]) =>
    execFileSync(join(bin, cmd), a, { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
  };
  return [
    `- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory, ${process.platform} ${process.arch}`,
    `- Node ${process.version}; reboot-pilot ${pkg.version}; @kubernetes/client-node ${pkg.dependencies['@kubernetes/client-node']}`,
    `- Control plane: ${v('kube-apiserver', ['--version'])}, ${v('etcd', ['--version'])}, kwok ${v('kwok', ['--version']).replace(/^kwok version /, '')}`,
    `- Figures: median, spread (min–max); each section says when it was measured and over how many runs.`,
  ].join('\n');
}

const inspections = [];
if (only.has('inspect')) for (const n of sizes) inspections.push(await benchInspection(n));
const drain = only.has('execute') ? await benchDrain(runs) : undefined;
const rollout = only.has('execute') ? await benchRollout(2000) : undefined;
const github = only.has('github') ? await benchGitHub(runs, [15, 1]) : undefined;
const cold = only.has('coldstart') ? await benchColdStart(coldRuns) : undefined;
const taints = only.has('taints') ? await benchTaints(runs) : undefined;
const realNode = only.has('realnode') ? await benchRealNode(Number(args['real-runs'])) : undefined;

// Each section is generated into its own list of lines; see the end for how they are assembled.
let lines: string[] = [];
const sections = new Map<string, string[]>();
const section = (id: string, stamp: string) => {
  lines = [`_Measured ${today}; ${stamp}._`, ''];
  sections.set(id, lines);
};
if (inspections.length) {
  section('inspection', `${runs} runs per figure`);
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
        `| ${n} | ${detectors === 'kured' ? 'kured (no probe pods)' : 'probe + kured'} | ${sec(median(rs.map((r) => r.wallMs)))} (${spread(
          rs.map((r) => r.wallMs),
          sec,
        )}) | ${mib(median(rs.map((r) => r.maxRssKiB)))} (${spread(
          rs.map((r) => r.maxRssKiB),
          mib,
        )}) | ${req} | ${listNodes} = ${pages} ${listNodes === pages ? '✓' : '✗'} | ${getNodes} |`,
      );
    }
  }
  lines.push(
    '',
    `Cluster set-up time (create nodes and pods, not measured above): ${inspections.map((i) => `${i.n} nodes ${sec(i.setupMs)}`).join(', ')}.`,
    '',
  );
}

if (drain) {
  section('drain', `${runs} runs`);
  const ratios = drain.runs.map((r) => r.kubectl / r.ours);
  lines.push(
    '## Drain of a 110-pod node: Reboot Pilot vs `kubectl drain`',
    '',
    `How: per run a fresh cluster with two identical nodes of 110 pods each (10 Deployments × 11 replicas: 4 with a PDB maxUnavailable 1, 3 with minAvailable 50%, 3 without) and two roomy nodes to take them. Reboot Pilot drains one node (cordon + drain, default settings), \`kubectl drain --ignore-daemonsets --delete-emptydir-data\` of the same release (${drain.version}) the other, in the same cluster; who goes first alternates between runs. Wall time from the first request to the last pod gone.`,
    '',
    '| | Wall time | Spread |',
    '|---|---|---|',
    `| Reboot Pilot | ${sec(median(drain.runs.map((r) => r.ours)))} | ${spread(
      drain.runs.map((r) => r.ours),
      sec,
    )} |`,
    `| kubectl drain | ${sec(median(drain.runs.map((r) => r.kubectl)))} | ${spread(
      drain.runs.map((r) => r.kubectl),
      sec,
    )} |`,
    `| Ratio kubectl / Reboot Pilot (per run, then median) | ${median(ratios).toFixed(2)}× | ${spread(ratios, (x) => `${x.toFixed(2)}×`)} |`,
    '',
    'Why: kubectl answers a PDB refusal (429) by retrying that pod every 5 s; Reboot Pilot reads the budgets each round (once a second, a quarter second after progress) and evicts a pod in the first round its budget allows.',
    '',
  );
}
if (rollout) {
  section('rollout', `one rollout, ${rollout.length} nodes`);
  const over = rollout.map((n) => n.total - n.physical);
  lines.push(
    '## Per-node latency in a 10-node rollout',
    '',
    "How: 10 nodes with a pending kernel, a 30-replica Deployment, soak 0, each simulated reboot keeping its node down 2 s. Per node, the executor's total time minus the physical steps it waits for (drain, reboot request to Ready with a new boot ID, evicted workloads available again): what remains is Reboot Pilot's own latency (re-verification with a fresh probe pod, gates, lock checks, cordon/uncordon, progress annotations, the reboot pod).",
    '',
    '| Per node | Median | Spread |',
    '|---|---|---|',
    `| Total | ${sec(median(rollout.map((n) => n.total)))} | ${spread(
      rollout.map((n) => n.total),
      sec,
    )} |`,
    `| Physical steps | ${sec(median(rollout.map((n) => n.physical)))} | ${spread(
      rollout.map((n) => n.physical),
      sec,
    )} |`,
    `| of which drain | ${sec(median(rollout.map((n) => n.drain)))} | ${spread(
      rollout.map((n) => n.drain),
      sec,
    )} |`,
    `| of which reboot (request → Ready) | ${sec(median(rollout.map((n) => n.reboot)))} | ${spread(
      rollout.map((n) => n.reboot),
      sec,
    )} |`,
    `| Reboot Pilot's own latency | ${sec(median(over))} | ${spread(over, sec)} |`,
    '',
  );
}
if (github) githubSection(github.rounds, github.nodes);
if (cold) coldStartSection(cold);
if (taints) taintsSection(taints);

// ---------- evictions per replica (PreferNoSchedule taints) ----------

function taintsSection(rs: TaintRollout[]): void {
  section('taints', `${rs.length / 2} runs of each`);
  const { nodes, deployments, replicasEach } = TAINT_BENCH;
  const per = (taint: boolean) => rs.filter((r) => r.taint === taint).map((r) => r.evictions / r.replicas);
  const row = (what: string, taint: boolean) => {
    const xs = per(taint);
    const worst = rs.filter((r) => r.taint === taint).map((r) => r.worstDeployment);
    const wall = rs.filter((r) => r.taint === taint).map((r) => r.wallMs);
    const floor = rs.filter((r) => r.taint === taint).map((r) => r.floor / r.replicas);
    const mine = rs.filter((r) => r.taint === taint);
    const atFloor = `${mine.filter((r) => r.evictions === r.floor).length} of ${mine.length}`;
    const beyond = mine.map((r) => r.evictions - r.floor);
    const cells = [
      `**${median(xs).toFixed(2)}**`,
      spread(xs, (x) => x.toFixed(2)),
      median(floor).toFixed(2),
      atFloor,
    ];
    cells.push(
      `**${median(beyond)}** (${spread(beyond, String)})`,
      median(worst).toFixed(2),
      sec(median(wall)),
    );
    return `| ${what} | ${cells.join(' | ')} |`;
  };
  const ratio = median(per(false)) / median(per(true));
  lines.push(
    '## Evictions per replica: PreferNoSchedule taints on pending nodes',
    '',
    `How: per run a fresh cluster of ${nodes} KWOK nodes, every one pending, and ${deployments * replicasEach} replicas over ${deployments} Deployments of ${replicasEach} (each under a PDB minAvailable ${replicasEach - 1}); one rollout of all ${nodes} nodes in name order (soak 0, each simulated reboot 2 s). Evictions are counted per replica lineage: every pod the ReplicaSets create during the rollout replaces one evicted pod, so the evictions are the pods created (seen on a watch) and per replica that over ${deployments * replicasEach}. With the taint (the default, \`prefer-no-schedule-taint: true\`) and without it (kured's default), in the same \`npm run bench\` run; which goes first alternates. The first node's pods have no rebooted node to go to, so they move twice at best: the floor is 1 + (pods on the first node) / ${deployments * replicasEach}, ${((nodes + 1) / nodes).toFixed(1)} when pods are spread evenly.`,
    '',
    '| Rollout | Evictions per replica (median) | Spread | Floor of that run (median) | Runs at their floor | Evictions beyond the floor | Worst Deployment (median) | Rollout wall time |',
    '|---|---:|---|---:|---|---|---:|---|',
    row('With the PreferNoSchedule taint', true),
    row('Without (serial rollout, kured default)', false),
    '',
    `Without the taint a pod evicted from one node may land on one still to drain and move again: ${ratio.toFixed(2)}× the evictions of the tainted rollout. (The scheduler's default scoring already favours the emptiest node, which is the one just rebooted, so the serial rollout without the taint is not far off in this even cluster.) Goal: at most 1.1 per replica with the taint: ${median(per(true)) <= 1.1 ? 'met' : `not met (${median(per(true)).toFixed(2)}; the floor of these runs is ${median(rs.filter((r) => r.taint).map((r) => r.floor / r.replicas)).toFixed(2)})`}.`,
    '',
    `KWOK readies a pod only once; a pod the node lifecycle controller marks NotReady late (after its node is back) would stay so and hold every later drain through its PDB, so these runs report such pods Ready again as a kubelet would (test/harness/kubelet-ready.ts): ${rs.reduce((a, r) => a + r.readied, 0)} pod(s) over all ${rs.length} rollouts.`,
    '',
  );
}

// ---------- GitHub API requests ----------

function githubSection(rounds: GitHubRound[], nodes: number): void {
  section('github', `${runs} runs at each progress-interval`);
  const intervals = [...new Set(rounds.map((r) => r.interval))];
  const of = (interval: number | undefined, phase: Phase) =>
    rounds.filter((r) => interval === undefined || r.interval === interval).map((r) => r.phases[phase]);
  const fmt = (xs: number[]) =>
    Math.min(...xs) === Math.max(...xs)
      ? `${xs[0]}`
      : `${median(xs)} (${Math.min(...xs)}–${Math.max(...xs)})`;
  const same = (ss: { routes: Map<string, number> }[]) =>
    ss.every((s) => JSON.stringify([...s.routes].sort()) === JSON.stringify([...ss[0]!.routes].sort()));
  const slopes = (interval: number) =>
    rounds
      .filter((r) => r.interval === interval)
      .map((r) => (r.phases.exec3.total - r.phases.exec1.total) / (nodes - 1));
  const fixed = (interval: number) =>
    rounds
      .filter((r) => r.interval === interval)
      .map((r) => r.phases.exec1.total - (r.phases.exec3.total - r.phases.exec1.total) / (nodes - 1));
  lines.push(
    '## GitHub API requests per action run',
    '',
    `How: the bundled action (\`node action/index.js\`) started as the runner starts it (INPUT_* variables, GITHUB_EVENT_PATH), with GITHUB_API_URL pointing at the loopback fake GitHub of test/harness/github.ts, which validates every request against GitHub's OpenAPI description and records it; requests are counted per action run by method and route template. Tracking issue mode, a real local control plane with ${nodes} KWOK nodes and the permissions of deploy/rbac.yaml; inputs ${Object.entries(
      GITHUB_INPUTS,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ', ',
      )}, the others default. Each run takes a fresh fake GitHub: a scheduled run with ${nodes} nodes pending opens the tracking issue; a second scheduled run finds the cluster unchanged; an \`/approve\` comment from a collaborator with write permission starts a run that executes the ${nodes} nodes; then, with 1 node pending, a scheduled run opens a new issue and an approval executes that 1 node. Per executed node: (requests of the ${nodes}-node execution − those of the 1-node execution) / ${nodes - 1}, per run; the fixed part of an execution is the 1-node count minus that. This is done at the default progress-interval (15 s) and at 1 s. Kubernetes requests for the ledger: the reads and writes of the ConfigMap reboot-pilot-ledger that the action logs at the end of each run (the ledger is deleted before each round: a fresh repository); the planner's and executor's other Kubernetes requests are not in it.`,
    '',
    '| Action run | progress-interval | GitHub requests | Kubernetes requests for the ledger | Same GitHub requests in every run? | Action wall time |',
    '|---|---|---|---|---|---|',
  );
  const row = (what: string, interval: number | undefined, phase: Phase) => {
    const ss = of(interval, phase);
    lines.push(
      `| ${what} | ${interval ?? 'any'} | ${fmt(ss.map((s) => s.total))} | ${fmt(ss.map((s) => s.ledger))} | ${same(ss) ? `yes (${ss.length} runs)` : `no (${ss.length} runs)`} | ${sec(median(ss.map((s) => s.wallMs)))} (${spread(
        ss.map((s) => s.wallMs),
        sec,
      )}) |`,
    );
  };
  row('Scheduled plan, no tracking issue yet: opens it', undefined, 'open');
  row('Scheduled plan, cluster unchanged', undefined, 'unchanged');
  for (const i of intervals) {
    row(`Approval comment: executes 1 node`, i, 'exec1');
    row(`Approval comment: executes ${nodes} nodes`, i, 'exec3');
    const ledgerSlope = rounds
      .filter((r) => r.interval === i)
      .map((r) => (r.phases.exec3.ledger - r.phases.exec1.ledger) / (nodes - 1));
    lines.push(
      `| **Per executed node** | ${i} | **${fmt(slopes(i))}** | ${fmt(ledgerSlope)} | | |`,
      `| Fixed part of an execution | ${i} | ${fmt(fixed(i))} | | | |`,
    );
  }
  const cols: [string, number | undefined, Phase | 'slope'][] = [
    ['Opens issue', undefined, 'open'],
    ['Unchanged', undefined, 'unchanged'],
  ];
  for (const i of intervals)
    cols.push(
      [`Execute 1 (${i} s)`, i, 'exec1'],
      [`Execute ${nodes} (${i} s)`, i, 'exec3'],
      [`Per node (${i} s)`, i, 'slope'],
    );
  const keys = [
    ...new Set(rounds.flatMap((r) => Object.values(r.phases).flatMap((p) => [...p.routes.keys()]))),
  ].sort((a, b) => a.split(' ')[1]!.localeCompare(b.split(' ')[1]!) || a.localeCompare(b));
  lines.push(
    '',
    'By route (median per run; spread where runs differ):',
    '',
    `| Route | ${cols.map((c) => c[0]).join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|`,
  );
  for (const k of keys) {
    const cells = cols.map(([, i, p]) => {
      if (p !== 'slope') return fmt(of(i, p).map((s) => s.routes.get(k) ?? 0));
      return fmt(
        rounds
          .filter((r) => r.interval === i)
          .map(
            (r) => ((r.phases.exec3.routes.get(k) ?? 0) - (r.phases.exec1.routes.get(k) ?? 0)) / (nodes - 1),
          ),
      );
    });
    lines.push(`| \`${k}\` | ${cells.join(' | ')} |`);
  }
  const changed = [
    ...new Set(
      rounds
        .flatMap((r) => r.phases.unchanged.bodyLinesChanged ?? [])
        .map((l) =>
          l.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>').replace(/\b\d{1,2}:\d\d(:\d\d)?\b/g, '<time>'),
        ),
    ),
  ];
  const violations = rounds.flatMap((r) => r.violations);
  lines.push(
    '',
    `Progress: each executed node costs a re-read of the comments before it starts (where /pause, /cancel and /skip take effect) and a body update when it ends; body updates in between are throttled to one per progress-interval and only go out when the executor reports something (a step, or every 10 s of a wait for the reboot or the workloads). The simulated nodes here take about ${sec(median(rounds.filter((r) => r.interval === 15).map((r) => (r.phases.exec3.wallMs - r.phases.exec1.wallMs) / (nodes - 1))))} each (slope of the wall times at progress-interval 15), so at the default of 15 s no throttled update goes out; a real node that takes minutes to drain and reboot adds up to one \`PATCH\` per 15 s of it.`,
    '',
    `The unchanged run's \`PATCH\` rewrites the tracking issue's body; ${
      changed.length
        ? `the lines it changed (times masked): ${changed
            .slice(0, 5)
            .map((l) => `\`${l.slice(0, 160).replace(/\|/g, '\\|').replace(/`/g, "'")}\``)
            .join('; ')}`
        : 'it changed no line of it'
    }.`,
    '',
    violations.length
      ? `The fake recorded ${violations.length} requests or responses outside GitHub's description: ${[...new Set(violations)].slice(0, 5).join('; ')}.`
      : "Every request and response matched GitHub's description (the fake's validation).",
    '',
  );
}

// ---------- cold start ----------

function coldStartSection(c: Awaited<ReturnType<typeof benchColdStart>>): void {
  section('coldstart', `${c.runs.length} runs`);
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
  const total = c.bundle.loaded.reduce((a, f) => a + f.bytes, 0);
  const firsts = [
    ...new Set(
      c.runs.map((r) => r.firstRequest.replace('/repos/contoso/platform/', '/repos/{owner}/{repo}/')),
    ),
  ];
  const row = (what: string, xs: number[]) => `| ${what} | ${ms(median(xs))} | ${spread(xs, ms)} |`;
  lines.push(
    '## Action cold start',
    '',
    `How: \`node action/index.js\` spawned as the runner starts it (INPUT_* variables, a schedule event, a github-token), with GITHUB_API_URL and the kubeconfig's server both pointing at one loopback HTTP server; the time is from the spawn to the first request that server receives (in every run: \`${firsts.join('`, `')}\`), after which the process is killed. One unmeasured run first, so the bundle is in the page cache as on a runner that checked it out. For reference, in separate processes: the \`await import()\` of the bundle alone (run() returns at once without an event, before any I/O), and the spawn-to-exit of an empty \`node -e 0\`.`,
    '',
    '| | Median | Spread |',
    '|---|---|---|',
    row(
      'Spawn → first API request',
      c.runs.map((r) => r.firstRequestMs),
    ),
    row(
      'Import of the bundle alone',
      c.runs.map((r) => r.importMs),
    ),
    row(
      'Spawn → exit of `node -e 0`',
      c.runs.map((r) => r.emptyNodeMs),
    ),
    '',
    `Bundle loaded before run() (index.js and the chunks it imports statically): ${c.bundle.loaded.map((f) => `${f.path} ${kib(f.bytes)}`).join(', ')}; ${(total / 2 ** 20).toFixed(2)} MiB in all (index.js sha256 ${c.bundle.sha256}…).`,
    '',
  );
}

if (realNode) {
  section('realnode', `${realNode.runs.length} real reboots of one VM, ${realNode.accelerator}`);
  lines.push(...realNodeSection(realNode, median, spread));
}

// ---------- assembling the file ----------
// Sections in a fixed order. With --only, a section of another group is kept as the current file
// has it; a kept section without its own "Measured" line gets the date of that file's header.
const ORDER: { id: string; group: string; heading: string }[] = [
  { id: 'inspection', group: 'inspect', heading: '## Inspection' },
  { id: 'drain', group: 'execute', heading: '## Drain of a 110-pod node' },
  { id: 'rollout', group: 'execute', heading: '## Per-node latency in a 10-node rollout' },
  { id: 'github', group: 'github', heading: '## GitHub API requests' },
  { id: 'coldstart', group: 'coldstart', heading: '## Action cold start' },
  { id: 'taints', group: 'taints', heading: '## Evictions per replica' },
  { id: 'realnode', group: 'realnode', heading: '## Real node' },
];
const previous = (() => {
  try {
    return readFileSync(args.out, 'utf8');
  } catch {
    return '';
  }
})();
const oldDate = /^- Date: (\d{4}-\d\d-\d\d); (\d+) runs per figure/m.exec(previous);
const oldBlocks = previous.split(/^(?=## )/m).slice(1);
const body: string[] = [];
const kept: string[] = [];
for (const s of ORDER) {
  const fresh = sections.get(s.id);
  if (fresh) {
    // The generator put the "Measured" line first; it goes under the heading.
    const h = fresh.findIndex((l) => l.startsWith('## '));
    body.push(
      [fresh[h]!, '', fresh[0]!, ...fresh.slice(2, h), ...fresh.slice(h + 1)]
        .join('\n')
        .replace(/\n*$/, '\n'),
    );
  } else if (!only.has(s.group)) {
    const old = oldBlocks.find((b) => b.startsWith(s.heading));
    if (!old) continue;
    kept.push(s.id);
    const [head, ...rest] = old.split('\n');
    const stamped = /^_Measured /m.test(old)
      ? old
      : [
          head,
          '',
          `_Measured ${oldDate?.[1] ?? 'at an unknown date'}${oldDate ? `; ${oldDate[2]} runs per figure` : ''} (kept from an earlier \`npm run bench\`)._`,
          ...rest,
        ].join('\n');
    body.push(stamped.replace(/\n*$/, '\n'));
  }
}
const header = [
  '# Benchmarks',
  '',
  '_Generated by `npm run bench` (tools/bench.ts); do not edit by hand._',
  '',
  machine(),
];
if (kept.length)
  header.push(
    `- This file was last written by \`npm run bench -- --only ${[...only].join(',')}\` on ${today}: the other sections (${kept.map((k) => ORDER.find((o) => o.id === k)!.heading.slice(3)).join('; ')}) are kept from the previous file, as measured on the date each gives; machine and versions above are those of the last run.`,
  );
writeFileSync(args.out, [...header, '', body.join('\n')].join('\n'));
log(`wrote ${args.out}${kept.length ? ` (kept: ${kept.join(', ')})` : ''}`);
process.exit(0);
