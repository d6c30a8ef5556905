// The `detectors` setting on the real control plane: each source is asked only when named.
// Three nodes: one with the reboot sentinel only, one with kured's annotation only, one with both.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../harness/controlplane.ts';
import { NodeSimulator } from '../harness/simulator.ts';
import { kubeadmNode } from '../harness/nodes.ts';
import { BOOT_TIME, ubuntu2204, ubuntuUpToDate } from '../fixtures/hosts.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';
import { probeDetector, probeOptions } from '../../src/detect/probe-detector.ts';
import { parsePlanSettings } from '../../src/settings.ts';
import { loadKubeConfig, makeClients } from '../../src/kube/client.ts';
import { KURED_IN_PROGRESS } from '../../src/kube/labels.ts';

let cluster: Cluster | undefined;
let sim: NodeSimulator | undefined;
const KERNEL = '5.15.0-1079-azure';
const kured = { [KURED_IN_PROGRESS]: '2026-12-01T03:00:00Z' };

before(async () => {
  cluster = await startCluster();
  const simulator = (sim = new NodeSimulator(cluster));
  await simulator.start();
  await simulator.createNodes(
    [
      kubeadmNode('sentinel-only', { kernelVersion: KERNEL }),
      kubeadmNode('kured-only', { kernelVersion: KERNEL, annotations: kured }),
      kubeadmNode('both', { kernelVersion: KERNEL, annotations: kured }),
    ].map((n) => ({ ...n, bootTime: BOOT_TIME })),
  );
  simulator.writeHostFiles('sentinel-only', ubuntu2204);
  simulator.writeHostFiles('kured-only', ubuntuUpToDate);
  simulator.writeHostFiles('both', ubuntu2204);
});

after(async () => {
  await sim?.stop();
  await cluster?.stop();
});

async function plan(detectors: string) {
  const clients = makeClients(loadKubeConfig({ kubeconfig: cluster!.kubeconfigPath }));
  const settings = parsePlanSettings({ detectors, 'probe-timeout': '30' });
  const r = await inspectCluster(clients, settings, () => undefined);
  const sources = Object.fromEntries(r.plan.nodes.map((n) => [n.name, n.evidence.map((e) => e.source)]));
  return { ...r, sources };
}

async function probePodsLeft(): Promise<number> {
  const core = cluster!.kc.makeApiClient(k8s.CoreV1Api);
  return (await core.listPodForAllNamespaces({ labelSelector: 'reboot-pilot.io/role=probe' })).items.length;
}

test("detectors: probe — the sentinel counts, kured's annotations do not", async () => {
  const r = await plan('probe');
  assert.deepEqual(r.sources, {
    both: ['sentinel', 'installed-kernel'],
    'sentinel-only': ['sentinel', 'installed-kernel'],
  });
  assert.deepEqual(r.plan.upToDate, ['kured-only']);
  assert.equal(r.probed, 3);
});

test("detectors: kured — kured's annotations count, no probe pod is started", async () => {
  const r = await plan('kured');
  assert.deepEqual(r.sources, { both: ['kured'], 'kured-only': ['kured'] });
  assert.deepEqual(r.plan.upToDate, ['sentinel-only']);
  assert.equal(r.probed, 0);
  assert.equal(await probePodsLeft(), 0);
});

test('detectors: probe,kured — both sources, and the order of the list does not change the plan', async () => {
  const r = await plan('probe,kured');
  assert.deepEqual(r.sources, {
    both: ['sentinel', 'kured', 'installed-kernel'],
    'kured-only': ['kured'],
    'sentinel-only': ['sentinel', 'installed-kernel'],
  });
  assert.deepEqual(r.plan.upToDate, []);
  assert.equal(r.probed, 3);
  assert.equal((await plan('kured,probe')).planId, r.planId);
  assert.equal(await probePodsLeft(), 0);
});

test('the probe detector carries the plan settings into its probes, and starts nothing without candidates', async () => {
  const clients = makeClients(loadKubeConfig({ kubeconfig: cluster!.kubeconfigPath }));
  const settings = parsePlanSettings({
    'probe-timeout': '30',
    'probe-parallelism': '2',
    sentinel: '/var/run/other-sentinel',
  });
  const options = probeOptions(settings);
  assert.equal(options.timeoutSeconds, 30);
  assert.equal(options.parallelism, 2);
  assert.equal(options.sentinel, '/var/run/other-sentinel');
  assert.equal(options.namespace, 'kube-system');
  assert.equal(options.image, 'mcr.microsoft.com/azurelinux/busybox:1.36');
  const detector = probeDetector(clients, options);
  assert.equal(detector.name, 'probe');
  const lines: string[] = [];
  const log = (line: string) => void lines.push(line);
  const none = await detector.detect({ considered: [], probe: [] }, log);
  assert.equal(none.probes?.size, 0);
  assert.deepEqual(lines, [], 'nothing to probe: nothing logged, no pod started');
  const found = await detector.detect({ considered: [], probe: ['sentinel-only', 'both'] }, log);
  assert.deepEqual(lines, [
    'probing 2 Linux nodes (2 at a time, 30s each, image mcr.microsoft.com/azurelinux/busybox:1.36)',
  ]);
  assert.deepEqual([...(found.probes?.keys() ?? [])].sort(), ['both', 'sentinel-only']);
  for (const [node, outcome] of found.probes ?? []) {
    assert.ok(outcome.ok, `${node}: ${outcome.ok ? '' : outcome.reason}`);
    // The sentinel setting reached the probe pod: these nodes have /var/run/reboot-required only.
    assert.equal(outcome.result.sentinel.path, '/var/run/other-sentinel');
    assert.equal(outcome.result.sentinel.present, false);
  }
  assert.equal(await probePodsLeft(), 0);
});
