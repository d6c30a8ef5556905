// The blocking-pod gate (gates/blocking-pods.ts, kured's --blocking-pod-selector) on the real
// control plane with KWOK nodes: a node is held while a running pod on it matches the selector,
// and only then (a pod elsewhere, an unmatched or a finished one holds nothing).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../harness/controlplane.ts';
import { NodeSimulator, waitUntil } from '../harness/simulator.ts';
import { kubeadmNode } from '../harness/nodes.ts';
import { stopAll } from '../harness/teardown.ts';
import { BlockingPodGate } from '../../src/gates/blocking-pods.ts';
import { OPEN, type Gate, type GateContext } from '../../src/gates/types.ts';
import { MERGE_PATCH, loadKubeConfig, makeClients, type KubeClients } from '../../src/kube/client.ts';
import { UserError } from '../../src/errors.ts';

const NAMESPACE = 'batch-jobs';
const SELECTOR = 'workload in (batch, report)';
let cluster: Cluster | undefined;
let sim: NodeSimulator | undefined;
let core: k8s.CoreV1Api;
let clients: KubeClients;

before(async () => {
  cluster = await startCluster();
  sim = new NodeSimulator(cluster);
  await sim.createNodes([kubeadmNode('node-a'), kubeadmNode('node-b')]);
  core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  clients = makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
});

after(async () => {
  await stopAll(sim, cluster);
});

/** A pod bound to `node`, once KWOK has it running. */
async function runningPod(name: string, node: string, workload: string): Promise<void> {
  await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: { name, labels: { workload } },
      spec: { nodeName: node, restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
    },
  });
  await waitUntil(`${name} running`, async () => {
    const pod = await core.readNamespacedPod({ name, namespace: NAMESPACE });
    return pod.status?.phase === 'Running';
  });
}

async function checkNode(gate: Gate, node: string) {
  const context: GateContext = { node: await core.readNode({ name: node }), now: new Date(), done: 0 };
  return gate.check(context);
}

const held = (pods: string, node: string) => ({
  open: false,
  reason: `${pods} on ${node} match the blocking pod selector ${SELECTOR}`,
});

test('a running pod matching the selector holds its node; a pod elsewhere or unmatched holds nothing', async () => {
  const gate = new BlockingPodGate(clients, SELECTOR);
  assert.equal(gate.name, 'blocking pods');
  assert.deepEqual(await checkNode(gate, 'node-a'), OPEN);
  await runningPod('elsewhere', 'node-b', 'batch');
  await runningPod('web', 'node-a', 'web');
  assert.deepEqual(await checkNode(gate, 'node-a'), OPEN, 'a web pod and a batch pod on node-b');
  assert.deepEqual(await checkNode(gate, 'node-b'), held(`${NAMESPACE}/elsewhere`, 'node-b'));
  await runningPod('nightly', 'node-a', 'report');
  assert.deepEqual(await checkNode(gate, 'node-a'), held(`${NAMESPACE}/nightly`, 'node-a'));
});

test('a finished pod no longer holds its node; a deleted one neither', async () => {
  const gate = new BlockingPodGate(clients, SELECTOR);
  // KWOK moves only Pending pods (test/harness/stages.ts), so the status set here stays.
  await core.patchNamespacedPodStatus(
    { name: 'nightly', namespace: NAMESPACE, body: { status: { phase: 'Succeeded' } } },
    MERGE_PATCH,
  );
  await waitUntil('nightly succeeded', async () => {
    const pod = await core.readNamespacedPod({ name: 'nightly', namespace: NAMESPACE });
    return pod.status?.phase === 'Succeeded';
  });
  assert.deepEqual(await checkNode(gate, 'node-a'), OPEN);
  await core.deleteNamespacedPod({ name: 'elsewhere', namespace: NAMESPACE, gracePeriodSeconds: 0 });
  await waitUntil('elsewhere gone', async () => {
    const pods = await core.listNamespacedPod({
      namespace: NAMESPACE,
      fieldSelector: 'metadata.name=elsewhere',
    });
    return pods.items.length === 0;
  });
  assert.deepEqual(await checkNode(gate, 'node-b'), OPEN);
});

test("a selector that does not parse is the operator's error, named", async () => {
  const gate = new BlockingPodGate(clients, 'workload in (batch, -x)');
  await assert.rejects(checkNode(gate, 'node-a'), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(
      error.message,
      'invalid blocking pod selector "workload in (batch, -x)": "-x" is not a valid label value',
    );
    return true;
  });
});
