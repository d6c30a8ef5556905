// The AKS integration end to end on the real control plane, with the fake ARM/Entra over HTTPS:
// the cluster reached without a kubeconfig (user kubeconfig from ARM + an Entra token the API
// server accepts), a plan with a Linux pool rebooted through azure-vmss (VMSS restart drives the
// node simulator's reboot) and a Windows pool upgraded through a node image upgrade, the AKS
// maintenance window as a gate, a reboot that never comes back falling back to the pool's node
// image upgrade, and the faults (429, 500, an operation that ends Failed, an expired token, a
// providerID that is not Azure) each a clear error and a truthful report.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../harness/controlplane.ts';
import type { NodeSimulator } from '../harness/simulator.ts';
import { aksNode, kubeadmNode, DEFAULT_NODE_RG, DEFAULT_SUBSCRIPTION } from '../harness/nodes.ts';
import { BOOT_TIME, ubuntuUpToDate } from '../fixtures/hosts.ts';
import { FakeAzure, CLIENT_SECRET } from '../harness/arm.ts';
import { stopAll } from '../harness/teardown.ts';
import { FAST_EXECUTE_SETTINGS } from '../harness/action.ts';
import { markRebootRequired, restoreNodes, savePlan, startTestBed } from '../harness/fixtures.ts';
import { applyProductRoles } from '../harness/workloads.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';
import { parseExecuteSettings, parsePlanSettings } from '../../src/settings.ts';
import type { KubeClients } from '../../src/kube/client.ts';
import { runPlan } from '../../src/execute/run.ts';
import { readPlanFile } from '../../src/plan/file.ts';
import { parseAzureSettings } from '../../src/azure/settings.ts';
import {
  openAzure,
  azureKubeClients,
  azurePlanFacts,
  azureExtras,
  type AzureSession,
} from '../../src/azure/wire.ts';
import { RESTART_ANNOTATION } from '../../src/kube/labels.ts';
import { NodeImageUpgrader } from '../../src/azure/nodeimage.ts';
import { VmssRebooter } from '../../src/reboot/vmss.ts';
import type { PlanNode } from '../../src/plan/types.ts';
import { renderResultMarkdown } from '../../src/report/result.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cluster: Cluster;
let sim: NodeSimulator;
let core: k8s.CoreV1Api;
let az: FakeAzure;
let session: AzureSession;
let clients: KubeClients;
let dir: string;

const linux = [0, 1, 2].map((i) => aksNode({ pool: 'nodepool1', index: i }).name);
const windows = [1, 2].map((i) => aksNode({ pool: 'win', index: i, os: 'windows' }).name);
const LINUX_IMAGE = 'AKSUbuntu-2204gen2containerd-202509.23.0';
const WIN_IMAGE = 'AKSWindows-2022-containerd-20348.3207.250212';
let kernelSerial = 1090;
const log: string[] = [];
const logger = (l: string) => void log.push(l);

const EXEC = {
  ...FAST_EXECUTE_SETTINGS,
  'reboot-timeout': '20',
  'workload-timeout': '30',
  'reboot-method': 'azure-vmss',
};
const planSettings = (extra: Record<string, string> = {}) =>
  parsePlanSettings({ 'cluster-name': 'aks-prod', 'probe-timeout': '20', ...extra });

function pend(...names: string[]): string {
  return markRebootRequired(sim, `5.15.0-${++kernelSerial}-azure`, names);
}

/** A daily AKS maintenance window that is open now (or, with hoursAhead, starts later). */
function dailyWindow(hoursAhead = -1, durationHours = 4) {
  const start = new Date(Date.now() + hoursAhead * 3600_000);
  const hhmm = start.toISOString().slice(11, 16);
  return {
    id: `/subscriptions/${DEFAULT_SUBSCRIPTION}/resourcegroups/rg-platform/providers/Microsoft.ContainerService/managedClusters/aks-prod/maintenanceConfigurations/aksManagedNodeOSUpgradeSchedule`,
    name: 'aksManagedNodeOSUpgradeSchedule',
    type: 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations',
    properties: {
      maintenanceWindow: {
        schedule: { daily: { intervalDays: 1 } },
        durationHours,
        utcOffset: '+00:00',
        startDate: '2025-01-01',
        startTime: hhmm,
      },
    },
  };
}

async function plan(extra: Record<string, string> = {}) {
  const s = planSettings(extra);
  return savePlan(dir, await inspectCluster(clients, s, logger, await azurePlanFacts(session, logger)));
}

async function execute(
  file: string,
  extra: Record<string, string> = {},
  planExtra: Record<string, string> = {},
  beforeRun?: () => void,
) {
  const execute = parseExecuteSettings({ ...EXEC, ...extra });
  const extras = await azureExtras(session, execute, clients, logger);
  beforeRun?.();
  return runPlan(clients, readPlanFile(readFileSync(file, 'utf8')), {
    plan: planSettings(planExtra),
    execute,
    log: logger,
    ...extras,
  });
}

before(async () => {
  ({
    cluster,
    simulator: sim,
    core,
    directory: dir,
  } = await startTestBed({ directoryPrefix: 'rp-azure-', cluster: { users: [{ name: 'reboot-pilot' }] } }));
  // The Entra identity gets exactly the permissions of deploy/rbac.yaml (bound to user reboot-pilot).
  await applyProductRoles(cluster);
  await sim.createNodes([
    ...linux.map((_, i) => ({
      ...aksNode({ pool: 'nodepool1', index: i, nodeImageVersion: LINUX_IMAGE }),
      bootTime: BOOT_TIME,
    })),
    ...windows.map((_, i) =>
      aksNode({ pool: 'win', index: i + 1, os: 'windows', nodeImageVersion: WIN_IMAGE }),
    ),
  ]);
  for (const n of linux)
    sim.writeHostFiles(n, { ...ubuntuUpToDate, 'boot/vmlinuz-5.15.0-1079-azure': 'kernel' });

  // What AKS returns from listClusterUserCredentials for an Entra-only cluster: the API server,
  // its CA, and a kubelogin exec user (which the product must replace: no kubelogin here).
  const rbacKc = new k8s.KubeConfig();
  rbacKc.loadFromString(cluster.kubeconfigFor('reboot-pilot'));
  const kubeToken = rbacKc.getCurrentUser()!.token!;
  const c = rbacKc.getCurrentCluster()!;
  const aksKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: aks-prod
  cluster:
    server: ${c.server}
    certificate-authority-data: ${Buffer.from(cluster.caPem).toString('base64')}
contexts:
- name: aks-prod
  context: {cluster: aks-prod, user: clusterUser_rg-platform_aks-prod}
current-context: aks-prod
users:
- name: clusterUser_rg-platform_aks-prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --login, devicecode]
      interactiveMode: IfAvailable
`;
  az = await FakeAzure.start(
    {
      subscriptionId: DEFAULT_SUBSCRIPTION,
      resourceGroup: 'rg-platform',
      name: 'aks-prod',
      location: 'westeurope',
      nodeResourceGroup: DEFAULT_NODE_RG,
      nodeOSUpgradeChannel: 'Unmanaged',
      pools: [
        {
          name: 'nodepool1',
          osType: 'Linux',
          nodeImageVersion: LINUX_IMAGE,
          latestNodeImageVersion: 'AKSUbuntu-2204gen2containerd-202510.03.0',
          count: 3,
          upgradeSettings: { maxSurge: '33%', drainTimeoutInMinutes: 30, nodeSoakDurationInMinutes: 0 },
        },
        {
          name: 'win',
          osType: 'Windows',
          nodeImageVersion: WIN_IMAGE,
          latestNodeImageVersion: 'AKSWindows-2022-containerd-20348.3270.250311',
          count: 2,
          upgradeSettings: { maxSurge: '1' },
        },
      ],
      maintenance: [dailyWindow()],
      kubeconfig: aksKubeconfig,
    },
    sim,
  );
  az.kubeToken = kubeToken;
  az.trustInProcess();
  session = openAzure(parseAzureSettings(az.settings({ 'azure-credential': 'client-secret' }), {}), {
    env: { AZURE_CLIENT_SECRET: CLIENT_SECRET },
    log: logger,
    clientOptions: { maxRetries: 2, retryDelayInMs: 100 },
  })!;
  // No kubeconfig setting: the cluster is reached through ARM.
  clients = (await azureKubeClients(session, { kubeconfig: '' }, logger))!;
});

after(async () => {
  await stopAll(az, sim, cluster);
});

afterEach(async () => {
  await az.settle();
  az.faults.length = 0;
  az.failUpgrade.clear();
  sim.neverReturn.clear();
  await restoreNodes(sim, core, [...linux, ...windows], {
    powerOn: 'new-boot',
    annotations: [RESTART_ANNOTATION],
  });
  assert.deepEqual(az.violations, [], 'every ARM/Entra request was as expected');
});

test('reached without a kubeconfig: the AKS user kubeconfig with an Entra token, under the RBAC of deploy/rbac.yaml', async () => {
  assert.equal(clients.kc.getCurrentUser()?.exec, undefined);
  const nodes = await clients.core.listNode();
  assert.equal(nodes.items.length, 5);
  // The identity is the RBAC-limited one: it may not list secrets.
  await assert.rejects(
    clients.core.listSecretForAllNamespaces(),
    (e: unknown) => e instanceof k8s.ApiException && e.code === 403,
  );
});

test('a closed AKS maintenance window pauses the run before any node is touched', async () => {
  pend(linux[0]!);
  const p = await plan();
  az.cluster.maintenance = [dailyWindow(3, 2)];
  try {
    const r = await execute(p.file);
    assert.equal(r.state, 'paused', r.message);
    assert.match(
      r.message,
      /AKS planned maintenance \(aksManagedNodeOSUpgradeSchedule\): outside the maintenance window aksManagedNodeOSUpgradeSchedule: every day at \d\d:\d\d UTC\+00:00 for 2 h/,
    );
    assert.equal(az.restarts.length, 0);
    assert.equal((await sim.node(linux[0]!)).spec?.unschedulable, undefined);
  } finally {
    az.cluster.maintenance = [dailyWindow()];
  }
});

test('end to end: a Linux pool rebooted through azure-vmss (a 429 on the way), the Windows pool through one node image upgrade', async () => {
  const kernel = pend(linux[0]!, linux[1]!);
  const p = await plan();
  assert.equal(p.plan.cluster.provider, 'aks');
  assert.deepEqual(p.plan.aks?.nodeOSUpgradeChannel, 'Unmanaged');
  assert.match(p.plan.aks.maintenance ?? '', /^aksManagedNodeOSUpgradeSchedule: every day/);
  assert.deepEqual(
    p.plan.nodes.map((n) => [n.name, n.update]),
    [
      [linux[0], 'reboot'],
      [linux[1], 'reboot'],
      [windows[0], 'node-image-upgrade'],
      [windows[1], 'node-image-upgrade'],
    ],
  );
  const risk = p.plan.nodes[2]!.risks.find((r) => r.kind === 'reimage-data-loss')!;
  assert.match(
    risk.detail,
    /pool-wide: every node of pool win is reimaged \(local disk data is lost\), following the pool's upgradeSettings \(max surge 1, drain timeout 30 min, soak 0 min\)/,
  );
  assert.match(p.plan.nodes[2]!.evidence[0]!.detail, /latest AKSWindows-2022-containerd-20348.3270.250311/);

  az.faults.push({
    method: 'POST',
    path: /\/restart$/,
    status: 429,
    headers: { 'Retry-After': '1' },
    body: { error: { code: 'TooManyRequests', message: 'The request is being throttled.' } },
  });
  const restartsBefore = az.restarts.length;
  const r = await execute(p.file);
  assert.equal(r.state, 'completed', r.message);
  assert.equal(r.message, '2 rebooted, 2 reimaged, 0 done earlier, 0 skipped, of 4 planned');
  assert.deepEqual(
    r.nodes.map((n) => n.outcome),
    ['rebooted', 'rebooted', 'reimaged', 'reimaged'],
  );
  // One VMSS restart per Linux node, in plan order, each into the pending kernel.
  assert.deepEqual(
    az.restarts.slice(restartsBefore).map((x) => x.node),
    [linux[0], linux[1]],
  );
  assert.deepEqual(
    az.restarts.slice(restartsBefore).map((x) => x.vm),
    [
      'virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/0',
      'virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/1',
    ],
  );
  for (const n of r.nodes.slice(0, 2)) {
    assert.equal(n.kernelAfter, kernel);
    assert.notEqual(n.bootIdAfter, n.bootIdBefore);
  }
  const posts = az.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/restart'));
  assert.equal(posts.filter((q) => q.status === 429).length, 1, 'the throttled restart was retried');
  // No reboot pods: the method was azure-vmss.
  assert.equal(sim.ran.filter((x) => x.role === 'reboot').length, 0);
  // One node image upgrade for the whole Windows pool, both nodes reimaged, verified.
  assert.deepEqual(
    az.upgrades.map((u) => [u.pool, u.nodes]),
    [['win', windows]],
  );
  assert.equal(az.pool('win').nodeImageVersion, 'AKSWindows-2022-containerd-20348.3270.250311');
  assert.match(
    r.nodes[2]!.detail!,
    /^a node image upgrade of pool win \(AKSWindows-2022-containerd-20348.3207.250212 -> AKSWindows-2022-containerd-20348.3270.250311; pool-wide, every node reimaged, local disk data lost; max surge 1, drain timeout 30 min, soak 0 min\)$/,
  );
  assert.match(r.nodes[3]!.detail!, /earlier in this run \(for /);
  for (const n of r.nodes.slice(2))
    assert.deepEqual(
      [n.nodeImageBefore, n.nodeImageAfter],
      ['AKSWindows-2022-containerd-20348.3207.250212', 'AKSWindows-2022-containerd-20348.3270.250311'],
    );
  // The result: the node image where the kernel would be, the pool-wide details below the table.
  const md = renderResultMarkdown('aks-prod', r);
  const row = md.split('\n').find((l) => l.startsWith(`| ${windows[0]} `))!;
  assert.ok(
    row.includes(
      ' | reimaged | node image AKSWindows\\-2022\\-containerd\\-20348\\.3207\\.250212 → AKSWindows\\-2022\\-containerd\\-20348\\.3270\\.250311 |',
    ),
    row,
  );
  assert.ok(!row.includes('pool-wide'), 'the long text is not in the cell');
  assert.match(
    md,
    /\*\*Node image upgrades\*\* \(pool-wide: every node of the pool was reimaged\):\n\n- win000001: a node image upgrade of pool win/,
  );
  for (const w of windows)
    assert.equal(
      (await sim.node(w)).metadata?.labels?.['kubernetes.azure.com/node-image-version'],
      'AKSWindows-2022-containerd-20348.3270.250311',
    );
  // The operation was polled to its end through Azure-AsyncOperation.
  assert.ok(
    az.requests.some((q) => /Microsoft.ContainerService\/locations\/westeurope\/operations\//.test(q.path)),
  );
  assert.deepEqual(r.leftCordoned, []);
  for (const n of linux.slice(0, 2))
    assert.equal(
      (await sim.node(n)).metadata?.annotations?.[RESTART_ANNOTATION],
      undefined,
      'restart marker cleaned up',
    );

  // A new plan: the Windows pool is on the latest image now, so it is up to date.
  const again = await plan();
  assert.deepEqual(again.plan.nodes, []);
  assert.ok(windows.every((w) => again.plan.upToDate.includes(w)));
});

test("a reboot that never brings the node back: its pool gets one node image upgrade, the pool's other planned node is not rebooted again", async () => {
  pend(linux[0]!, linux[2]!);
  const p = await plan();
  assert.deepEqual(
    p.plan.nodes.map((n) => n.name),
    [linux[0], linux[2]],
  );
  sim.neverReturn.add(linux[0]!);
  const upgradesBefore = az.upgrades.length;
  const restartsBefore = az.restarts.length;
  const r = await execute(p.file, { 'reboot-timeout': '10' });
  assert.equal(r.state, 'completed', r.message);
  assert.deepEqual(
    az.upgrades.slice(upgradesBefore).map((u) => [u.pool, u.nodes]),
    [['nodepool1', linux]],
  );
  assert.deepEqual(
    az.restarts.slice(restartsBefore).map((x) => x.node),
    [linux[0]],
    'only the first node was restarted',
  );
  assert.match(
    r.nodes[0]!.detail!,
    /^in-place reboot failed \(.+\); fell back to a node image upgrade of pool nodepool1 \(AKSUbuntu-2204gen2containerd-202509.23.0 -> AKSUbuntu-2204gen2containerd-202510.03.0; pool-wide/,
  );
  assert.equal(r.nodes[0]!.outcome, 'reimaged');
  assert.equal(r.nodes[1]!.outcome, 'reimaged');
  assert.deepEqual(
    [r.nodes[0]!.nodeImageBefore, r.nodes[0]!.nodeImageAfter],
    ['AKSUbuntu-2204gen2containerd-202509.23.0', 'AKSUbuntu-2204gen2containerd-202510.03.0'],
  );
  assert.match(r.message, /^0 rebooted, 2 reimaged, /);
  assert.match(
    r.nodes[1]!.detail!,
    /reimaged by the node image upgrade of pool nodepool1 in this run \(the fallback for aks-nodepool1-12345678-vmss000000\); not rebooted again/,
  );
  assert.deepEqual(r.leftCordoned, []);
  const n0 = await sim.node(linux[0]!);
  assert.equal(n0.spec?.unschedulable, undefined);
  assert.equal(
    n0.metadata?.labels?.['kubernetes.azure.com/node-image-version'],
    'AKSUbuntu-2204gen2containerd-202510.03.0',
  );
  assert.ok(
    log.some((l) =>
      /upgrading the node image of pool nodepool1 .* pool-wide, every node is reimaged \(local disk data is lost\), following its upgradeSettings \(max surge 33%, drain timeout 30 min, soak 0 min\)/.test(
        l,
      ),
    ),
  );
});

test('faults: a restart answered 500, then an expired token — the run fails before restarting, and the cordoned node is named', async () => {
  pend(linux[1]!);
  const p = await plan();
  az.faults.push({
    method: 'POST',
    path: /\/restart$/,
    status: 500,
    body: {
      error: {
        code: 'InternalServerError',
        message: 'An unexpected error occured while processing the request.',
      },
    },
    times: 10,
  });
  const restartsBefore = az.restarts.length;
  const r = await execute(p.file);
  assert.equal(r.state, 'failed');
  assert.match(
    r.message,
    /restart VMSS instance .*aks-nodepool1-12345678-vmss\/1 \(node aks-nodepool1-12345678-vmss000001\) was not accepted \(nothing was restarted\): HTTP 500 InternalServerError/,
  );
  assert.equal(r.nodes[0]!.outcome, 'failed');
  assert.deepEqual(r.leftCordoned, [linux[1]], 'the node we cordoned is reported');
  assert.equal(az.restarts.length, restartsBefore);
  assert.equal(
    az.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/restart') && q.status === 500).length,
    3,
    'one try, two retries',
  );
  az.faults.length = 0;

  // Reading the maintenance configuration with an expired token: a clear error before anything.
  az.expireTokens();
  await assert.rejects(
    execute(p.file),
    /read AKS cluster rg-platform\/aks-prod: Azure refused the credentials \(401 ExpiredAuthenticationToken/,
  );
  az.tokens.forEach((t) => (t.expiresAt = Date.now() + 3600_000));
  // The same plan again (it resumes the node), but every Azure token expires once the run started.
  try {
    const r2 = await execute(p.file, {}, {}, () => az.expireTokens());
    assert.equal(r2.state, 'failed');
    assert.match(
      r2.message,
      /was not accepted \(nothing was restarted\): Azure refused the credentials \(401 ExpiredAuthenticationToken/,
    );
    assert.deepEqual(r2.leftCordoned, [linux[1]]);
  } finally {
    az.tokens.forEach((t) => (t.expiresAt = Date.now() + 3600_000));
  }
});

test('faults: a node image upgrade that ends Failed is reported as such, and the run stops', async () => {
  az.pool('win').latestNodeImageVersion = 'AKSWindows-2022-containerd-20348.3300.250415';
  az.failUpgrade.add('win');
  const p = await plan();
  assert.deepEqual(
    p.plan.nodes.map((n) => [n.name, n.update]),
    [
      [windows[0], 'node-image-upgrade'],
      [windows[1], 'node-image-upgrade'],
    ],
  );
  const r = await execute(p.file);
  assert.equal(r.state, 'failed');
  assert.match(
    r.message,
    /node image upgrade of pool win in AKS cluster rg-platform\/aks-prod was started, but did not succeed: .*Reimaging the nodes of agent pool win failed.*\. The pool may be partly upgraded: see `az aks nodepool show -g rg-platform --cluster-name aks-prod -n win/,
  );
  assert.equal(r.nodes[0]!.outcome, 'failed');
  assert.equal(r.nodes[1]!.outcome, 'not-started');
  assert.equal(az.pool('win').provisioningState, 'Failed');
});

test('faults: azure-vmss on a node whose providerID is not Azure fails before the node is cordoned', async () => {
  await sim.createNodes([{ ...kubeadmNode('onprem-1'), bootTime: BOOT_TIME }]);
  sim.writeHostFiles('onprem-1', { ...ubuntuUpToDate });
  pend('onprem-1');
  try {
    const p = await plan({ 'node-selector': 'kubernetes.io/hostname=onprem-1' });
    assert.deepEqual(
      p.plan.nodes.map((n) => n.name),
      ['onprem-1'],
    );
    const r = await execute(p.file, {}, { 'node-selector': 'kubernetes.io/hostname=onprem-1' });
    assert.equal(r.state, 'failed');
    assert.match(
      r.message,
      /reboot-method azure-vmss cannot reboot onprem-1: its providerID \(none\) names no Azure VM or VMSS instance; use reboot-method pod/,
    );
    assert.equal((await sim.node('onprem-1')).spec?.unschedulable, undefined, 'never cordoned');
    assert.deepEqual(r.leftCordoned, []);
  } finally {
    await core.deleteNode({ name: 'onprem-1' });
  }
});

test('the CLI plans an AKS cluster with no kubeconfig, trusting the fake ARM through NODE_EXTRA_CA_CERTS', async () => {
  const args = [
    'src/bin.ts',
    'plan',
    '--output',
    'json',
    '--cluster-name',
    'aks-prod',
    ...Object.entries(az.settings({ 'azure-credential': 'client-secret' })).flatMap(([k, v]) => [
      `--${k}`,
      v,
    ]),
  ];
  const res = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        NODE_EXTRA_CA_CERTS: az.caFile,
        AZURE_CLIENT_SECRET: CLIENT_SECRET,
        KUBECONFIG: join(dir, 'none'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout) as {
    plan: { aks?: { nodeOSUpgradeChannel: string }; cluster: { server: string } };
  };
  assert.equal(out.plan.aks?.nodeOSUpgradeChannel, 'Unmanaged');
  assert.match(
    res.stderr,
    /reaching AKS cluster rg-platform\/aks-prod at https:\/\/127\.0\.0\.1:\d+ with an Entra token for the AKS server application/,
  );
  assert.doesNotMatch(res.stderr + res.stdout, new RegExp(CLIENT_SECRET));
  assert.doesNotMatch(res.stderr, new RegExp(az.kubeToken));
});

test('the node image upgrade seam: up to date does nothing, the pool shares one answer, a node outside Azure or a failed reboot with the fallback off is unavailable', async () => {
  const pool = az.pool('nodepool1');
  const latest = pool.latestNodeImageVersion;
  pool.latestNodeImageVersion = pool.nodeImageVersion;
  try {
    const upgrader = new NodeImageUpgrader(clients, session.clients, {
      timeoutSeconds: 60,
      onFailedReboot: false,
    });
    const planned = async (name: string): Promise<PlanNode> => {
      const node = await sim.node(name);
      return {
        name,
        pool: 'nodepool1',
        providerID: node.spec?.providerID ?? '',
        bootID: node.status?.nodeInfo?.bootID ?? '',
        update: 'node-image-upgrade',
      } as PlanNode;
    };
    const upgrades = () =>
      az.requests.filter((q) => q.method === 'POST' && /upgradeNodeImageVersion$/i.test(q.path)).length;
    const before = upgrades();
    const request = { reason: 'planned node image upgrade', failedReboot: false };
    const upToDate = `pool nodepool1 already runs the latest node image ${pool.nodeImageVersion}; nothing to upgrade`;
    assert.deepEqual(await upgrader.upgrade(await planned(linux[0]!), request), {
      result: 'up-to-date',
      detail: upToDate,
    });
    assert.deepEqual(await upgrader.upgrade(await planned(linux[1]!), request), {
      result: 'up-to-date',
      detail: `${upToDate} (found for ${linux[0]})`,
    });
    assert.equal(upgrades(), before, 'nothing was asked of AKS');
    assert.deepEqual(await upgrader.upgrade(await planned(linux[2]!), { reason: 'x', failedReboot: true }), {
      result: 'unavailable',
      detail: 'the node image upgrade fallback is off (azure-node-image-fallback)',
    });
    const outside = { ...(await planned(linux[2]!)), providerID: '' };
    assert.deepEqual(await upgrader.upgrade(outside, request), {
      result: 'unavailable',
      detail: `${linux[2]} is not an AKS node (providerID none)`,
    });
  } finally {
    pool.latestNodeImageVersion = latest;
  }
});

test('the VMSS rebooter: one restart per plan and node (a second request is already issued), and no restart for a node outside Azure', async () => {
  const rebooter = new VmssRebooter(clients, session.clients);
  const planId = 'cd'.repeat(32);
  const name = linux[0]!;
  const before = az.restarts.length;
  assert.equal(await rebooter.reboot({ node: await sim.node(name), planId }), 'issued');
  assert.deepEqual(
    az.restarts.slice(before).map((restart) => restart.node),
    [name],
  );
  const marked = await sim.node(name);
  assert.equal(
    marked.metadata?.annotations?.[RESTART_ANNOTATION],
    planId,
    'the restart is recorded on the node',
  );
  assert.equal(await rebooter.reboot({ node: marked, planId }), 'already-issued');
  assert.equal(az.restarts.length, before + 1, 'the same plan never restarts a node twice');
  const outside = structuredClone(marked);
  outside.spec!.providerID = 'kind://docker/kind/worker';
  await assert.rejects(
    rebooter.preflight(outside),
    /names no Azure VM or VMSS instance; use reboot-method pod/,
  );
  await assert.rejects(rebooter.reboot({ node: outside, planId: 'ef'.repeat(32) }), /names no Azure VM/);
  assert.equal(az.restarts.length, before + 1);
});
