// Safety edges on the real control plane, kubeadm-style (one control-plane node, three
// workers), with the invariant watcher running throughout: a node that flaps after its reboot,
// another node going NotReady, budgets that can never allow a disruption, overlapping budgets,
// credential errors from the real CLI, and the API server going away while its own node reboots
// (the test stops the control-plane components, API server included, while the simulator has the
// node powered off, and starts them again before it boots).
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../harness/controlplane.ts';
import { type NodeSimulator, waitUntil } from '../harness/simulator.ts';
import { InvariantWatcher } from '../harness/invariants.ts';
import { kubeadmNode } from '../harness/nodes.ts';
import { stopAll } from '../harness/teardown.ts';
import { ubuntu2404 } from '../fixtures/hosts.ts';
import { FAST_EXECUTE_SETTINGS } from '../harness/action.ts';
import { markRebootRequired, restoreNodes, savePlan, startTestBed } from '../harness/fixtures.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';
import { parseExecuteSettings, parsePlanSettings } from '../../src/settings.ts';
import { MERGE_PATCH as MERGE, type KubeClients } from '../../src/kube/client.ts';
import { runPlan } from '../../src/execute/run.ts';
import { readPlanFile } from '../../src/plan/file.ts';
import { ANN } from '../../src/kube/labels.ts';
import { drainNode } from '../../src/drain/drain.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'action', 'cli.js');

let cluster: Cluster;
let sim: NodeSimulator;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let policy: k8s.PolicyV1Api;
let clients: KubeClients;
let dir: string;
let watcher: InvariantWatcher;

const CP = 'cp-1';
const [W1, W2, W3] = ['worker-1', 'worker-2', 'worker-3'] as const;
const ALL = [CP, W1, W2, W3];
const CP_LABEL = 'node-role.kubernetes.io/control-plane';
let kernelSerial = 50;

const EXEC = { ...FAST_EXECUTE_SETTINGS, 'reboot-timeout': '60' };
const planSettings = (extra: Record<string, string> = {}) =>
  parsePlanSettings({
    kubeconfig: cluster.kubeconfigPath,
    'cluster-name': 'safety',
    'probe-timeout': '20',
    ...extra,
  });

function pend(...names: string[]): string {
  return markRebootRequired(sim, `6.8.0-${++kernelSerial}-generic`, names);
}

async function makePlan(extra: Record<string, string> = {}) {
  return savePlan(dir, await inspectCluster(clients, planSettings(extra), () => undefined));
}

async function run(
  file: string,
  extra: Record<string, string> = {},
  log: (l: string) => void = () => undefined,
) {
  return runPlan(clients, readPlanFile(readFileSync(file, 'utf8')), {
    plan: planSettings(),
    execute: parseExecuteSettings({ ...EXEC, ...extra }),
    log,
  });
}

const rebootsOf = (n: string) => sim.reboots.filter((r) => r.node === n).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Deployment pinned to one node. */
async function pinned(name: string, node: string, replicas: number) {
  const labels = { app: name };
  await apps.createNamespacedDeployment({
    namespace: 'shop',
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': node },
            containers: [{ name: 'c', image: 'nginx' }],
          },
        },
      },
    },
  });
  await waitUntil(
    `${name} available`,
    async () =>
      (await apps.readNamespacedDeployment({ name, namespace: 'shop' })).status?.availableReplicas ===
      replicas,
    60_000,
  );
}

async function budget(
  name: string,
  app: string,
  spec: Pick<k8s.V1PodDisruptionBudgetSpec, 'minAvailable' | 'maxUnavailable'>,
) {
  await policy.createNamespacedPodDisruptionBudget({
    namespace: 'shop',
    body: { metadata: { name }, spec: { ...spec, selector: { matchLabels: { app } } } },
  });
  await waitUntil(`${name} computed`, async () => {
    const p = await policy.readNamespacedPodDisruptionBudget({ name, namespace: 'shop' });
    return p.status?.observedGeneration === p.metadata?.generation && (p.status?.expectedPods ?? 0) > 0;
  });
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
  } = await startTestBed({ directoryPrefix: 'rp-safety-', rebootDownMs: 1000 }));
  await sim.createNodes([
    kubeadmNode(CP, {
      labels: { [CP_LABEL]: '', 'kubernetes.io/hostname': CP, 'kubernetes.io/os': 'linux' },
      taints: [{ key: CP_LABEL, effect: 'NoSchedule' }],
    }),
    kubeadmNode(W1),
    kubeadmNode(W2),
    kubeadmNode(W3),
  ]);
  for (const n of ALL)
    sim.writeHostFiles(n, {
      'etc/os-release': ubuntu2404['etc/os-release']!,
      'boot/vmlinuz-6.8.0-45-generic': 'kernel',
    });
  await core.createNamespace({ body: { metadata: { name: 'shop' } } });
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
  sim.whileDown.clear();
  await restoreNodes(sim, core, ALL, { powerOn: 'same-boot' });
  await core.deleteCollectionNamespacedPod({
    namespace: 'kube-system',
    labelSelector: 'reboot-pilot.io/role',
  });
  assert.deepEqual(v, [], 'invariants held throughout');
  assert.ok(watcher.maxUnavailable <= 1, `at most one node unavailable (saw ${watcher.maxUnavailable})`);
});

test('the watcher counts every unavailable node while one of ours is in a step, whoever made it so', async () => {
  // Someone else cordons a second node while ours is in a step (no executor: the watcher alone).
  await core.patchNode(
    {
      name: W1,
      body: { spec: { unschedulable: true }, metadata: { annotations: { [ANN.step]: 'cordoned' } } },
    },
    MERGE,
  );
  await core.patchNode({ name: W2, body: { spec: { unschedulable: true } } }, MERGE);
  await waitUntil('a violation', () => watcher.violations.length > 0);
  assert.match(
    watcher.violations[0]!,
    /2 nodes unavailable while worker-1 is in a Reboot Pilot step: worker-1, worker-2/,
  );
  assert.equal(watcher.maxUnavailable, 2);
  await core.patchNode({ name: W2, body: { spec: { unschedulable: false } } }, MERGE);
  await core.patchNode(
    { name: W1, body: { spec: { unschedulable: false }, metadata: { annotations: { [ANN.step]: null } } } },
    MERGE,
  );
  // Seen, as it should be: the other tests start from a clean record.
  watcher.violations.length = 0;
  watcher.maxUnavailable = 0;
});

test('a node that flaps during its soak fails the run; the second node is never touched', async () => {
  pend(W1, W2);
  const p = await makePlan();
  const [a, b] = p.plan.nodes.map((n) => n.name) as [string, string];
  assert.deepEqual([a, b], [W1, W2]);
  const beforeB = rebootsOf(b);
  let flapping: Promise<void> | undefined;
  const r = await run(p.file, { soak: '8' }, (line) => {
    // Back with its new boot ID, uncordoned, soaking: then it drops out for longer than the soak.
    if (!flapping && line.startsWith(`${a}: soak`)) flapping = sim.flap(a, 12_000);
  });
  await flapping;
  assert.equal(r.state, 'failed');
  assert.match(
    r.message,
    new RegExp(
      `^${a}: went NotReady during its soak \\(KubeletNotReady\\): it is unstable after its reboot; no further node is started$`,
    ),
  );
  assert.deepEqual(
    r.nodes.map((n) => n.outcome),
    ['failed', 'not-started'],
  );
  assert.equal(rebootsOf(b), beforeB, 'the second node was not rebooted');
  const nodeB = await sim.node(b);
  assert.equal(nodeB.spec?.unschedulable, undefined, 'nor cordoned');
  assert.equal(nodeB.metadata?.annotations?.[ANN.step], undefined, 'nor given a step');
  assert.equal(watcher.maxUnavailable, 1);
});

test('a node this plan rebooted that is NotReady when the next node would start fails the run before it', async () => {
  pend(W1, W2);
  const p = await makePlan();
  const [a, b] = p.plan.nodes.map((n) => n.name) as [string, string];
  const beforeA = rebootsOf(a);
  const first = await run(p.file, { 'max-nodes': '1' });
  assert.equal(first.state, 'paused', first.message);
  assert.equal(rebootsOf(a), beforeA + 1);
  await sim.powerOff(a);
  const beforeB = rebootsOf(b);
  const r = await run(p.file);
  assert.equal(r.state, 'failed');
  assert.match(
    r.message,
    new RegExp(
      `^${a}, rebooted by this plan, is NotReady since \\S+ \\(KubeletNotReady\\): it is unstable after its reboot; no further node is started$`,
    ),
  );
  assert.deepEqual(
    r.nodes.map((n) => n.outcome),
    ['already-done', 'not-started'],
  );
  assert.equal(rebootsOf(b), beforeB);
  assert.equal((await sim.node(b)).spec?.unschedulable, undefined);
});

test('another node going NotReady after the plan was made pauses the run; it continues once that node is back', async () => {
  pend(W1);
  const p = await makePlan();
  assert.deepEqual(
    p.plan.nodes.map((n) => n.name),
    [W1],
  );
  const before = rebootsOf(W1);
  await sim.powerOff(W3);
  const r = await run(p.file);
  assert.equal(r.state, 'paused');
  assert.match(
    r.message,
    /^cluster health: worker-3 is NotReady since \S+ \(KubeletNotReady\) \(not so when the plan was made\); no node is started while another is unavailable$/,
  );
  assert.equal(rebootsOf(W1), before);
  assert.equal((await sim.node(W1)).spec?.unschedulable, undefined);
  const n3 = await sim.node(W3);
  await sim.powerOn(W3, {
    bootID: n3.status!.nodeInfo!.bootID,
    kernelVersion: n3.status!.nodeInfo!.kernelVersion,
  });
  const again = await run(p.file);
  assert.equal(again.state, 'completed', again.message);
  assert.equal(rebootsOf(W1), before + 1);
});

test('a budget that can never allow a disruption is a blocking risk that names it and the fix', async () => {
  pend(W1);
  await pinned('ledger', W1, 2);
  try {
    const cases: [Pick<k8s.V1PodDisruptionBudgetSpec, 'minAvailable' | 'maxUnavailable'>, string][] = [
      [{ maxUnavailable: 0 }, 'maxUnavailable 0'],
      [{ minAvailable: '100%' }, 'minAvailable 100%'],
      [{ minAvailable: 2 }, 'minAvailable 2 with 2 pods'],
    ];
    for (const [spec, why] of cases) {
      await budget('ledger', 'ledger', spec);
      const p = await makePlan();
      const risk = p.plan.nodes[0]!.risks.find((x) => x.kind === 'pdb-blocks-eviction');
      assert.ok(risk, JSON.stringify(p.plan.nodes[0]!.risks));
      assert.equal(risk.blocking, true, why);
      assert.match(
        risk.detail,
        new RegExp(
          `^PodDisruptionBudget shop/ledger can never allow a disruption \\(${why}\\): .*Fix: set maxUnavailable to 1`,
        ),
      );
      const md = renderMarkdown(p.plan, p.planId, { now: new Date() });
      assert.match(
        md,
        /⛔ \*\*Blocking\*\* \(pdb-blocks-eviction\): PodDisruptionBudget shop\/ledger can never allow a disruption/,
      );
      await policy.deleteNamespacedPodDisruptionBudget({ name: 'ledger', namespace: 'shop' });
      await waitUntil(
        'budget gone',
        async () => !(await policy.listNamespacedPodDisruptionBudget({ namespace: 'shop' })).items.length,
      );
    }
    // One that allows a disruption later (2 of 3 must stay) is only a warning.
    await apps.patchNamespacedDeploymentScale(
      { name: 'ledger', namespace: 'shop', body: { spec: { replicas: 3 } } },
      MERGE,
    );
    await waitUntil(
      '3 available',
      async () =>
        (await apps.readNamespacedDeployment({ name: 'ledger', namespace: 'shop' })).status
          ?.availableReplicas === 3,
    );
    await budget('ledger', 'ledger', { minAvailable: 2 });
    const p = await makePlan();
    assert.ok(!p.plan.nodes[0]!.risks.some((x) => x.blocking), JSON.stringify(p.plan.nodes[0]!.risks));
    await policy.deleteNamespacedPodDisruptionBudget({ name: 'ledger', namespace: 'shop' });
  } finally {
    await apps.deleteNamespacedDeployment({ name: 'ledger', namespace: 'shop' });
  }
});

test('overlapping budgets: a blocking plan risk naming both, and at execution an error naming both', async () => {
  pend(W2);
  await pinned('pay', W2, 2);
  await budget('pay-a', 'pay', { maxUnavailable: 1 });
  await budget('pay-b', 'pay', { minAvailable: 1 });
  try {
    const p = await makePlan();
    const risk = p.plan.nodes[0]!.risks.find((x) => x.kind === 'pdb-overlap');
    assert.ok(risk, JSON.stringify(p.plan.nodes[0]!.risks));
    assert.equal(risk.blocking, true);
    assert.match(
      risk.detail,
      /^shop\/pay-[a-z0-9-]+ is selected by more than one PodDisruptionBudget \(shop\/pay-a, shop\/pay-b\)/,
    );
    const before = rebootsOf(W2);
    const r = await run(p.file);
    assert.equal(r.state, 'failed');
    assert.match(
      r.message,
      /^worker-2: cannot drain worker-2: shop\/pay-[a-z0-9-]+ is selected by more than one PodDisruptionBudget \(shop\/pay-a and shop\/pay-b\), and the eviction API refuses such pods/,
    );
    assert.equal(rebootsOf(W2), before);
    assert.deepEqual(
      r.nodes.map((n) => n.outcome),
      ['not-started'],
    );
    assert.deepEqual(r.leftCordoned, [], 'refused before the node was cordoned');
    assert.equal((await sim.node(W2)).spec?.unschedulable, undefined);
    // Evictions sent without reading budgets first meet the API server's 500: named too.
    await assert.rejects(
      drainNode(
        clients,
        W2,
        {
          deleteEmptyDirData: false,
          force: false,
          timeoutSeconds: 10,
          gracePeriodSeconds: -1,
          podSelector: '',
          retryDelayMs: 500,
          concurrency: 10,
          budgetAware: false,
        },
        () => undefined,
      ),
      /cannot drain worker-2: shop\/pay-[a-z0-9-]+ is selected by more than one PodDisruptionBudget \(shop\/pay-a and shop\/pay-b\)/,
    );
    assert.equal(
      (await apps.readNamespacedDeployment({ name: 'pay', namespace: 'shop' })).status?.availableReplicas,
      2,
      'nothing was evicted',
    );
  } finally {
    await policy.deleteNamespacedPodDisruptionBudget({ name: 'pay-a', namespace: 'shop' });
    await policy.deleteNamespacedPodDisruptionBudget({ name: 'pay-b', namespace: 'shop' });
    await apps.deleteNamespacedDeployment({ name: 'pay', namespace: 'shop' });
  }
});

// ---------- credentials: the real CLI against a real kubeconfig file ----------

function runCli(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin', HOME: dir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function kubeconfigWithUser(name: string, user: string): string {
  const file = join(dir, `${name}.kubeconfig`);
  const ca = Buffer.from(cluster.caPem).toString('base64');
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: ${cluster.server}\n    certificate-authority-data: ${ca}\nusers:\n- name: ${name}\n  user:\n${user}contexts:\n- name: sim\n  context:\n    cluster: sim\n    user: ${name}\ncurrent-context: sim\n`,
    { mode: 0o600 },
  );
  return file;
}

/** A client certificate valid only between two dates (openssl ca can set both). */
function certificate(name: string, start: string, end: string): { cert: string; key: string } {
  const d = join(dir, `ca-${name}`);
  mkdirSync(d);
  writeFileSync(join(d, 'index.txt'), '');
  writeFileSync(join(d, 'serial'), '01\n');
  writeFileSync(
    join(d, 'ca.cnf'),
    `[ca]\ndefault_ca = c\n[c]\ndir = ${d}\ndatabase = ${d}/index.txt\nnew_certs_dir = ${d}\nserial = ${d}/serial\ndefault_md = sha256\npreserve = yes\npolicy = p\n[p]\ncommonName = supplied\norganizationName = optional\n`,
  );
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(d, 'key.pem'),
      '-subj',
      `/O=system:masters/CN=${name}`,
      '-out',
      join(d, 'csr.pem'),
    ],
    { stdio: 'ignore' },
  );
  execFileSync(
    'openssl',
    [
      'ca',
      '-batch',
      '-selfsign',
      '-config',
      join(d, 'ca.cnf'),
      '-keyfile',
      join(d, 'key.pem'),
      '-in',
      join(d, 'csr.pem'),
      '-out',
      join(d, 'cert.pem'),
      '-startdate',
      start,
      '-enddate',
      end,
    ],
    { stdio: 'ignore' },
  );
  return {
    cert: readFileSync(join(d, 'cert.pem'), 'base64'),
    key: readFileSync(join(d, 'key.pem'), 'base64'),
  };
}

async function assertNothingTouched() {
  assert.equal(
    (await core.listPodForAllNamespaces({ labelSelector: 'reboot-pilot.io/role' })).items.length,
    0,
    'no probe or reboot pods',
  );
  for (const n of await sim.listAllNodes()) {
    assert.equal(n.spec?.unschedulable, undefined, `${n.metadata?.name} not cordoned`);
    assert.equal(n.metadata?.annotations?.[ANN.step], undefined);
  }
}

test('CLI: a missing exec credential plugin is one line naming it, exit 1, nothing touched', async () => {
  pend(W3);
  const p = await makePlan();
  const kc = kubeconfigWithUser(
    'clusterUser_rg_aks',
    '    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubelogin\n      args: [get-token, --login, azurecli, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]\n      interactiveMode: IfAvailable\n      installHint: "kubelogin is not installed: az aks install-cli"\n',
  );
  for (const args of [
    ['plan', '--kubeconfig', kc],
    ['run', '--plan', p.file, '--kubeconfig', kc],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      `reboot-pilot: error: user "clusterUser_rg_aks" in ${kc} gets its credentials from the exec plugin "kubelogin", which is not on PATH (kubelogin is not installed: az aks install-cli); install it or put it on PATH\n`,
    );
    assert.equal(r.stdout, '');
  }
  await assertNothingTouched();
});

test('CLI: an expired or not yet valid client certificate is one line naming which and the date, exit 1, nothing touched', async () => {
  pend(W3);
  const p = await makePlan();
  const expired = certificate('expired-admin', '20250101000000Z', '20250301120000Z');
  const future = certificate('future-admin', '20990101000000Z', '20991231000000Z');
  const cases: [string, { cert: string; key: string }, string][] = [
    [
      'expired',
      expired,
      'expired on 2025-03-01T12:00:00.000Z; get a new kubeconfig or renew the certificate',
    ],
    ['future', future, "is not valid until 2099-01-01T00:00:00.000Z; is this machine's clock right?"],
  ];
  for (const [name, c, says] of cases) {
    const kc = kubeconfigWithUser(
      name,
      `    client-certificate-data: ${c.cert}\n    client-key-data: ${c.key}\n`,
    );
    for (const args of [
      ['plan', '--kubeconfig', kc],
      ['run', '--plan', p.file, '--kubeconfig', kc],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^reboot-pilot: error: the client certificate of user "${name}" in ${kc} \\((?:O=system:masters, )?CN=${name}-admin(?:, O=system:masters)?\\) ${says.replace(/[.?()]/g, '\\$&')}\\n$`,
        ),
      );
    }
  }
  await assertNothingTouched();
});

// ---------- the control-plane node ----------

test('the control-plane node goes last, is warned about, and its reboot rides out its own API server going away', async () => {
  const kernel = pend(CP, W1);
  const p = await makePlan();
  assert.deepEqual(
    p.plan.nodes.map((n) => n.name),
    [W1, CP],
    'control-plane node last (though first by name)',
  );
  const cp = p.plan.nodes[1]!;
  assert.equal(cp.role, 'control-plane');
  const outage = cp.risks.find((r) => r.kind === 'api-server-outage');
  assert.ok(outage && !outage.blocking, JSON.stringify(cp.risks));
  assert.match(outage.detail, /only control-plane node: while it reboots the Kubernetes API server is down/);
  assert.ok(!p.plan.nodes[0]!.risks.some((r) => r.kind === 'api-server-outage'));
  const body = renderMarkdown(p.plan, p.planId, { now: new Date() });
  assert.match(body, /⚠️ Risk \(api-server-outage\): this is the only control\\-plane node/);
  assert.match(
    body,
    /> \[!WARNING\]\n> Rebooting cp\\-1 takes the Kubernetes API server down for a minute or two/,
  );
  const byName = await makePlan({ order: 'name' });
  assert.deepEqual(
    byName.plan.nodes.map((n) => n.name),
    [W1, CP],
    'last in every order',
  );

  let apiDownFor = 0;
  sim.whileDown.set(CP, async () => {
    const t = Date.now();
    await cluster.stopControlPlane!();
    await sleep(12_000);
    await cluster.startControlPlane!();
    apiDownFor = Date.now() - t;
  });
  const lines: string[] = [];
  const r = await run(p.file, {}, (l) => lines.push(l));
  assert.equal(r.state, 'completed', `${r.message}\n${lines.join('\n')}`);
  assert.ok(apiDownFor >= 12_000, 'the API server was down during the reboot');
  assert.deepEqual(
    r.nodes.map((n) => [n.name, n.outcome, n.kernelAfter]),
    [
      [W1, 'rebooted', kernel],
      [CP, 'rebooted', kernel],
    ],
  );
  assert.notEqual(r.nodes[1]!.bootIdAfter, r.nodes[1]!.bootIdBefore);
  assert.ok(
    lines.some((l) =>
      /waiting \(\d+s\): cp-1: the API server does not answer \(.*\); if this is its control-plane node, that is expected while it reboots: retrying/.test(
        l,
      ),
    ),
    lines.join('\n'),
  );
  const node = await sim.node(CP);
  assert.equal(node.metadata?.annotations?.[ANN.step], 'done');
  assert.equal(node.spec?.unschedulable, undefined);
  assert.equal(rebootsOf(CP), 1);
});

test('an API server that stays away longer than reboot-timeout fails the run with what was seen; a rerun finishes the node', async () => {
  pend(CP);
  const p = await makePlan();
  assert.deepEqual(
    p.plan.nodes.map((n) => n.name),
    [CP],
  );
  let back: Promise<void> | undefined;
  sim.whileDown.set(CP, async () => {
    await cluster.stopControlPlane!();
    back = sleep(25_000).then(() => cluster.startControlPlane!());
    await back;
  });
  const t = Date.now();
  const r = await run(p.file, { 'reboot-timeout': '15' });
  const took = Date.now() - t;
  await waitUntil('the API server restarted', () => back !== undefined);
  await back;
  assert.equal(r.state, 'failed');
  assert.match(
    r.message,
    /^cp-1: cp-1 did not come back: no new boot ID and Ready within the reboot timeout \(last seen: the API server does not answer \(.*\); if this is its control-plane node, that is expected while it reboots: retrying\); it stays cordoned$/,
  );
  assert.ok(took < 40_000, `bounded by reboot-timeout (took ${took} ms)`);
  // The machine boots once its API server is back; the run of the same plan then finishes it.
  await waitUntil(
    'cp-1 Ready again',
    async () =>
      (await sim.node(CP)).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    60_000,
  );
  const again = await run(p.file);
  assert.equal(again.state, 'completed', again.message);
  assert.equal((await sim.node(CP)).metadata?.annotations?.[ANN.step], 'done');
});
