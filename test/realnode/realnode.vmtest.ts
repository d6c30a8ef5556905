// Reboot Pilot on a real node: a Debian VM with a real kubelet and containerd (test/harness/realnode.ts)
// in a cluster with two KWOK nodes, the invariant watcher running throughout. One VM serves every
// test, in order (a TCG boot costs a minute): probe up to date; a real kernel install and its probe;
// an image without nsenter; the pod method's real reboot with a drain under a PDB and preStop hooks;
// the boot-ID guard and no second boot two minutes later; the signal method; kill -9 mid-reboot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { startCluster, logsOf, type Cluster } from '../harness/controlplane.ts';
import { NodeSimulator, waitUntil } from '../harness/simulator.ts';
import { InvariantWatcher } from '../harness/invariants.ts';
import { kubeadmNode } from '../harness/nodes.ts';
import { BOOT_TIME, ubuntuUpToDate } from '../fixtures/hosts.ts';
import { applyProductRbac } from '../harness/workloads.ts';
import {
  startRealNode,
  realNodeClusterOptions,
  REAL_NODE_IMAGES,
  STAGED_KERNEL_GLOB,
  type RealNode,
} from '../harness/realnode.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';
import { parseExecuteSettings, parsePlanSettings } from '../../src/settings.ts';
import {
  MERGE_PATCH as MERGE,
  loadKubeConfig,
  makeClients,
  type KubeClients,
} from '../../src/kube/client.ts';
import { runPlan } from '../../src/execute/run.ts';
import { readPlanFile } from '../../src/plan/file.ts';
import { ANN } from '../../src/kube/labels.ts';
import { rebootPod, rebootPodName } from '../../src/reboot/pod.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(root, 'action', 'cli.js');
const REAL = 'rp-real-1';
const KWOK = ['kwok-1', 'kwok-2'];
const KERNEL_A = '6.1.0-50-cloud-amd64';
const KERNEL_B = '6.1.0-57-cloud-amd64';
// TCG: a reboot takes one to two minutes, a kernel install about two, on a loaded machine more.
const EXEC: Record<string, string> = {
  soak: '0',
  'drain-retry-delay': '2',
  'lock-ttl': '10',
  'reboot-timeout': '600',
  'workload-timeout': '300',
  'drain-timeout': '300',
};
const MIN = 60_000;

let cluster: Cluster;
let sim: NodeSimulator;
let real: RealNode;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let policy: k8s.PolicyV1Api;
let clients: KubeClients;
let watcher: InvariantWatcher;
let dir: string;
let rbacKubeconfig: string;

const log = (l: string) => console.error(`[real node test ${new Date().toISOString().slice(11, 19)}] ${l}`);
const planSettings = (extra: Record<string, string> = {}) =>
  parsePlanSettings({
    kubeconfig: cluster.kubeconfigPath,
    'cluster-name': 'real',
    'probe-timeout': '300',
    ...extra,
  });

async function makePlan(extra: Record<string, string> = {}) {
  const r = await inspectCluster(clients, planSettings(extra), () => undefined);
  const file = join(dir, `plan-${r.planId.slice(0, 12)}.json`);
  writeFileSync(file, JSON.stringify({ planId: r.planId, plan: r.plan }));
  return { ...r, file };
}

let runLog: string[] = [];
async function run(
  file: string,
  planExtra: Record<string, string> = {},
  execExtra: Record<string, string> = {},
) {
  runLog = [];
  const both = (l: string) => {
    runLog.push(l);
    log(l);
  };
  return runPlan(clients, readPlanFile(readFileSync(file, 'utf8')), {
    plan: planSettings(planExtra),
    execute: parseExecuteSettings({ ...EXEC, ...execExtra }),
    log: both,
  });
}

function runCli(args: string[], onStderr?: (text: string, kill: (sig: NodeJS.Signals) => void) => void) {
  return new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve) => {
      const argv = [
        CLI,
        'run',
        '--kubeconfig',
        rbacKubeconfig,
        '--probe-timeout',
        '300',
        ...Object.entries(EXEC).flatMap(([k, v]) => [`--${k}`, v]),
        ...args,
      ];
      const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        onStderr?.(stderr, (s) => child.kill(s));
      });
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    },
  );
}

const liveNode = () => core.readNode({ name: REAL });
const bootId = async () => (await liveNode()).status!.nodeInfo!.bootID;

/** A reboot is pending again: what unattended-upgrades leaves after an upgrade that needs one. */
async function pend(): Promise<void> {
  await real.shOk(
    'printf "*** System restart required ***\\n" > /var/run/reboot-required; echo libc6 > /var/run/reboot-required.pkgs',
  );
}

/** Boot counts three ways: the host's qemu starts, the guest's boot log, the guest's journal. */
async function boots(): Promise<{ qemu: number; guest: number; journal: number }> {
  return { qemu: real.qemuBoots(), guest: (await real.bootIds()).length, journal: await real.journalBoots() };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rp-realnode-test-'));
  cluster = await startCluster(realNodeClusterOptions([REAL], { users: [{ name: 'reboot-pilot' }] }));
  core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  policy = cluster.kc.makeApiClient(k8s.PolicyV1Api);
  clients = makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  rbacKubeconfig = await applyProductRbac(cluster, dir);
  sim = new NodeSimulator(cluster);
  await sim.start();
  await sim.createNodes(
    KWOK.map((n) => ({
      ...kubeadmNode(n, { kernelVersion: '5.15.0-1079-azure', osImage: 'Ubuntu 22.04.5 LTS' }),
      bootTime: BOOT_TIME,
    })),
  );
  for (const n of KWOK) sim.writeHostFiles(n, { ...ubuntuUpToDate });
  real = await startRealNode(cluster, { name: REAL, log });
  watcher = new InvariantWatcher(cluster);
  await watcher.start();
});

after(async () => {
  // Each may be unset when the set-up failed part-way.
  const w = watcher as InvariantWatcher | undefined;
  const violations = w?.stop() ?? [];
  await (real as RealNode | undefined)?.stop();
  await (sim as NodeSimulator | undefined)?.stop();
  await (cluster as Cluster | undefined)?.stop();
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(violations, [], 'invariants held throughout');
  // Exactly 1: the watcher saw the real node unavailable while we rebooted it (it was live).
  assert.equal(w?.maxUnavailable, 1);
});

test('real node: a mixed cluster: KWOK plays its nodes, a real kubelet with containerd 2 runs the real one', async () => {
  const n = await liveNode();
  assert.match(n.status!.nodeInfo!.containerRuntimeVersion, /^containerd:\/\/2\./);
  assert.equal(n.status!.nodeInfo!.kubeletVersion, 'v1.36.3');
  assert.equal(n.status!.nodeInfo!.kernelVersion, KERNEL_A);
  // KWOK would report its --node-ip (10.240.0.1) and log the node; the kubelet reports its own.
  assert.deepEqual(
    n.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address),
    ['10.0.2.15'],
  );
  assert.doesNotMatch(logsOf(cluster, 'kwok'), new RegExp(REAL));
  for (const k of KWOK)
    assert.ok(
      (await core.readNode({ name: k })).status?.conditions?.some(
        (c) => c.type === 'Ready' && c.status === 'True',
      ),
    );
  assert.deepEqual(await boots(), { qemu: 1, guest: 1, journal: 1 });
});

test('real node: the probe of an up-to-date real node says so', { timeout: 10 * MIN }, async () => {
  const p = await makePlan();
  assert.deepEqual(p.plan.nodes, []);
  assert.deepEqual([...p.plan.upToDate].sort(), [...KWOK, REAL].sort());
});

test(
  'real node: after a real kernel install the probe shows the sentinel, .pkgs, dpkg.log and the kernel diff',
  { timeout: 20 * MIN },
  async () => {
    const t = Date.now();
    await real.shOk(`dpkg -i ${STAGED_KERNEL_GLOB}`, 15 * MIN);
    log(`dpkg -i of the second kernel took ${Math.round((Date.now() - t) / 1000)} s`);
    assert.match(
      await real.shOk('cat /var/run/reboot-required.pkgs; readlink /vmlinuz'),
      new RegExp(`linux-image-${KERNEL_B}[\\s\\S]*vmlinuz-${KERNEL_B}`),
    );
    // The default probe pod spec: the image is the product's default name (imported locally).
    const p = await makePlan();
    assert.equal(planSettings().image, REAL_NODE_IMAGES.busybox);
    assert.deepEqual(
      p.plan.nodes.map((n) => n.name),
      [REAL],
    );
    const n = p.plan.nodes[0]!;
    assert.deepEqual(n.kernel, { running: KERNEL_A, next: KERNEL_B });
    assert.equal(n.bootID, await bootId());
    assert.ok(
      n.evidence.some((e) => e.source === 'sentinel'),
      JSON.stringify(n.evidence),
    );
    assert.ok(n.packages.requiringReboot.includes(`linux-image-${KERNEL_B}`), JSON.stringify(n.packages));
    assert.ok(
      n.packages.sinceBoot.some(
        (c) => c.action === 'install' && c.name.startsWith(`linux-image-${KERNEL_B}`),
      ),
      JSON.stringify(n.packages.sinceBoot),
    );
    assert.match(n.osImage, /Debian GNU\/Linux 12/);
  },
);

test(
  'real node: an image without nsenter fails the reboot clearly, nothing reboots, and the node is named as left cordoned',
  { timeout: 15 * MIN },
  async () => {
    const image = { image: REAL_NODE_IMAGES.withoutNsenter };
    const p = await makePlan(image);
    assert.deepEqual(
      p.plan.nodes.map((n) => n.name),
      [REAL],
    );
    const before = await boots();
    const r = await run(p.file, image);
    assert.equal(r.state, 'failed', r.message);
    assert.match(
      r.message,
      /could not run its command .*nsenter: not found.*nothing was rebooted and the node stays cordoned/,
    );
    assert.deepEqual(r.leftCordoned, [REAL], 'the result names the node left cordoned');
    assert.equal((await liveNode()).spec?.unschedulable, true);
    assert.deepEqual(await boots(), before, 'no reboot');
    assert.equal(
      (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'reboot-pilot.io/role' }))
        .items.length,
      0,
      'the failed reboot pod is removed',
    );
    // The operator's way back: uncordon and clear our annotations (the next tests start clean).
    const clear = Object.fromEntries(Object.values(ANN).map((k) => [k, null]));
    await core.patchNode(
      { name: REAL, body: { spec: { unschedulable: false }, metadata: { annotations: clear } } },
      MERGE,
    );
  },
);

/** A Deployment whose pods run on the real node, under a PDB, with a preStop hook and a grace period that log to the host. */
async function realWorkload(): Promise<void> {
  await core.createNamespace({ body: { metadata: { name: 'shop' } } });
  for (const k of KWOK) await core.patchNode({ name: k, body: { spec: { unschedulable: true } } }, MERGE);
  const labels = { app: 'web' };
  const logLine = (what: string) => `echo "$(date +%s) $HOSTNAME ${what}" >> /log/events`;
  await apps.createNamespacedDeployment({
    namespace: 'shop',
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 30,
            volumes: [{ name: 'log', hostPath: { path: '/var/lib/rp-test', type: 'DirectoryOrCreate' } }],
            containers: [
              {
                name: 'web',
                image: REAL_NODE_IMAGES.busybox,
                imagePullPolicy: 'IfNotPresent',
                volumeMounts: [{ name: 'log', mountPath: '/log' }],
                // SIGTERM: log, take 3 s to shut down, log again, exit; the preStop hook runs first.
                command: [
                  '/bin/sh',
                  '-c',
                  `trap '${logLine('term')}; sleep 3; ${logLine('exit')}; exit 0' TERM; ${logLine('start')}; while true; do sleep 1; done`,
                ],
                lifecycle: {
                  preStop: { exec: { command: ['/bin/sh', '-c', `${logLine('prestop')}; sleep 2`] } },
                },
              },
            ],
          },
        },
      },
    },
  });
  await policy.createNamespacedPodDisruptionBudget({
    namespace: 'shop',
    body: { metadata: { name: 'web' }, spec: { minAvailable: 1, selector: { matchLabels: labels } } },
  });
  await waitUntil(
    'web running on the real node under its PDB',
    async () =>
      (await policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace: 'shop' })).status
        ?.currentHealthy === 2,
    5 * MIN,
    2000,
  );
  for (const k of KWOK) await core.patchNode({ name: k, body: { spec: { unschedulable: false } } }, MERGE);
}

let rebootEndedAt = 0;
let bootBeforeReboot = '';
const rebootPodSeen: string[] = [];

test(
  'real node: the pod method reboots the real node once into the planned kernel: drain under a PDB with preStop and grace period, uncordon, workloads back',
  { timeout: 30 * MIN },
  async () => {
    await realWorkload();
    const p = await makePlan();
    assert.deepEqual(
      p.plan.nodes.map((n) => n.name),
      [REAL],
    );
    assert.deepEqual(p.plan.nodes[0]!.kernel, { running: KERNEL_A, next: KERNEL_B });
    bootBeforeReboot = await bootId();
    const podName = rebootPodName(p.planId, REAL);
    // What happens to the reboot pod, as the API server sees it, until the executor removes it.
    const watch = { on: true };
    const seen = (async () => {
      while (watch.on) {
        const pod = await core
          .readNamespacedPod({ name: podName, namespace: 'kube-system' })
          .catch(() => undefined);
        const t = pod?.status?.containerStatuses?.[0]?.state?.terminated;
        const n = await liveNode().catch(() => undefined);
        const ready = n?.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '?';
        const podState = pod
          ? `${pod.status?.phase ?? '-'}${t ? ` exit ${t.exitCode} ${t.reason ?? ''} ${(t.message ?? '').trim()}` : ''}`
          : 'absent';
        const state = `pod ${podState}; node Ready=${ready}${n?.status?.nodeInfo?.bootID === bootBeforeReboot ? '' : ' (new boot)'}`;
        if (rebootPodSeen[rebootPodSeen.length - 1] !== state) rebootPodSeen.push(state);
        await new Promise((res) => setTimeout(res, 500));
      }
    })();
    const r = await run(p.file);
    watch.on = false;
    await seen;
    rebootEndedAt = Date.now();
    log(`reboot pod as seen by the API server: ${rebootPodSeen.join(' | ')}`);
    assert.equal(r.state, 'completed', r.message);
    const rep = r.nodes[0]!;
    assert.equal(rep.outcome, 'rebooted');
    assert.equal(rep.bootIdBefore, bootBeforeReboot);
    assert.notEqual(rep.bootIdAfter, bootBeforeReboot);
    assert.equal(rep.kernelAfter, KERNEL_B);
    log(`timings: ${JSON.stringify(rep.timings)}`);
    const n = await liveNode();
    assert.equal(n.spec?.unschedulable, undefined, 'uncordoned');
    assert.equal(n.status?.nodeInfo?.kernelVersion, KERNEL_B);
    assert.deepEqual(await boots(), { qemu: 2, guest: 2, journal: 2 });
    assert.equal((await real.shOk('uname -r')).trim(), KERNEL_B);
    const dep = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    assert.equal(dep.status?.availableReplicas, 2, 'workloads back');
    // The drain ran each pod's preStop hook, then SIGTERM, and the pod finished inside its grace
    // period, all before the machine went down (the new boot's start time, from /proc/stat).
    const events = (await real.shOk('cat /var/lib/rp-test/events'))
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const btime = Number((await real.shOk("awk '/^btime/ {print $2}' /proc/stat")).trim());
    const pods = [...new Set(events.filter((e) => e[2] === 'start').map((e) => e[1]!))];
    assert.equal(pods.length, 2, events.join('\n'));
    for (const pod of pods) {
      const at = (what: string) => Number(events.find((e) => e[1] === pod && e[2] === what)?.[0]);
      assert.ok(
        at('prestop') > 0 && at('term') >= at('prestop') && at('exit') >= at('term') + 2,
        `${pod}: prestop, term, exit in order (${events.join(' / ')})`,
      );
      assert.ok(at('exit') - at('prestop') < 30, 'within the grace period');
      assert.ok(at('exit') < btime, 'before the reboot');
    }
  },
);

test(
  'real node: the boot-ID guard: the reboot pod command run again after the reboot does not reboot, and two minutes later there was no second boot',
  { timeout: 15 * MIN },
  async () => {
    assert.ok(bootBeforeReboot, 'runs after the reboot test');
    // The reboot pod exactly as it was requested for the old boot, under another name.
    const old = await liveNode();
    old.status!.nodeInfo!.bootID = bootBeforeReboot;
    const pod = rebootPod(
      { node: old, planId: 'guard-check' },
      {
        namespace: 'kube-system',
        image: REAL_NODE_IMAGES.busybox,
        mode: 'command',
        command: 'nsenter -m/proc/1/ns/mnt -- /bin/systemctl reboot',
      },
    );
    await core.createNamespacedPod({ namespace: 'kube-system', body: pod });
    const done = await waitUntil(
      'the re-run reboot pod to finish',
      async () => {
        const p = await core.readNamespacedPod({ name: pod.metadata!.name!, namespace: 'kube-system' });
        return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' ? p : undefined;
      },
      5 * MIN,
      2000,
    );
    const t = done.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(done.status?.phase, 'Succeeded');
    assert.match(
      t?.message ?? '',
      new RegExp(`not rebooting: requested for boot ${bootBeforeReboot}, this is boot ${await bootId()}`),
    );
    await core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: 'kube-system' });
    const wait = rebootEndedAt + 2 * MIN + 5000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    assert.deepEqual(await boots(), { qemu: 2, guest: 2, journal: 2 }, 'no second boot');
    assert.ok((await liveNode()).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  },
);

test(
  'real node: the signal method (SIGRTMIN+5 to PID 1, CAP_KILL only) really reboots the node',
  { timeout: 20 * MIN },
  async () => {
    await pend();
    const method = { 'reboot-method': 'signal' };
    const p = await makePlan();
    assert.deepEqual(
      p.plan.nodes.map((n) => n.name),
      [REAL],
    );
    const before = await bootId();
    const r = await run(p.file, {}, method);
    assert.equal(r.state, 'completed', r.message);
    assert.ok(
      runLog.some((l) => l.includes('reboot (pod (signal))')),
      runLog.join('\n'),
    );
    assert.notEqual(r.nodes[0]!.bootIdAfter, before);
    assert.deepEqual(await boots(), { qemu: 3, guest: 3, journal: 3 });
    assert.equal((await liveNode()).spec?.unschedulable, undefined);
  },
);

test(
  'real node: kill -9 of the executor while the node reboots, then a rerun converges with exactly one more boot',
  { timeout: 25 * MIN },
  async () => {
    await pend();
    const p = await makePlan();
    assert.deepEqual(
      p.plan.nodes.map((n) => n.name),
      [REAL],
    );
    const before = await boots();
    let kill: ((s: NodeJS.Signals) => void) | undefined;
    let killed = false;
    // Killed once the machine is really down: the reboot was requested and qemu exited (the VM
    // loop's log), whatever the API server has noticed by then.
    const exits = () => (readFileSync(join(real.dir, 'boots.log'), 'utf8').match(/ exit /g) ?? []).length;
    const exitsBefore = exits();
    const poll = setInterval(() => {
      if (!killed && kill && exits() > exitsBefore) {
        killed = true;
        kill('SIGKILL');
      }
    }, 250);
    const first = await runCli(['--plan', p.file], (_t, k) => (kill = k));
    clearInterval(poll);
    assert.ok(killed, `killed during the reboot (stderr: ${first.stderr.slice(-2000)})`);
    assert.equal(first.signal, 'SIGKILL');
    let second = await runCli(['--plan', p.file]);
    for (let i = 0; i < 10 && /holds the lock/.test(second.stderr); i++) {
      await new Promise((res) => setTimeout(res, 3000));
      second = await runCli(['--plan', p.file]);
    }
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.deepEqual(
      await boots(),
      { qemu: before.qemu + 1, guest: before.guest + 1, journal: before.journal + 1 },
      'exactly one more boot',
    );
    const n = await liveNode();
    assert.equal(n.spec?.unschedulable, undefined);
    assert.equal(
      (await core.listPodForAllNamespaces({ labelSelector: 'reboot-pilot.io/role' })).items.length,
      0,
      'no reboot or probe pods left',
    );
  },
);

test('real node: a SIGKILLed test process takes its VM with it', { timeout: 5 * MIN }, async () => {
  const child = spawn(process.execPath, [join(root, 'test', 'realnode', 'start-real-node-and-wait.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { dir: vmDir } = await new Promise<{ dir: string }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as { dir: string });
    });
    child.on('exit', (c) => reject(new Error(`the child exited ${c}`)));
  });
  const vmProcs = () =>
    execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(vmDir));
  await waitUntil(
    'qemu started',
    () => Promise.resolve(vmProcs().some((l) => l.includes('qemu-system'))),
    60_000,
    500,
  );
  child.kill('SIGKILL');
  await waitUntil('every VM process gone', () => Promise.resolve(vmProcs().length === 0), 15_000, 250);
});
