// Each pod moved once, on the real control plane: PreferNoSchedule taints on the nodes still
// pending while a plan executes, removed per node when it is done and all of them when the run
// ends (completed, paused, failed); a resumed run keeps the ones a killed run left; the invariant
// watcher fails a test that ends with one of them. And each finished node records how long it
// took, for the next plan's estimate.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../harness/controlplane.ts';
import type { NodeSimulator } from '../harness/simulator.ts';
import { InvariantWatcher } from '../harness/invariants.ts';
import { applyProductRbac, guardedDeployment } from '../harness/workloads.ts';
import { keepPodsReady } from '../harness/kubelet-ready.ts';
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
import { inspectCluster } from '../../src/plan/inspect.ts';
import { shortId } from '../../src/plan/canonical.ts';
import { parseExecuteSettings, parsePlanSettings } from '../../src/settings.ts';
import { MERGE_PATCH as MERGE, type KubeClients } from '../../src/kube/client.ts';
import { runPlan } from '../../src/execute/run.ts';
import { readPlanFile } from '../../src/plan/file.ts';
import { ANN } from '../../src/kube/labels.ts';
import { PENDING_TAINT_KEY } from '../../src/kube/labels.ts';
import { hasPendingTaint } from '../../src/execute/taints.ts';
import { readDurations } from '../../src/estimate/history.ts';
import { estimatePlan } from '../../src/estimate/estimate.ts';

let cluster: Cluster;
let sim: NodeSimulator;
let core: k8s.CoreV1Api;
let clients: KubeClients;
let dir: string;
let watcher: InvariantWatcher;
let stopReady: () => number = () => 0;
let rbacKubeconfig: string;

/** The bundled CLI under the product's RBAC; `onStderr` may kill it. */
function runCli(args: string[], onStderr?: (text: string, kill: (signal: NodeJS.Signals) => void) => void) {
  return runBundledCli({ kubeconfig: rbacKubeconfig, settings: EXEC, args, onStderr });
}

const nodes = [0, 1, 2, 3].map((i) => `aks-nodepool1-12345678-vmss00000${i}`);
let kernelSerial = 2000;
const EXEC = FAST_EXECUTE_SETTINGS;
const planSettings = () =>
  parsePlanSettings({ 'cluster-name': 'taints', 'probe-timeout': '20', order: 'name' });

function pend(...names: string[]): void {
  markRebootRequired(sim, `5.15.0-${++kernelSerial}-azure`, names);
}

async function makePlan() {
  return savePlan(dir, await inspectCluster(clients, planSettings(), () => undefined));
}

const run = (file: string, extra: Record<string, string> = {}) =>
  runPlan(clients, readPlanFile(readFileSync(file, 'utf8')), {
    plan: planSettings(),
    execute: parseExecuteSettings({ ...EXEC, ...extra }),
    log: () => undefined,
  });

/**
 * Every node event in order (one watch: the API server's order), with the state of all nodes
 * as of that event: what each node's taint and step were when another node was cordoned.
 */
class TaintLog {
  readonly state = new Map<string, { tainted: boolean; step?: string }>();
  /** At each node's cordon: the nodes tainted then. */
  readonly atCordon = new Map<string, string[]>();
  /** Nodes seen losing the taint before their step was done (a gap a resumed run must not open). */
  readonly gaps: string[] = [];
  private ctl: AbortController | undefined;

  async start(): Promise<void> {
    this.ctl = await new k8s.Watch(cluster.kc).watch(
      '/api/v1/nodes',
      {},
      (_t: string, n: k8s.V1Node) => this.seen(n),
      () => undefined,
    );
  }

  private seen(n: k8s.V1Node): void {
    const name = n.metadata!.name!;
    const before = this.state.get(name);
    const now = { tainted: hasPendingTaint(n), step: n.metadata?.annotations?.[ANN.step] };
    this.state.set(name, now);
    if (before?.tainted && !now.tainted && now.step !== 'done') this.gaps.push(name);
    if (now.step === 'cordoned' && before?.step !== 'cordoned' && !this.atCordon.has(name)) {
      this.atCordon.set(
        name,
        [...this.state]
          .filter(([, s]) => s.tainted)
          .map(([k]) => k)
          .sort(),
      );
    }
  }

  stop(): void {
    this.ctl?.abort();
  }
}

async function taintedNow(): Promise<string[]> {
  return (await core.listNode()).items
    .filter(hasPendingTaint)
    .map((n) => n.metadata!.name!)
    .sort();
}

before(async () => {
  ({
    cluster,
    simulator: sim,
    core,
    clients,
    directory: dir,
  } = await startTestBed({
    directoryPrefix: 'rp-taints-',
    cluster: { users: [{ name: 'reboot-pilot' }] },
    rebootDownMs: 1000,
  }));
  rbacKubeconfig = await applyProductRbac(cluster, dir);
  await createAksNodes(sim, nodes.length);
  await guardedDeployment(cluster, { namespace: 'shop', name: 'web', replicas: 4, minAvailable: 3 });
  stopReady = keepPodsReady(cluster, 'shop');
});

after(async () => {
  stopReady();
  await stopAll(sim, cluster);
});

beforeEach(async () => {
  watcher = new InvariantWatcher(cluster);
  await watcher.start();
});

afterEach(async () => {
  const v = watcher.stop();
  sim.neverReturn.clear();
  await restoreNodes(sim, core, nodes, { powerOn: 'new-boot', removeTaint: PENDING_TAINT_KEY });
  await core.deleteCollectionNamespacedPod({
    namespace: 'kube-system',
    labelSelector: 'reboot-pilot.io/role',
  });
  assert.deepEqual(v, [], 'invariants held throughout, nothing of ours left');
});

test('every pending node is tainted from the start; each loses it when done; none keeps it at the end', async () => {
  const [a, b, c] = nodes;
  pend(a!, b!, c!);
  const p = await makePlan();
  assert.deepEqual(
    p.plan.nodes.map((n) => n.name),
    [a, b, c],
  );
  // A taint of someone else's stays untouched.
  await core.patchNode(
    {
      name: c!,
      body: { spec: { taints: [{ key: 'team.example/gpu', value: 'true', effect: 'PreferNoSchedule' }] } },
    },
    MERGE,
  );
  const log = new TaintLog();
  await log.start();
  const r = await run(p.file);
  log.stop();
  assert.equal(r.state, 'completed', r.message);
  // When a is cordoned, every pending node is tainted; when b is, a (done) no longer is.
  assert.deepEqual(log.atCordon.get(a!), [a, b, c]);
  assert.deepEqual(log.atCordon.get(b!), [b, c]);
  assert.deepEqual(log.atCordon.get(c!), [c]);
  assert.deepEqual(log.gaps, []);
  assert.deepEqual(await taintedNow(), []);
  assert.deepEqual(
    (await sim.node(c!)).spec?.taints?.map((t) => t.key),
    ['team.example/gpu'],
  );
  assert.ok(!nodes.slice(0, 3).some((n) => log.state.get(n)!.tainted));
  // Each node now carries how long it took, and the next plan estimates from it.
  for (const [i, n] of r.nodes.entries()) {
    const d = readDurations(await sim.node(n.name))!;
    assert.deepEqual(
      d,
      {
        drain: Math.round(n.timings.drain! / 1000),
        reboot: Math.round(n.timings.reboot! / 1000),
        workloads: Math.round((n.timings.workloads ?? 0) / 1000),
      },
      `node ${i}`,
    );
  }
  pend(a!);
  const next = await makePlan();
  assert.deepEqual(next.plan.nodes[0]!.history, readDurations(await sim.node(a!)));
  assert.equal(estimatePlan(next.plan, 0).nodes[0]!.source, 'node');
});

test('a paused run removes them all; the next run taints only the nodes still pending', async () => {
  const [a, b, c] = nodes;
  pend(a!, b!, c!);
  const p = await makePlan();
  const first = await run(p.file, { 'max-nodes': '1' });
  assert.equal(first.state, 'paused', first.message);
  assert.deepEqual(await taintedNow(), []);
  const log = new TaintLog();
  await log.start();
  const second = await run(p.file);
  log.stop();
  assert.equal(second.state, 'completed', second.message);
  assert.deepEqual(log.atCordon.get(b!), [b, c], 'a is done for this plan: not tainted again');
  assert.deepEqual(await taintedNow(), []);
});

test('a killed run leaves its taints; the resumed run keeps them until each node is done', async () => {
  const [a, b] = nodes;
  pend(a!, b!);
  const p = await makePlan();
  // What a run killed right after tainting leaves behind.
  for (const n of [a!, b!])
    await core.patchNode(
      {
        name: n,
        body: {
          spec: {
            taints: [{ key: PENDING_TAINT_KEY, value: shortId(p.planId), effect: 'PreferNoSchedule' }],
          },
        },
      },
      MERGE,
    );
  const log = new TaintLog();
  await log.start();
  const r = await run(p.file);
  log.stop();
  assert.equal(r.state, 'completed', r.message);
  assert.deepEqual(log.gaps, [], 'no node lost its taint before it was done');
  assert.deepEqual(log.atCordon.get(b!), [b]);
  assert.deepEqual(await taintedNow(), []);
});

test('kill -9 in the middle of a node: the taints stay; the rerun keeps them and removes them as it finishes', async () => {
  const [a, b, c] = nodes;
  pend(a!, b!, c!);
  const p = await makePlan();
  let killed = false;
  const first = await runCli(['--plan', p.file], (text, kill) => {
    if (!killed && text.includes(`${a}: drain`)) {
      killed = true;
      kill('SIGKILL');
    }
  });
  assert.equal(first.signal, 'SIGKILL', first.stderr);
  assert.deepEqual(await taintedNow(), [a, b, c], 'the killed run could not clean up');
  const log = new TaintLog();
  await log.start();
  let second = await runCli(['--plan', p.file]);
  // The dead run's lock is taken over once lock-ttl (5 s) has passed.
  for (let i = 0; i < 10 && /holds the lock/.test(second.stderr); i++) {
    await new Promise((r) => setTimeout(r, 1500));
    second = await runCli(['--plan', p.file]);
  }
  log.stop();
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(log.gaps, [], 'b and c kept their taints until they were done');
  assert.deepEqual(log.atCordon.get(b!), [b, c]);
  assert.deepEqual(await taintedNow(), []);
});

test('a failed run removes every taint, also from the node it failed on and the ones it never reached', async () => {
  const [a, b, c] = nodes;
  pend(a!, b!, c!);
  const p = await makePlan();
  sim.neverReturn.add(a!);
  const r = await run(p.file, { 'reboot-timeout': '10' });
  assert.equal(r.state, 'failed', r.message);
  assert.deepEqual(await taintedNow(), []);
  // The failed node stays cordoned for a look (not our taint's business); unblock the afterEach.
  await core.patchNode({ name: a!, body: { metadata: { annotations: { [ANN.step]: null } } } }, MERGE);
});

test('the invariant watcher fails a test that ends with our taint on a node', async () => {
  const w = new InvariantWatcher(cluster);
  await w.start();
  const name = nodes[3]!;
  await core.patchNode(
    {
      name,
      body: { spec: { taints: [{ key: PENDING_TAINT_KEY, value: 'x', effect: 'PreferNoSchedule' }] } },
    },
    MERGE,
  );
  const deadline = Date.now() + 10_000;
  while (!w.tainted.has(name) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const v = w.stop();
  assert.equal(v.length, 1);
  assert.match(v[0]!, new RegExp(`left with Reboot Pilot's PreferNoSchedule taint: ${name}`));
  await core.patchNode({ name, body: { spec: { taints: [] } } }, MERGE);
  // The test's own watcher saw it too: wait for it to see the removal.
  while (watcher.tainted.has(name) && Date.now() < deadline + 10_000)
    await new Promise((r) => setTimeout(r, 50));
});
