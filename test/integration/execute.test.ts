// Executing plans on the real control plane, with the invariant watcher running throughout:
// kured's e2e scenarios, kill -9 at every step boundary, concurrent executors, kured's lock, a
// node that never returns, and a drain that PDBs hold until its timeout.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../harness/controlplane.ts';
import { type NodeSimulator, waitUntil } from '../harness/simulator.ts';
import { InvariantWatcher } from '../harness/invariants.ts';
import { isReady } from '../harness/nodes.ts';
import { stopAll } from '../harness/teardown.ts';
import { FAST_EXECUTE_SETTINGS } from '../harness/action.ts';
import {
  createAksNodes,
  markRebootRequired,
  restoreNodes,
  savePlan,
  startTestBed,
  runBundledCli,
} from '../harness/fixtures.ts';
import { applyProductRbac, guardedDeployment } from '../harness/workloads.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';
import { parseExecuteSettings, parsePlanSettings } from '../../src/settings.ts';
import { MERGE_PATCH as MERGE, type KubeClients } from '../../src/kube/client.ts';
import { runPlan } from '../../src/execute/run.ts';
import { readPlanFile } from '../../src/plan/file.ts';
import { ANN } from '../../src/kube/labels.ts';
import { drainNode } from '../../src/drain/drain.ts';
import { KURED_LOCK_ANNOTATION } from '../../src/kube/labels.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let cluster: Cluster;
let sim: NodeSimulator;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let policy: k8s.PolicyV1Api;
let clients: KubeClients;
let dir: string;
let watcher: InvariantWatcher;
let rbacKubeconfig: string;

const nodes = [0, 1, 2, 3].map((i) => `aks-nodepool1-12345678-vmss00000${i}`);
let kernelSerial = 1081;

const EXEC = FAST_EXECUTE_SETTINGS;
const planSettings = (extra: Record<string, string> = {}) =>
  parsePlanSettings({
    kubeconfig: cluster.kubeconfigPath,
    'cluster-name': 'exec',
    'probe-timeout': '20',
    ...extra,
  });

/** A newer kernel and the sentinel on these nodes, as unattended-upgrades leaves them. */
function pend(...names: string[]): string {
  return markRebootRequired(sim, `5.15.0-${++kernelSerial}-azure`, names);
}

async function makePlan(extra: Record<string, string> = {}) {
  return savePlan(dir, await inspectCluster(clients, planSettings(extra), () => undefined));
}

async function run(file: string, extra: Record<string, string> = {}, planExtra: Record<string, string> = {}) {
  return runPlan(clients, readPlanFile(readFileSync(file, 'utf8')), {
    plan: planSettings(planExtra),
    execute: parseExecuteSettings({ ...EXEC, ...extra }),
    log: () => undefined,
  });
}

/** The bundled CLI under the product's RBAC; `onStderr` may kill it. */
function runCli(args: string[], onStderr?: (text: string, kill: (signal: NodeJS.Signals) => void) => void) {
  return runBundledCli({ kubeconfig: rbacKubeconfig, settings: EXEC, args, onStderr });
}

/** A Deployment whose replicas all run on `node`, guarded by a PDB (the others are cordoned meanwhile). */
async function guardedOnNode(
  node: string,
  name: string,
  replicas: number,
  budget: Pick<k8s.V1PodDisruptionBudgetSpec, 'minAvailable' | 'maxUnavailable'>,
) {
  const others = nodes.filter((x) => x !== node);
  for (const o of others) await core.patchNode({ name: o, body: { spec: { unschedulable: true } } }, MERGE);
  const labels = { app: name };
  await apps.createNamespacedDeployment({
    namespace: 'shop',
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    },
  });
  await policy.createNamespacedPodDisruptionBudget({
    namespace: 'shop',
    body: { metadata: { name }, spec: { ...budget, selector: { matchLabels: labels } } },
  });
  await waitUntil(
    `${name} PDB computed`,
    async () =>
      (await policy.readNamespacedPodDisruptionBudget({ name, namespace: 'shop' })).status?.currentHealthy ===
      replicas,
  );
  for (const o of others) await core.patchNode({ name: o, body: { spec: { unschedulable: false } } }, MERGE);
}

/** The budget goes first: deleting its pods under it would be a disruption of our own making. */
async function removeGuarded(name: string) {
  await policy.deleteNamespacedPodDisruptionBudget({ name, namespace: 'shop' });
  await apps.deleteNamespacedDeployment({ name, namespace: 'shop' });
}

/** The run after a kill -9: the dead run's lease expires after its TTL (5 s here), then it is taken over. */
async function rerun(file: string, extra: string[] = []) {
  let r = await runCli(['--plan', file, ...extra]);
  for (let i = 0; i < 10 && /holds the lock/.test(r.stderr); i++) {
    await new Promise((res) => setTimeout(res, 1500));
    r = await runCli(['--plan', file, ...extra]);
  }
  return r;
}

const rebootsOf = (n: string) => sim.reboots.filter((r) => r.node === n).length;
async function cordoned(): Promise<string[]> {
  return (await core.listNode()).items.filter((n) => n.spec?.unschedulable).map((n) => n.metadata!.name!);
}

before(async () => {
  ({
    cluster,
    simulator: sim,
    core,
    apps,
    policy,
    clients,
    directory: dir,
  } = await startTestBed({
    directoryPrefix: 'rp-exec-',
    cluster: { users: [{ name: 'reboot-pilot' }] },
    rebootDownMs: 1000,
  }));
  // The CLI runs below use exactly the permissions of deploy/rbac.yaml.
  rbacKubeconfig = await applyProductRbac(cluster, dir);
  await createAksNodes(sim, nodes.length);
  await guardedDeployment(cluster, {
    namespace: 'shop',
    name: 'web',
    replicas: 4,
    minAvailable: 3,
    cpu: '100m',
    container: 'c',
  });
});

after(async () => {
  await stopAll(sim, cluster);
});

beforeEach(async () => {
  watcher = new InvariantWatcher(cluster);
  await watcher.start();
});

afterEach(async () => {
  const v = watcher.stop();
  // Each test starts from patched, schedulable, powered nodes, whatever the last one left.
  sim.neverReturn.clear();
  await restoreNodes(sim, core, nodes, { powerOn: 'new-boot' });
  await core.deleteCollectionNamespacedPod({
    namespace: 'kube-system',
    labelSelector: 'reboot-pilot.io/role',
  });
  assert.deepEqual(v, [], 'invariants held throughout');
  assert.ok(watcher.maxUnavailable <= 1);
});

test('two nodes are rebooted strictly one after the other, each exactly once, into the planned kernel', async () => {
  const kernel = pend(nodes[0]!, nodes[1]!);
  const p = await makePlan();
  const order = p.plan.nodes.map((n) => n.name);
  assert.deepEqual([...order].sort(), [nodes[0], nodes[1]]);
  const before = sim.reboots.length;
  const r = await run(p.file);
  assert.equal(r.state, 'completed', r.message);
  assert.equal(r.message, '2 rebooted, 0 done earlier, 0 skipped, of 2 planned');
  const mine = sim.reboots.slice(before);
  assert.deepEqual(
    mine.map((x) => x.node),
    order,
    'in plan order',
  );
  for (const n of r.nodes) {
    assert.equal(n.outcome, 'rebooted');
    assert.equal(n.kernelAfter, kernel);
    assert.notEqual(n.bootIdAfter, n.bootIdBefore);
  }
  // The second node was touched only after the first was back and uncordoned.
  assert.ok(Date.parse(r.nodes[1]!.startedAt!) >= Date.parse(r.nodes[0]!.finishedAt!));
  assert.equal(watcher.maxUnavailable, 1);
  assert.deepEqual(await cordoned(), []);
  assert.deepEqual(r.leftCordoned, []);
  for (const n of order) {
    const node = await sim.node(n);
    assert.equal(node.metadata?.annotations?.[ANN.step], 'done');
    assert.equal(
      node.metadata.annotations['cluster-autoscaler.kubernetes.io/scale-down-disabled'],
      undefined,
    );
  }
  // Running the same plan again changes nothing: every node is already done.
  const again = await run(p.file);
  assert.equal(again.state, 'completed');
  assert.deepEqual(
    again.nodes.map((n) => n.outcome),
    ['already-done', 'already-done'],
  );
  assert.equal(again.message, '0 rebooted, 2 done earlier, 0 skipped, of 2 planned');
  assert.equal(sim.reboots.length, before + 2);
});

test('a node cordoned before the run is rebooted and stays cordoned', async () => {
  const n = nodes[2]!;
  await core.patchNode({ name: n, body: { spec: { unschedulable: true } } }, MERGE);
  pend(n);
  const p = await makePlan();
  const r = await run(p.file);
  assert.equal(r.state, 'completed', r.message);
  assert.equal(rebootsOf(n), 1);
  const node = await sim.node(n);
  assert.equal(node.spec?.unschedulable, true, 'still cordoned');
  assert.deepEqual(r.leftCordoned, [], 'not cordoned by us');
  await core.patchNode({ name: n, body: { spec: { unschedulable: false } } }, MERGE);
});

test('a blocking pod holds the reboot; the run pauses without touching the node, and finishes once the pod is gone', async () => {
  const n = nodes[3]!;
  pend(n);
  await core.createNamespacedPod({
    namespace: 'shop',
    body: {
      metadata: { name: 'batch', labels: { workload: 'batch' } },
      spec: { nodeName: n, containers: [{ name: 'c', image: 'busybox' }] },
    },
  });
  const p = await makePlan({ 'blocking-pod-selector': 'workload=batch', force: 'true' });
  const r = await run(p.file);
  assert.equal(r.state, 'paused');
  assert.match(r.message, /blocking pods: shop\/batch on .* match the blocking pod selector workload=batch/);
  assert.equal(rebootsOf(n), 0);
  assert.equal((await sim.node(n)).spec?.unschedulable, undefined);
  await core.deleteNamespacedPod({ name: 'batch', namespace: 'shop' });
  await waitUntil(
    'batch pod gone',
    async () =>
      !(await core.listNamespacedPod({ namespace: 'shop', fieldSelector: 'metadata.name=batch' })).items
        .length,
  );
  const r2 = await run(p.file);
  assert.equal(r2.state, 'completed', r2.message);
  assert.equal(rebootsOf(n), 1);
});

test('a PDB-limited drain waits, then proceeds when capacity appears', async () => {
  const n = nodes[0]!;
  // Both replicas of "api" on one node, a PDB that allows no disruption.
  await guardedOnNode(n, 'api', 2, { minAvailable: 2 });
  pend(n);
  const p = await makePlan();
  assert.ok(p.plan.nodes[0]!.risks.some((r) => r.kind === 'pdb-blocks-eviction'));
  const before = rebootsOf(n);
  const running = run(p.file);
  // The drain is refused (429) and keeps retrying...
  await waitUntil(
    'drain under way',
    async () => (await sim.node(n)).metadata?.annotations?.[ANN.step] === 'cordoned',
  );
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(
    (await sim.node(n)).metadata?.annotations?.[ANN.step],
    'cordoned',
    'still draining while the PDB allows nothing',
  );
  // ...until a third replica gives the budget room.
  await apps.patchNamespacedDeploymentScale(
    { name: 'api', namespace: 'shop', body: { spec: { replicas: 3 } } },
    MERGE,
  );
  const r = await running;
  assert.equal(r.state, 'completed', r.message);
  assert.ok(r.nodes[0]!.timings.drain! >= 4000, `drain took ${r.nodes[0]!.timings.drain} ms`);
  assert.equal(rebootsOf(n), before + 1);
  await removeGuarded('api');
});

// kill -9 at each step boundary, then a rerun: it converges every time.
const boundaries: [string, (n: k8s.V1Node) => boolean][] = [
  ['after cordon', (n) => n.metadata?.annotations?.[ANN.step] === 'cordoned'],
  ['after the reboot was requested', (n) => n.metadata?.annotations?.[ANN.step] === 'rebooting'],
  ['while waiting for Ready', (n) => n.metadata?.annotations?.[ANN.step] === 'rebooting' && !isReady(n)],
  ['after uncordon', (n) => n.metadata?.annotations?.[ANN.step] === 'uncordoned'],
];
for (const [when, at] of boundaries) {
  test(`kill -9 of the executor ${when}, then a rerun: the node is rebooted exactly once and nothing stays cordoned`, async () => {
    const n = nodes[1]!;
    const kernel = pend(n);
    const p = await makePlan({ 'delete-emptydir-data': 'true' });
    assert.deepEqual(
      p.plan.nodes.map((x) => x.name),
      [n],
    );
    const before = rebootsOf(n);
    let killed = false;
    const w = new k8s.Watch(cluster.kc);
    let kill: ((s: NodeJS.Signals) => void) | undefined;
    const ctl = await w.watch(
      `/api/v1/nodes`,
      { fieldSelector: `metadata.name=${n}` },
      (_t: string, node: k8s.V1Node) => {
        if (!killed && kill && at(node)) {
          killed = true;
          kill('SIGKILL');
        }
      },
      () => undefined,
    );
    const first = await runCli(
      ['--plan', p.file, '--workload-timeout', '60', '--soak', '2'],
      (_t, k) => (kill = k),
    );
    ctl.abort();
    assert.ok(killed, `the executor was killed ${when} (stderr: ${first.stderr})`);
    assert.equal(first.signal, 'SIGKILL');
    if (when === 'after the reboot was requested') {
      // Resumed after the reboot timeout has passed since the request: the node is long back,
      // and that counts (it is looked at once more, not given up on unseen).
      await new Promise((r) => setTimeout(r, 11_000));
    }
    const second =
      when === 'after the reboot was requested'
        ? await rerun(p.file, ['--reboot-timeout', '10'])
        : await rerun(p.file);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal(rebootsOf(n), before + 1, 'rebooted exactly once');
    const node = await sim.node(n);
    assert.equal(node.status?.nodeInfo?.kernelVersion, kernel);
    assert.equal(node.spec?.unschedulable, undefined);
    assert.equal(node.metadata?.annotations?.[ANN.step], 'done');
    assert.deepEqual(await cordoned(), []);
    assert.equal(
      (await core.listPodForAllNamespaces({ labelSelector: 'reboot-pilot.io/role' })).items.length,
      0,
      'no reboot or probe pods left',
    );
  });
}

// Killed while the drain retries an eviction a PDB refuses. (Killing a client in the middle of
// a *successful* eviction can leave the pod in the PDB's disruptedPods: the disruption
// controller then counts it as disrupted for its 2-minute DeletionTimeout, and the drain waits
// that long. Real Kubernetes behaviour; the drain handles it, the test avoids the wait.)
test('mid-drain kill -9 (evictions held by a PDB), then a rerun once capacity appears: converges', async () => {
  const n = nodes[2]!;
  await guardedOnNode(n, 'queue', 2, { minAvailable: 2 });
  pend(n);
  const p = await makePlan();
  const before = rebootsOf(n);
  const first = await runCli(['--plan', p.file], (text, kill) => {
    if (/waiting, PodDisruptionBudget shop\/queue allows no disruption now/.test(text)) kill('SIGKILL');
  });
  assert.equal(first.signal, 'SIGKILL');
  assert.equal(
    (await sim.node(n)).metadata?.annotations?.[ANN.step],
    'cordoned',
    'killed in the middle of the drain',
  );
  assert.equal((await sim.node(n)).spec?.unschedulable, true);
  await apps.patchNamespacedDeploymentScale(
    { name: 'queue', namespace: 'shop', body: { spec: { replicas: 3 } } },
    MERGE,
  );
  const second = await rerun(p.file);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(rebootsOf(n), before + 1);
  assert.deepEqual(await cordoned(), []);
  await removeGuarded('queue');
});

test('two concurrent executors: exactly one proceeds, the other names the holder', async () => {
  const n = nodes[3]!;
  pend(n);
  const p = await makePlan();
  const before = rebootsOf(n);
  const [a, b] = await Promise.all([runCli(['--plan', p.file]), runCli(['--plan', p.file])]);
  const winners = [a, b].filter((r) => r.code === 0);
  const losers = [a, b].filter((r) => r.code !== 0);
  assert.equal(winners.length, 1, a.stderr + b.stderr);
  assert.match(
    losers[0]!.stderr,
    /(holds|took) the lock kube-system\/reboot-pilot.*: \S+\/pid-\d+#[0-9a-f]+/,
  );
  assert.equal(rebootsOf(n), before + 1);
});

test('kured holding its lock stops the run before anything is touched; take-kured-lock holds it for the run', async () => {
  const n = nodes[0]!;
  pend(n);
  const p = await makePlan();
  const ds = await apps.createNamespacedDaemonSet({
    namespace: 'kube-system',
    body: {
      metadata: {
        name: 'kured',
        annotations: {
          [KURED_LOCK_ANNOTATION]: JSON.stringify({
            nodeID: 'aks-other-node',
            metadata: { unschedulable: false },
            created: new Date().toISOString(),
            TTL: 0,
          }),
        },
      },
      spec: {
        selector: { matchLabels: { app: 'kured' } },
        template: {
          metadata: { labels: { app: 'kured' } },
          spec: { nodeSelector: { none: 'none' }, containers: [{ name: 'kured', image: 'kured' }] },
        },
      },
    },
  });
  assert.ok(ds);
  const before = rebootsOf(n);
  await assert.rejects(
    run(p.file),
    /kured holds its reboot lock \(weave\.works\/kured-node-lock on daemonsets\.apps kube-system\/kured\): aks-other-node/,
  );
  assert.equal(rebootsOf(n), before);
  assert.equal((await sim.node(n)).spec?.unschedulable, undefined);
  // kured releases; we take its lock for the run and give it back.
  await apps.patchNamespacedDaemonSet(
    {
      name: 'kured',
      namespace: 'kube-system',
      body: { metadata: { annotations: { [KURED_LOCK_ANNOTATION]: null } } },
    },
    MERGE,
  );
  const seen: string[] = [];
  const w = new k8s.Watch(cluster.kc);
  const ctl = await w.watch(
    '/apis/apps/v1/namespaces/kube-system/daemonsets',
    { fieldSelector: 'metadata.name=kured' },
    (_t: string, d: k8s.V1DaemonSet) => {
      const v = d.metadata?.annotations?.[KURED_LOCK_ANNOTATION];
      if (v) seen.push(v);
    },
    () => undefined,
  );
  const r = await run(p.file, { 'take-kured-lock': 'true' });
  ctl.abort();
  assert.equal(r.state, 'completed', r.message);
  assert.ok(
    seen.some((v) => /"nodeID":"reboot-pilot:/.test(v)),
    'kured saw its lock held by Reboot Pilot',
  );
  const after = await apps.readNamespacedDaemonSet({ name: 'kured', namespace: 'kube-system' });
  assert.equal(after.metadata?.annotations?.[KURED_LOCK_ANNOTATION], undefined, 'and released');
  await apps.deleteNamespacedDaemonSet({ name: 'kured', namespace: 'kube-system' });
});

test('a node that never comes back stops the run: it is named as left cordoned and no second node is touched', async () => {
  pend(nodes[1]!, nodes[2]!);
  const p = await makePlan();
  const [a, b] = p.plan.nodes.map((x) => x.name) as [string, string];
  assert.deepEqual([a, b].sort(), [nodes[1], nodes[2]]);
  sim.neverReturn.add(a);
  const beforeB = rebootsOf(b);
  const r = await run(p.file, { 'reboot-timeout': '10' });
  assert.equal(r.state, 'failed');
  assert.match(
    r.message,
    new RegExp(
      `${a} did not come back: no new boot ID and Ready within the reboot timeout .*it stays cordoned`,
    ),
  );
  assert.deepEqual(r.leftCordoned, [a]);
  assert.deepEqual(
    r.nodes.map((x) => x.outcome),
    ['failed', 'not-started'],
  );
  assert.equal(rebootsOf(b), beforeB);
  assert.equal((await sim.node(b)).spec?.unschedulable, undefined);
});

test('a PDB that allows no disruption until the drain timeout fails the run with a clear report; blind evictions get real 429s', async () => {
  const n = nodes[3]!;
  await guardedOnNode(n, 'db', 1, { minAvailable: 1 });
  pend(n);
  const p = await makePlan();
  const before = rebootsOf(n);
  const r = await run(p.file, { 'drain-timeout': '10' });
  assert.equal(r.state, 'failed');
  assert.match(
    r.message,
    /drain of .* timed out after 10s; still on the node: shop\/db-[a-z0-9-]+ \(PodDisruptionBudget shop\/db allows no disruption now\)/,
  );
  assert.deepEqual(r.leftCordoned, [n]);
  assert.equal(rebootsOf(n), before, 'never rebooted');
  assert.match((await sim.node(n)).metadata?.annotations?.[ANN.error] ?? '', /timed out/);
  // Without reading budgets first, every eviction is sent and the API server answers 429 each time.
  const lines: string[] = [];
  await assert.rejects(
    drainNode(
      clients,
      n,
      {
        deleteEmptyDirData: false,
        force: false,
        timeoutSeconds: 5,
        gracePeriodSeconds: -1,
        podSelector: '',
        retryDelayMs: 500,
        concurrency: 10,
        budgetAware: false,
      },
      (l) => lines.push(l),
    ),
    /timed out after 5s; still on the node: shop\/db-[a-z0-9-]+ \(eviction refused: Cannot evict pod as it would violate the pod's disruption budget/,
  );
  assert.ok(lines.some((l) => /eviction refused: .*retrying with back-off/.test(l)));
  // The operator lifts the PDB and re-plans: the node is still cordoned by us (another plan's
  // record), so the new run uncordons it afterwards rather than taking it for "cordoned before".
  await removeGuarded('db');
  const again = await makePlan();
  assert.match(
    again.plan.nodes[0]!.risks.find((x) => x.kind === 'already-cordoned')!.detail,
    /still cordoned by an unfinished Reboot Pilot run \(.*drain of .* timed out.*\); it is uncordoned after its reboot/,
  );
  const r3 = await run(again.file);
  assert.equal(r3.state, 'completed', r3.message);
  assert.equal(rebootsOf(n), before + 1);
  assert.equal((await sim.node(n)).spec?.unschedulable, undefined, 'uncordoned: it was us who cordoned it');
});

test('a firing alert pauses the run between nodes; once it clears, nodes get pre- and post-reboot labels and chat messages go out', async () => {
  let firing = true;
  const messages: { text: string }[] = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/api/v1/alerts') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            status: 'success',
            data: {
              alerts: firing
                ? [
                    { labels: { alertname: 'HighErrorRate' }, state: 'firing' },
                    { labels: { alertname: 'Watchdog' }, state: 'firing' },
                  ]
                : [{ labels: { alertname: 'Watchdog' }, state: 'firing' }],
            },
          }),
        );
      } else if (req.url === '/hook') {
        messages.push(JSON.parse(body) as { text: string });
        res.writeHead(200).end('ok');
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  try {
    const n = nodes[0]!;
    pend(n);
    const p = await makePlan();
    const opts = {
      'alerts-url': base,
      'alerts-exclude': '^Watchdog$',
      'pre-reboot-node-labels': 'reboot-pilot.io/rebooting=true',
      'post-reboot-node-labels': 'reboot-pilot.io/rebooting=false,reboot-pilot.io/patched=yes',
      'notify-url': `${base}/hook`,
      'notify-format': 'slack',
    };
    const before = rebootsOf(n);
    const paused = await run(p.file, opts);
    assert.equal(paused.state, 'paused');
    assert.equal(paused.message, 'alerts: active alerts: HighErrorRate');
    assert.equal(rebootsOf(n), before);
    assert.equal(messages.length, 0);
    firing = false;
    const r = await run(p.file, opts);
    assert.equal(r.state, 'completed', r.message);
    const labels = (await sim.node(n)).metadata?.labels ?? {};
    assert.equal(labels['reboot-pilot.io/rebooting'], 'false');
    assert.equal(labels['reboot-pilot.io/patched'], 'yes');
    await waitUntil('three chat messages', () => messages.length === 3);
    assert.deepEqual(
      messages.map((m) => m.text),
      [`Draining node ${n}`, `Rebooting node ${n}`, `Node ${n} rebooted and uncordoned`],
    );
  } finally {
    srv.close();
  }
});
