// `reboot-pilot plan` on the real control plane: a 6-node mixed cluster (two AKS pools, a
// kubeadm node, a Windows node; nodes with and without the sentinel; a PDB at 0, an emptyDir
// pod, an unreplicated pod, a blocking pod) gives the expected plan and report; the plan ID is
// stable and changes with the cluster; the CLI fails clearly and leaves nothing behind.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startCluster, freePort, type Cluster } from '../harness/controlplane.ts';
import { NodeSimulator, waitUntil } from '../harness/simulator.ts';
import { aksNode, kubeadmNode } from '../harness/nodes.ts';
import { BOOT_TIME, ubuntu2204, ubuntu2404, ubuntuUpToDate } from '../fixtures/hosts.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';
import { parsePlanSettings } from '../../src/settings.ts';
import { loadKubeConfig, makeClients } from '../../src/kube/client.ts';
import { renderMarkdown, GITHUB_BODY_LIMIT } from '../../src/report/markdown.ts';
import { renderTerminal } from '../../src/report/terminal.ts';
import { FakeGitHub } from '../harness/github.ts';
import { stopAll } from '../harness/teardown.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'action', 'cli.js');

let cluster: Cluster;
let sim: NodeSimulator;
let core: k8s.CoreV1Api;
let dir: string;

const N = {
  np0: 'aks-nodepool1-12345678-vmss000000',
  np1: 'aks-nodepool1-12345678-vmss000001',
  up0: 'aks-userpool-87654321-vmss000000',
  up1: 'aks-userpool-87654321-vmss000001',
  kubeadm: 'worker-1',
  win: 'win22p000000',
};

const settings = (extra: Record<string, string> = {}) =>
  parsePlanSettings({
    'cluster-name': 'aks-prod',
    'blocking-pod-selector': 'workload=batch',
    'probe-timeout': '20',
    ...extra,
  });

async function plan(extra: Record<string, string> = {}) {
  const clients = makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  return inspectCluster(clients, settings(extra), () => undefined);
}

async function probePodsLeft(): Promise<number> {
  return (await core.listPodForAllNamespaces({ labelSelector: 'reboot-pilot.io/role=probe' })).items.length;
}

function runCli(
  args: string[],
  opts: {
    script?: string;
    env?: Record<string, string>;
    onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void;
  } = {},
) {
  return new Promise<{ code: number; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [opts.script ?? CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      opts.onStderr?.(stderr, (sig) => child.kill(sig));
    });
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
  });
}

const pinned = (node: string) => ({ nodeSelector: { 'kubernetes.io/hostname': node } });

before(async () => {
  cluster = await startCluster({ users: [{ name: 'nobody' }, { name: 'reader' }, { name: 'reboot-pilot' }] });
  sim = new NodeSimulator(cluster);
  await sim.start();
  core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  dir = mkdtempSync(join(tmpdir(), 'rp-plan-test-'));
  const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  const policy = cluster.kc.makeApiClient(k8s.PolicyV1Api);

  // The fixtures' package histories are dated around BOOT_TIME, the nodes' simulated boot.
  await sim.createNodes(
    [
      aksNode({ pool: 'nodepool1', index: 0, mode: 'system' }),
      aksNode({ pool: 'nodepool1', index: 1, mode: 'system' }),
      aksNode({ pool: 'userpool', index: 0, vmssSuffix: '87654321' }),
      aksNode({ pool: 'userpool', index: 1, vmssSuffix: '87654321' }),
      kubeadmNode(N.kubeadm, { kernelVersion: '6.8.0-1017-azure' }),
      aksNode({ pool: 'win22p', index: 0, os: 'windows' }),
    ].map((n) => ({ ...n, bootTime: BOOT_TIME })),
  );
  for (const n of [N.np0, N.up0, N.up1]) sim.writeHostFiles(n, ubuntu2204);
  sim.writeHostFiles(N.np1, ubuntuUpToDate);
  sim.writeHostFiles(N.kubeadm, ubuntu2404);

  await core.createNamespace({ body: { metadata: { name: 'shop' } } });
  const deploy = (
    name: string,
    node: string,
    replicas: number,
    extra: Partial<k8s.V1PodSpec> = {},
    labels: Record<string, string> = {},
  ) =>
    apps.createNamespacedDeployment({
      namespace: 'shop',
      body: {
        metadata: { name },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name, ...labels } },
            spec: {
              ...pinned(node),
              containers: [
                { name: 'c', image: 'nginx', resources: { requests: { cpu: '100m', memory: '128Mi' } } },
              ],
              ...extra,
            },
          },
        },
      },
    });
  await deploy('payments', N.up0, 2);
  await policy.createNamespacedPodDisruptionBudget({
    namespace: 'shop',
    body: {
      metadata: { name: 'payments' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'payments' } } },
    },
  });
  await deploy('cache', N.up0, 1, { volumes: [{ name: 'scratch', emptyDir: {} }] });
  await deploy('long-batch', N.up1, 1, {}, { workload: 'batch' });
  await deploy('web', N.np0, 2);
  await core.createNamespacedPod({
    namespace: 'shop',
    body: {
      metadata: { name: 'debug-shell' },
      spec: { nodeName: N.up1, containers: [{ name: 'sh', image: 'busybox' }] },
    },
  });
  await apps.createNamespacedDaemonSet({
    namespace: 'kube-system',
    body: {
      metadata: { name: 'node-exporter' },
      spec: {
        selector: { matchLabels: { app: 'node-exporter' } },
        template: {
          metadata: { labels: { app: 'node-exporter' } },
          spec: {
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            containers: [{ name: 'e', image: 'prom/node-exporter' }],
          },
        },
      },
    },
  });
  await waitUntil(
    'workloads running and the PDB computed',
    async () => {
      const pods = (await core.listPodForAllNamespaces()).items;
      const running = pods.filter((p) => p.status?.phase === 'Running').length;
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'payments', namespace: 'shop' });
      return running === 2 + 1 + 1 + 2 + 1 + 5 && pdb.status?.currentHealthy === 2;
    },
    60_000,
  );

  // RBAC: "reader" may read but not create probe pods; "reboot-pilot" gets deploy/rbac.yaml.
  const rbac = cluster.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.createClusterRole({
    body: {
      metadata: { name: 'reader' },
      rules: [
        {
          apiGroups: ['', 'policy'],
          resources: ['nodes', 'pods', 'namespaces', 'poddisruptionbudgets'],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: 'reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' },
      subjects: [{ kind: 'User', name: 'reader', apiGroup: 'rbac.authorization.k8s.io' }],
    },
  });
  const objects = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
  for (const doc of parseAllDocuments(readFileSync(join(root, 'deploy', 'rbac.yaml'), 'utf8')))
    await objects.create(doc.toJSON() as k8s.KubernetesObject);
});

after(async () => {
  await stopAll(sim, cluster);
});

describe('plan on a 6-node mixed cluster', () => {
  let first: Awaited<ReturnType<typeof plan>>;

  test('finds the nodes that need a reboot, with evidence, kernels, packages and pre-flight risks', async () => {
    first = await plan();
    const p = first.plan;
    assert.equal(p.cluster.provider, 'aks');
    assert.equal(p.cluster.name, 'aks-prod');
    assert.match(p.cluster.uid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(p.upToDate, [N.np1]);
    assert.deepEqual(p.unknown, []);
    assert.deepEqual(
      p.nodes.map((n) => [n.order, n.name, n.pool, n.update]),
      [
        [1, N.kubeadm, 'default', 'reboot'],
        [2, N.np0, 'nodepool1', 'reboot'],
        [3, N.up0, 'userpool', 'reboot'],
        [4, N.up1, 'userpool', 'reboot'],
        [5, N.win, 'win22p', 'node-image-upgrade'],
      ],
    );
    const byName = new Map(p.nodes.map((n) => [n.name, n]));
    const np0 = byName.get(N.np0)!;
    assert.deepEqual(np0.kernel, { running: '5.15.0-1079-azure', next: '5.15.0-1081-azure' });
    assert.equal(
      np0.providerID,
      'azure:///subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/mc_rg-platform_aks-prod_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/0',
    );
    assert.equal(np0.bootID, (await sim.node(N.np0)).status!.nodeInfo!.bootID);
    assert.deepEqual(
      np0.evidence.map((e) => e.source),
      ['sentinel', 'installed-kernel'],
    );
    assert.deepEqual(np0.packages.requiringReboot, ['linux-image-5.15.0-1081-azure', 'linux-base']);
    assert.deepEqual(
      np0.packages.sinceBoot.map((c) => c.name),
      ['linux-image-5.15.0-1081-azure', 'openssl', 'libssl3'],
    );
    assert.deepEqual(
      np0.evictions,
      [{ namespace: 'shop', kind: 'Deployment', name: 'web', pods: 2 }],
      'DaemonSet pods are not evicted',
    );
    assert.deepEqual(np0.risks, []);
    assert.equal(np0.nodeImageVersion, 'AKSUbuntu-2204gen2containerd-202509.23.0');

    const kubeadm = byName.get(N.kubeadm)!;
    assert.equal(kubeadm.providerID, '');
    assert.deepEqual(kubeadm.kernel, { running: '6.8.0-1017-azure', next: '6.8.0-1021-azure' });
    assert.deepEqual(kubeadm.packages.requiringReboot, [
      'linux-image-6.8.0-1021-azure',
      'linux-base',
      'libc6',
    ]);

    const up0 = byName.get(N.up0)!;
    // minAvailable 2 with its 2 pods: no eviction is ever allowed (issue 15: a blocking risk).
    assert.deepEqual(
      up0.risks.map((r) => [r.kind, r.blocking]),
      [
        ['emptydir-data-loss', true],
        ['pdb-blocks-eviction', true],
      ],
    );
    assert.match(
      up0.risks[1]!.detail,
      /^PodDisruptionBudget shop\/payments can never allow a disruption \(minAvailable 2 with 2 pods\)/,
    );
    assert.deepEqual(up0.evictions, [{ namespace: 'shop', kind: 'Deployment', name: 'payments', pods: 2 }]);

    const up1 = byName.get(N.up1)!;
    assert.deepEqual(
      up1.risks.map((r) => [r.kind, r.blocking]),
      [
        ['blocking-pod', true],
        ['unreplicated-pod', true],
      ],
    );
    assert.match(
      up1.risks[0]!.detail,
      /shop\/long-batch-[a-z0-9]+-[a-z0-9]+ matches the blocking pod selector/,
    );
    assert.match(up1.risks[1]!.detail, /shop\/debug-shell has no controller/);

    const win = byName.get(N.win)!;
    assert.equal(win.os, 'windows');
    assert.deepEqual(
      win.evidence.map((e) => e.source),
      ['windows'],
    );
    assert.deepEqual(
      win.risks.map((r) => r.kind),
      ['reimage-data-loss'],
    );
    assert.match(win.risks[0]!.detail, /pool-wide.*reimaged.*local disk data is lost.*upgradeSettings/);

    assert.equal(first.probed, 5, 'every Ready Linux node was probed, the Windows node was not');
    assert.equal(await probePodsLeft(), 0, 'every probe pod is removed');
  });

  test('drain options change what blocks: with delete-emptydir-data and force only warnings remain for those pods', async () => {
    const { plan: p } = await plan({ 'delete-emptydir-data': 'true', force: 'true' });
    const up0 = p.nodes.find((n) => n.name === N.up0)!;
    assert.deepEqual(
      up0.risks.map((r) => [r.kind, r.blocking]),
      [
        ['pdb-blocks-eviction', true],
        ['emptydir-data-loss', false],
      ],
    );
    assert.deepEqual(
      up0.evictions.map((e) => e.name),
      ['cache', 'payments'],
    );
    const up1 = p.nodes.find((n) => n.name === N.up1)!;
    assert.deepEqual(
      up1.risks.map((r) => [r.kind, r.blocking]),
      [
        ['blocking-pod', true],
        ['unreplicated-pod', false],
      ],
    );
  });

  test('the report: summary table, details per node, risks called out, cluster strings escaped, under the body limit', () => {
    // The sentinels were written when the test started: three days and four hours later...
    const now = new Date(Date.now() + (3 * 24 + 4) * 3_600_000);
    const md = renderMarkdown(first.plan, first.planId, { now });
    assert.ok(md.length < GITHUB_BODY_LIMIT);
    assert.ok(md.includes(`Plan ID: \`${first.planId}\``));
    assert.match(
      md,
      /\| Nodes \| Pool \| Kernel \| Requires the reboot \| Fixes \| Pending \| Update \| Risks \|/,
    );
    assert.ok(
      md.includes('5\\.15\\.0\\-1079\\-azure → **5\\.15\\.0\\-1081\\-azure**'),
      'kernel diff in the table',
    );
    assert.ok(
      md.includes(
        `<details><summary>3. ${N.up0} — 5.15.0-1079-azure → 5.15.0-1081-azure — 2 risks, blocked</summary>`,
      ),
    );
    assert.match(md, /⛔ \*\*Blocking\*\* \(emptydir-data-loss\)/);
    assert.match(md, /\[!CAUTION\]\n> A node image upgrade is pool-wide/);
    assert.match(md, /Up to date: 1 node/);
    assert.match(md, /Pending since .* \(3d 4h\)/, 'how long the sentinel has been pending');
    // Same-diff nodes share a row: up0 and up1 (same pool, kernel and packages).
    assert.ok(md.includes(`${N.up0.replace(/-/g, '\\-')}<br>${N.up1.replace(/-/g, '\\-')}`));
    const text = renderTerminal(first.plan, first.planId, now);
    assert.match(
      text,
      new RegExp(`3\\. ${N.up0}  pool=userpool  reboot  5\\.15\\.0-1079-azure -> 5\\.15\\.0-1081-azure`),
    );
    assert.match(text, /BLOCKING unreplicated-pod: shop\/debug-shell has no controller/);
  });

  test('the plan ID is the same on a second run and changes when a kernel changes', async () => {
    const again = await plan();
    assert.equal(again.planId, first.planId);
    // A newer kernel lands on np0: its next kernel changes.
    sim.writeHostFiles(N.np0, { 'boot/vmlinuz-5.15.0-1083-azure': 'kernel' });
    const newer = await plan();
    assert.notEqual(newer.planId, first.planId);
    assert.equal(newer.plan.nodes.find((n) => n.name === N.np0)!.kernel.next, '5.15.0-1083-azure');
    // The kubeadm node reboots into its new kernel: it leaves the plan.
    const r = await sim.reboot(N.kubeadm);
    assert.equal(r.kernelAfter, '6.8.0-1021-azure');
    const after = await plan();
    assert.ok(!after.plan.nodes.some((n) => n.name === N.kubeadm));
    assert.ok(after.plan.upToDate.includes(N.kubeadm));
    assert.notEqual(after.planId, newer.planId);
    sim.writeHostFiles(N.np0, { 'boot/vmlinuz-5.15.0-1083-azure': null });
    // Restore the kubeadm node's pending state for the CLI tests.
    sim.writeHostFiles(N.kubeadm, {
      'var/run/reboot-required': '*** System restart required ***\n',
      'boot/vmlinuz-6.8.0-1022-azure': 'k',
    });
  });

  test('a probe that cannot run makes its node unknown, not up to date', async () => {
    await sim.powerOff(N.np1);
    const { plan: p } = await plan({ 'probe-timeout': '5' });
    assert.deepEqual(p.unknown, [
      { name: N.np1, pool: 'nodepool1', reason: 'the node is not Ready, so it could not be probed' },
    ]);
    await sim.powerOn(N.np1, {
      bootID: (await sim.node(N.np1)).status!.nodeInfo!.bootID,
      kernelVersion: '5.15.0-1079-azure',
    });
    assert.equal(await probePodsLeft(), 0);
  });
});

describe('reboot-pilot plan (the bundled CLI)', () => {
  const kubeconfig = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text, { mode: 0o600 });
    return f;
  };

  test('prints the same plan as the library, as JSON, Markdown and text', async () => {
    const lib = await plan();
    const json = await runCli([
      'plan',
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--output',
      'json',
      '--cluster-name',
      'aks-prod',
      '--blocking-pod-selector',
      'workload=batch',
    ]);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { planId: string; plan: { nodes: unknown[] } };
    assert.equal(parsed.planId, lib.planId);
    const mdOut = await runCli([
      'plan',
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--output',
      'md',
      '--cluster-name',
      'aks-prod',
    ]);
    assert.equal(mdOut.code, 0, mdOut.stderr);
    assert.match(mdOut.stdout, /^## Reboot plan for aks\\-prod/);
    const text = await runCli(['plan', '--kubeconfig', cluster.kubeconfigPath]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Reboot plan [0-9a-f]{12} for sim/);
    assert.match(text.stderr, /probing 5 Linux nodes/);
    assert.equal(await probePodsLeft(), 0);
  });

  test('works with exactly the permissions of deploy/rbac.yaml', async () => {
    const r = await runCli([
      'plan',
      '--kubeconfig',
      kubeconfig('rp.kubeconfig', cluster.kubeconfigFor('reboot-pilot')),
      '--output',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await probePodsLeft(), 0);
  });

  const failures: [string, () => string[], number, RegExp][] = [
    [
      'an unreadable kubeconfig',
      () => ['--kubeconfig', join(dir, 'missing.kubeconfig')],
      1,
      /cannot read kubeconfig .*missing\.kubeconfig: no such file/,
    ],
    [
      'an invalid kubeconfig',
      () => ['--kubeconfig', kubeconfig('bad.kubeconfig', 'clusters: [oops\n')],
      1,
      /is not a valid kubeconfig/,
    ],
    [
      'an unknown context',
      () => ['--kubeconfig', cluster.kubeconfigPath, '--context', 'prod'],
      1,
      /unknown context "prod" .*\(contexts: sim\)/,
    ],
    [
      'an unreachable API server',
      () => [
        '--kubeconfig',
        kubeconfig(
          'dead.kubeconfig',
          cluster.kubeconfigFor('admin').replace(cluster.server, `https://127.0.0.1:${deadPort}`),
        ),
      ],
      1,
      /cannot reach the API server at https:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    ],
    [
      'an identity RBAC denies reading nodes',
      () => ['--kubeconfig', kubeconfig('nobody.kubeconfig', cluster.kubeconfigFor('nobody'))],
      1,
      /RBAC denied: the identity may not "(list|get)" (nodes|pods|namespaces|poddisruptionbudgets)/,
    ],
    [
      'an identity RBAC denies creating probe pods',
      () => ['--kubeconfig', kubeconfig('reader.kubeconfig', cluster.kubeconfigFor('reader'))],
      1,
      /RBAC denied: the identity may not "create" pods in namespace kube-system/,
    ],
    [
      'an invalid option value',
      () => ['--kubeconfig', cluster.kubeconfigPath, '--order', 'sideways', '--probe-parallelism', '0'],
      2,
      /invalid settings: probe-parallelism must be a whole number from 1 to 200, not "0"; order: .*"pool"\|"risk"\|"name"/,
    ],
    [
      'an invalid selector',
      () => ['--kubeconfig', cluster.kubeconfigPath, '--blocking-pod-selector', 'a in (b'],
      2,
      /invalid blocking-pod-selector "a in \(b"/,
    ],
    ['an unknown flag', () => ['--kubeconfig', cluster.kubeconfigPath, '--dry'], 2, /Unknown option '--dry'/],
  ];
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    test(`interrupted by ${sig} while probes run: every probe pod is removed`, async () => {
      let sent = false;
      const r = await runCli(
        [
          'plan',
          '--kubeconfig',
          cluster.kubeconfigPath,
          '--sentinel-command',
          'sleep 20',
          '--probe-parallelism',
          '5',
        ],
        {
          onStderr: (text, kill) => {
            if (sent || !text.includes('probing')) return;
            sent = true;
            // Interrupt once the probe pods exist.
            void waitUntil('probe pods created', async () => (await probePodsLeft()) === 5, 10_000).then(() =>
              kill(sig),
            );
          },
        },
      );
      assert.ok(sent);
      assert.equal(r.signal, sig, `the CLI ends by the signal (code ${r.code}, stderr ${r.stderr})`);
      assert.equal(await probePodsLeft(), 0);
    });
  }

  test('the bundled action runs plan mode under Node 24 with INPUT_* variables, as the runner starts it', async () => {
    const out = join(dir, 'github-output');
    const summary = join(dir, 'step-summary');
    writeFileSync(out, '');
    writeFileSync(summary, '');
    const r = await runCli([], {
      script: join(root, 'action', 'index.js'),
      env: {
        GITHUB_EVENT_NAME: 'schedule',
        GITHUB_OUTPUT: out,
        GITHUB_STEP_SUMMARY: summary,
        RUNNER_TEMP: dir,
        INPUT_KUBECONFIG: cluster.kubeconfigPath,
        'INPUT_CLUSTER-NAME': 'aks-prod',
        'INPUT_BLOCKING-POD-SELECTOR': 'workload=batch',
      },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lib = await plan();
    const outputs = readFileSync(out, 'utf8');
    assert.match(outputs, new RegExp(`plan-id<<ghadelimiter_[0-9a-f-]+\n${lib.planId}\n`));
    assert.match(outputs, /nodes-pending<<ghadelimiter_[0-9a-f-]+\n5\n/);
    assert.match(outputs, /state<<ghadelimiter_[0-9a-f-]+\nplanned\n/);
    assert.ok(readFileSync(summary, 'utf8').includes(`Plan ID: \`${lib.planId}\``));
    const planFile = outputs.match(/plan-file<<ghadelimiter_[0-9a-f-]+\n(.*)\n/)![1]!;
    assert.equal((JSON.parse(readFileSync(planFile, 'utf8')) as { planId: string }).planId, lib.planId);
    assert.doesNotMatch(r.stdout, /BEGIN CERTIFICATE|Bearer/);
  });

  test('the bundled action keeps one tracking issue per cluster on a fake GitHub: opened, refreshed, revised, closed', async () => {
    const gh = new FakeGitHub({ users: [{ login: 'alice', role: 'admin' }] });
    const api = await gh.start();
    try {
      const action = (extra: Record<string, string> = {}) =>
        runCli([], {
          script: join(root, 'action', 'index.js'),
          env: {
            GITHUB_EVENT_NAME: 'schedule',
            GITHUB_API_URL: api,
            GITHUB_REPOSITORY: 'contoso/platform',
            GITHUB_OUTPUT: join(dir, 'gh-output'),
            GITHUB_STEP_SUMMARY: join(dir, 'gh-summary'),
            RUNNER_TEMP: dir,
            INPUT_KUBECONFIG: cluster.kubeconfigPath,
            'INPUT_CLUSTER-NAME': 'aks-prod',
            'INPUT_GITHUB-TOKEN': 'ghs_not-a-real-token',
            ...extra,
          },
        });
      writeFileSync(join(dir, 'gh-output'), '');
      writeFileSync(join(dir, 'gh-summary'), '');
      const first = await action();
      assert.equal(first.code, 0, first.stdout + first.stderr);
      assert.match(first.stdout, /tracking issue: opened #1/);
      // The token is only ever named in the runner's masking command, which the runner consumes.
      assert.doesNotMatch(first.stdout.replace(/^::add-mask::.*$/m, ''), /ghs_not-a-real-token/);
      const issue = gh.issues.get(1)!;
      assert.match(issue.body as string, /^<!-- reboot-pilot:tracking cluster=aks-prod -->/);
      assert.match(issue.body as string, /To approve, comment `\/approve [0-9a-f]{12}` \(revision 1/);
      assert.match(issue.body as string, /### Progress\n\n- \[ \] worker\\-1: reboot/);
      assert.equal((issue.labels as { name: string }[])[0]!.name, 'reboot-pilot');
      assert.match(
        readFileSync(join(dir, 'gh-output'), 'utf8'),
        /issue-number<<ghadelimiter_[0-9a-f-]+\n1\n/,
      );

      const second = await action();
      assert.match(second.stdout, /tracking issue: refreshed #1/);
      assert.equal(gh.issues.size, 1, 'no second issue');
      assert.equal(gh.comments.size, 0);

      sim.writeHostFiles(N.np0, { 'boot/vmlinuz-5.15.0-1090-azure': 'kernel' });
      const third = await action();
      assert.match(third.stdout, /tracking issue: revised #1/);
      assert.match(
        [...gh.comments.values()][0]!.body as string,
        /plan `[0-9a-f]{12}` \(revision 2\) replaces `[0-9a-f]{12}` \(revision 1\)\. Earlier approvals are discarded\./,
      );
      sim.writeHostFiles(N.np0, { 'boot/vmlinuz-5.15.0-1090-azure': null });

      // Only the up-to-date node is considered: nothing to do, the issue closes with a note.
      const fourth = await action({ 'INPUT_NODE-SELECTOR': `kubernetes.io/hostname=${N.np1}` });
      assert.match(fourth.stdout, /tracking issue: closed #1/);
      assert.equal(gh.issues.get(1)!.state, 'closed');
      assert.match(
        [...gh.comments.values()].pop()!.body as string,
        /Nothing needs a reboot any more: all 1 inspected node\(s\) are up to date/,
      );
      assert.deepEqual(gh.violations, [], "every request and response matched GitHub's description");
    } finally {
      await gh.stop();
    }
  });

  test('the bundled action fails clearly on a bad input, before touching the cluster', async () => {
    const r = await runCli([], {
      script: join(root, 'action', 'index.js'),
      env: { GITHUB_EVENT_NAME: 'schedule', INPUT_KUBECONFIG: cluster.kubeconfigPath, INPUT_ORDER: 'random' },
    });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /::error::invalid settings: order/);
  });

  // The machine's own Node (Debian's) is older than 24 on the project machines: the bin says so plainly.
  const systemNode = (() => {
    try {
      const v = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim();
      return Number(v.slice(1).split('.')[0]) < 24 ? v : undefined;
    } catch {
      return undefined;
    }
  })();
  test(
    'the bin refuses an old Node.js with a clear message',
    { skip: systemNode ? false : 'no Node.js older than 24 on this machine' },
    () => {
      const r = spawnSync('/usr/bin/node', [CLI, 'plan'], { encoding: 'utf8' });
      assert.equal(r.status, 2);
      assert.equal(
        r.stderr,
        `reboot-pilot: error: needs Node.js 24 or newer, this is ${systemNode}. In a clone, \`npm ci\` installs Node 24 and \`npx reboot-pilot\` uses it.\n`,
      );
    },
  );

  let deadPort = 0;
  before(async () => {
    deadPort = await freePort();
  });
  for (const [what, args, code, message] of failures) {
    test(`${what}: a clear error, exit ${code}, nothing left behind`, async () => {
      const r = await runCli(['plan', ...args()]);
      assert.equal(r.code, code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '', 'no plan printed');
      assert.doesNotMatch(
        r.stderr,
        /token|BEGIN CERTIFICATE|certificate-authority-data/i,
        'no credentials in messages',
      );
      assert.equal(await probePodsLeft(), 0);
    });
  }
});
