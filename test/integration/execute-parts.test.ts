// The executor's parts one at a time on the real control plane: the run lock (lock/lease.ts),
// the waits (execute/wait.ts) and the recorded steps of one node (execute/steps.ts), each
// driven directly, without a plan run around it (execute.test.ts and safety.test.ts cover those).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../harness/controlplane.ts';
import { NodeSimulator } from '../harness/simulator.ts';
import { aksNode } from '../harness/nodes.ts';
import { BOOT_TIME } from '../fixtures/hosts.ts';
import { MERGE_PATCH, loadKubeConfig, makeClients, type KubeClients } from '../../src/kube/client.ts';
import type { Plan, PlanNode } from '../../src/plan/types.ts';
import { LeaseLock, LockHeldError } from '../../src/lock/lease.ts';
import {
  untilAnswered,
  waitForBoot,
  waitForSchedulable,
  waitForWorkloads,
  watchSoak,
} from '../../src/execute/wait.ts';
import { rebootNode } from '../../src/execute/steps.ts';
import type { Run } from '../../src/execute/context.ts';
import type { ExecEvent, NodeReport } from '../../src/execute/types.ts';
import { ANN } from '../../src/kube/labels.ts';
import { readProgress } from '../../src/execute/progress.ts';
import type { Rebooter } from '../../src/reboot/types.ts';

let cluster: Cluster;
let sim: NodeSimulator;
let kube: KubeClients;
const names = [0, 1].map((index) => aksNode({ pool: 'parts', index }).name);
const [first, second] = names as [string, string];
const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

before(async () => {
  cluster = await startCluster();
  sim = new NodeSimulator(cluster);
  await sim.start();
  kube = makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  await sim.createNodes(
    names.map((_, index) => ({ ...aksNode({ pool: 'parts', index }), bootTime: BOOT_TIME })),
  );
});

after(async () => {
  await sim.stop();
  await cluster.stop();
});

const lock = (holder: string) =>
  new LeaseLock(kube, { namespace: 'default', name: 'parts-lock', ttlSeconds: 3, holder });

test('run lock: one holder at a time, a lost lock is noticed, an expired one is taken over, release frees it', async () => {
  const ours = lock('run-a');
  await ours.acquire();
  await assert.rejects(
    lock('run-b').acquire(),
    (error: unknown) =>
      error instanceof LockHeldError &&
      /another execution holds the lock default\/parts-lock: run-a \(renewed .*, expires .* unless renewed\)/.test(
        error.message,
      ),
  );
  ours.check();
  // Someone else writes the lease (as after a long pause of ours): the next renewal notices.
  const lease = await kube.coordination.readNamespacedLease({ name: 'parts-lock', namespace: 'default' });
  lease.spec!.holderIdentity = 'run-c';
  await kube.coordination.replaceNamespacedLease({ name: 'parts-lock', namespace: 'default', body: lease });
  await sleep(2500);
  assert.throws(() => ours.check(), /lost the lock default\/parts-lock to run-c/);
  await ours.release();
  const held = await kube.coordination.readNamespacedLease({ name: 'parts-lock', namespace: 'default' });
  assert.equal(held.spec?.holderIdentity, 'run-c', "releasing never frees another holder's lock");

  // run-c never renews: after its TTL (3 s) the lock is taken over, a new transition.
  await sleep(3500);
  const next = lock('run-b');
  await next.acquire();
  const taken = await kube.coordination.readNamespacedLease({ name: 'parts-lock', namespace: 'default' });
  assert.equal(taken.spec?.holderIdentity, 'run-b');
  assert.equal(taken.spec.leaseTransitions, (held.spec.leaseTransitions ?? 0) + 1);
  await next.release();
  const free = await kube.coordination.readNamespacedLease({ name: 'parts-lock', namespace: 'default' });
  assert.equal(free.spec?.holderIdentity, undefined);
  const again = lock('run-d');
  await again.acquire();
  await again.release();
});

test('waitForBoot: back with a new boot ID and Ready; else the deadline, saying what was last seen', async () => {
  const before = (await sim.node(first)).status!.nodeInfo!.bootID;
  const seen: string[] = [];
  const [back, reboot] = await Promise.all([
    waitForBoot(kube, first, before, Date.now() + 60_000, (what) => seen.push(what)),
    sim.reboot(first, { downMs: 1000 }),
  ]);
  assert.ok(back.ok, 'came back');
  assert.equal(back.node.status?.nodeInfo?.bootID, reboot.bootIDAfter);
  assert.notEqual(reboot.bootIDAfter, before);
  assert.match(seen[0]!, new RegExp(`^${first}: `));

  const still = (await sim.node(second)).status!.nodeInfo!.bootID;
  const timedOut = await waitForBoot(kube, second, still, Date.now() + 1500, () => undefined);
  assert.deepEqual(timedOut, {
    ok: false,
    reason:
      'no new boot ID and Ready within the reboot timeout (last seen: still running the old boot (Ready))',
  });
});

test('untilAnswered repeats a call while the API server is away (5xx), and not after an answer (4xx)', async () => {
  let calls = 0;
  const flaky = async () => {
    await Promise.resolve();
    if (++calls < 3) throw new k8s.ApiException(503, 'unavailable', undefined, {});
    return 'answered';
  };
  const waited: string[] = [];
  assert.equal(
    await untilAnswered('read', flaky, Date.now() + 10_000, (what) => waited.push(what)),
    'answered',
  );
  assert.equal(calls, 3);
  assert.match(waited[0]!, /^read: the API server does not answer \(HTTP 503\)/);

  let refused = 0;
  const forbidden = async () => {
    await Promise.resolve();
    refused++;
    throw new k8s.ApiException(403, 'forbidden', undefined, {});
  };
  await assert.rejects(
    untilAnswered('read', forbidden, Date.now() + 10_000, () => undefined),
    /forbidden/,
  );
  assert.equal(refused, 1);
});

test('waitForWorkloads: available and deleted workloads pass; one that cannot become available times out, named', async () => {
  const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  const deployment = (name: string, nodeSelector: Record<string, string>): k8s.V1Deployment => ({
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { nodeSelector, containers: [{ name: 'c', image: 'nginx' }] },
      },
    },
  });
  await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('up', {}) });
  await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('stuck', { none: 'x' }) });
  const up = { namespace: 'default', kind: 'Deployment', name: 'up' };
  const gone = { namespace: 'default', kind: 'StatefulSet', name: 'never-made' };
  assert.deepEqual(await waitForWorkloads(kube, [up, gone], Date.now() + 60_000, () => undefined), {
    ok: true,
  });
  const stuck = { namespace: 'default', kind: 'Deployment', name: 'stuck' };
  assert.deepEqual(await waitForWorkloads(kube, [up, stuck], Date.now() + 2000, () => undefined), {
    ok: false,
    reason: 'evicted workloads not available again in time: Deployment default/stuck 0/2 available',
  });
});

test('watchSoak: a node that stays Ready passes; one that goes NotReady during the soak fails it', async () => {
  const healthy = () => Promise.resolve({ ok: true as const });
  assert.deepEqual(await watchSoak(kube, second, Date.now() + 2000, healthy), { ok: true });
  const [soak] = await Promise.all([
    watchSoak(kube, second, Date.now() + 30_000, healthy),
    sim.flap(second, 3000),
  ]);
  assert.equal(soak.ok, false);
  assert.match(soak.reason, /^went NotReady during its soak.*: it is unstable after its reboot/);
});

test("waitForSchedulable: the node lifecycle controller's taints are waited for; a kept cordon is not; one that stays times out, named", async () => {
  const NOT_READY = 'node.kubernetes.io/not-ready';
  const taintsOf = async () => ((await sim.node(second)).spec?.taints ?? []).map((taint) => taint.key);
  const tainted = async (key: string) => {
    for (let tries = 0; !(await taintsOf()).includes(key); tries++) {
      assert.ok(tries < 120, `the controller tainted ${second} ${key} within a minute`);
      await sleep(500);
    }
  };
  const n = await sim.node(second);
  const boot = { bootID: n.status!.nodeInfo!.bootID, kernelVersion: n.status!.nodeInfo!.kernelVersion };
  // NotReady: the real controller taints it, and the taint stays while it is down.
  await sim.powerOff(second);
  try {
    await tainted(NOT_READY);
    const stays = await waitForSchedulable(kube, second, Date.now() + 1500, () => undefined);
    const reason = `still tainted ${NOT_READY} by the node lifecycle controller`;
    assert.deepEqual(stays, { ok: false, reason });
  } finally {
    // Ready again: the controller lifts its taint a moment later, and the wait sees it.
    await sim.powerOn(second, boot);
  }
  assert.deepEqual(await waitForSchedulable(kube, second, Date.now() + 60_000, () => undefined), {
    ok: true,
  });
  assert.ok(!(await taintsOf()).includes(NOT_READY));
  // A cordon the node keeps (someone else's) keeps its unschedulable taint: nothing to wait for.
  await kube.core.patchNode({ name: second, body: { spec: { unschedulable: true } } }, MERGE_PATCH);
  try {
    await tainted('node.kubernetes.io/unschedulable');
    assert.deepEqual(await waitForSchedulable(kube, second, Date.now() + 1000, () => undefined), {
      ok: true,
    });
  } finally {
    await kube.core.patchNode({ name: second, body: { spec: { unschedulable: false } } }, MERGE_PATCH);
  }
  assert.deepEqual(await waitForSchedulable(kube, second, Date.now() + 60_000, () => undefined), {
    ok: true,
  });
});

/** A run of a plan of one node, as executePlan would make it; soak and workload waits off. */
function runFor(planId: string, events: ExecEvent[]): Run {
  return {
    plan: { nodes: [] } as unknown as Plan,
    planId,
    options: {
      drain: {
        deleteEmptyDirData: true,
        force: false,
        timeoutSeconds: 60,
        gracePeriodSeconds: 1,
        podSelector: '',
        retryDelayMs: 500,
        concurrency: 10,
      },
      rebootTimeoutSeconds: 60,
      rebootDelaySeconds: 0,
      workloadTimeoutSeconds: 0,
      soakSeconds: 0,
      maxNodes: 0,
    },
    deps: { kube, rebooter: simulatorRebooter(), gates: [] },
    kube,
    log: () => undefined,
    emit: (event) => events.push(event),
    now: () => new Date(),
    reports: [],
    patched: 0,
    upgradedPools: new Map(),
    health: () => Promise.resolve({ ok: true as const }),
  };
}

const requested: string[] = [];
/** Reboots through the simulator, in the background, as a reboot pod would. */
function simulatorRebooter(): Rebooter {
  return {
    rebootMethod: 'simulator',
    reboot(request) {
      const name = request.node.metadata!.name!;
      requested.push(name);
      void sim.reboot(name, { downMs: 500 });
      return Promise.resolve('issued' as const);
    },
    cleanup: () => Promise.resolve(),
  };
}

async function startOf(run: Run, name: string) {
  const node = await sim.node(name);
  const info = node.status!.nodeInfo!;
  const planned = {
    name,
    pool: 'parts',
    order: 1,
    bootID: info.bootID,
    providerID: node.spec?.providerID ?? '',
    kernel: { running: info.kernelVersion, next: info.kernelVersion },
  } as PlanNode;
  const report: NodeReport = {
    name,
    outcome: 'not-started',
    kernelBefore: info.kernelVersion,
    bootIdBefore: info.bootID,
    timings: {},
  };
  return { run, planned, report, startedMs: Date.now(), node };
}

test('the steps of one node: cordon, drain, reboot, wait, uncordon, in that order, each recorded', async () => {
  const events: ExecEvent[] = [];
  const start = await startOf(runFor('a'.repeat(64), events), first);
  await rebootNode(start);
  const steps = events.flatMap((event) => (event.type === 'step' ? [event.step] : []));
  assert.deepEqual(steps, ['cordon', 'drain', 'reboot', 'wait for the node to come back', 'uncordon']);
  assert.equal(start.report.outcome, 'rebooted');
  assert.notEqual(start.report.bootIdAfter, start.planned.bootID);
  assert.ok((start.report.timings.reboot ?? 0) > 0);
  const node = await sim.node(first);
  assert.notEqual(node.spec?.unschedulable, true, 'uncordoned');
  assert.equal(readProgress(node).step, 'done');
  assert.equal(events.at(-1)?.type, 'node-end');
});

test('the steps of one node resume from its record: a node recorded as rebooted is not drained or rebooted again', async () => {
  const planId = 'b'.repeat(64);
  const node = await sim.node(second);
  const bootID = node.status!.nodeInfo!.bootID;
  // What a run killed after recording "rebooted" leaves: cordoned by us, its boot replaced.
  await kube.core.patchNode(
    {
      name: second,
      body: {
        spec: { unschedulable: true },
        metadata: {
          annotations: {
            [ANN.planId]: planId,
            [ANN.step]: 'rebooted',
            [ANN.cordonedByUs]: 'true',
            [ANN.bootIdBefore]: 'an-earlier-boot',
          },
        },
      },
    },
    MERGE_PATCH,
  );
  const events: ExecEvent[] = [];
  const requestsBefore = requested.length;
  const start = await startOf(runFor(planId, events), second);
  await rebootNode(start);
  const steps = events.flatMap((event) => (event.type === 'step' ? [event.step] : []));
  assert.deepEqual(steps, ['uncordon']);
  assert.equal(requested.length, requestsBefore, 'no reboot requested');
  assert.equal(start.report.outcome, 'rebooted');
  assert.equal(start.report.bootIdAfter, bootID);
  const after = await sim.node(second);
  assert.notEqual(after.spec?.unschedulable, true, 'uncordoned');
  assert.equal(readProgress(after).step, 'done');
  assert.equal(after.metadata?.annotations?.[ANN.cordonedByUs], undefined);
});
