// AKS awareness in the pure planner: with AksFacts, Linux pools on the SecurityPatch/NodeImage
// channels get a node image upgrade when their image is behind (no sentinel ever appears),
// Windows pools on the latest image are up to date, the reimage risk names the pool's
// upgradeSettings; without facts the plan is exactly what it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { buildPlan, type PlanOptions } from '../../src/plan/build.ts';
import { planId } from '../../src/plan/canonical.ts';
import type { AksFacts } from '../../src/plan/types.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import { toNodeObject, aksNode } from '../harness/nodes.ts';

const NOTHING_FOUND = { probes: new Map(), evidence: new Map() };
const opts: PlanOptions = {
  order: 'pool',
  drain: { deleteEmptyDirData: false, force: false },
  blockingPodSelector: '',
  nodeSelector: '',
  rebootOnNewerKernel: false,
  probeEnabled: false,
};
const ready = (node: k8s.V1Node): k8s.V1Node => {
  const copy = structuredClone(node);
  copy.status ??= {};
  copy.status.conditions = [{ type: 'Ready', status: 'True' }];
  return copy;
};
const OLD = 'AKSUbuntu-2204gen2containerd-202509.23.0';
const NEW = 'AKSUbuntu-2204gen2containerd-202510.03.0';
const WIN = 'AKSWindows-2022-containerd-20348.3207.250212';
const nodes = [
  ready(toNodeObject(aksNode({ pool: 'np1', index: 0, nodeImageVersion: OLD }))),
  ready(toNodeObject(aksNode({ pool: 'np1', index: 1, nodeImageVersion: OLD }))),
  ready(toNodeObject(aksNode({ pool: 'win', index: 1, os: 'windows', nodeImageVersion: WIN }))),
];
const snap: ClusterSnapshot = {
  identity: { uid: 'u', name: 'c', server: 'https://k', provider: 'aks' },
  nodes,
  pods: [],
  pdbs: [],
};
const facts = (channel: string, linuxLatest: string, winLatest: string): AksFacts => ({
  nodeOSUpgradeChannel: channel,
  pools: {
    np1: {
      nodeImageVersion: OLD,
      latestNodeImageVersion: linuxLatest,
      osType: 'Linux',
      type: 'VirtualMachineScaleSets',
      upgradeSettings: { maxSurge: '33%', drainTimeoutInMinutes: 45, nodeSoakDurationInMinutes: 10 },
    },
    win: {
      nodeImageVersion: WIN,
      latestNodeImageVersion: winLatest,
      osType: 'Windows',
      type: 'VirtualMachineScaleSets',
      upgradeSettings: {},
    },
  },
});

test("SecurityPatch channel, Linux image behind: node image upgrade with the reason and the pool's upgradeSettings", () => {
  const p = buildPlan(snap, NOTHING_FOUND, opts, facts('SecurityPatch', NEW, WIN));
  assert.deepEqual(p.aks, { nodeOSUpgradeChannel: 'SecurityPatch' });
  assert.deepEqual(
    p.nodes.map((n) => [n.pool, n.update]),
    [
      ['np1', 'node-image-upgrade'],
      ['np1', 'node-image-upgrade'],
    ],
  );
  assert.deepEqual(p.nodes[0]!.evidence, [
    {
      source: 'node-image',
      detail: `pool np1 runs node image ${OLD}, AKS's latest is ${NEW}; on the SecurityPatch channel AKS patches by reimaging and no reboot sentinel appears`,
    },
  ]);
  assert.equal(
    p.nodes[0]!.risks.find((r) => r.kind === 'reimage-data-loss')?.detail,
    "a node image upgrade is pool-wide: every node of pool np1 is reimaged (local disk data is lost), following the pool's upgradeSettings (max surge 33%, drain timeout 45 min, soak 10 min)",
  );
  assert.ok(p.upToDate.includes(nodes[2]!.metadata!.name!), 'the Windows pool is on its latest image');
});

test('Unmanaged channel: Linux nodes follow the sentinel as before; a Windows pool behind gets its node image upgrade', () => {
  const p = buildPlan(
    snap,
    NOTHING_FOUND,
    opts,
    facts('Unmanaged', NEW, 'AKSWindows-2022-containerd-20348.3270.250311'),
  );
  assert.deepEqual(
    p.nodes.map((n) => [n.pool, n.update]),
    [['win', 'node-image-upgrade']],
  );
  assert.match(p.nodes[0]!.evidence[0]!.detail, /latest AKSWindows-2022-containerd-20348.3270.250311/);
  assert.match(
    p.nodes[0]!.risks.find((r) => r.kind === 'reimage-data-loss')!.detail,
    /max surge AKS default, drain timeout 30 min, soak 0 min/,
  );
});

test('NodeImage channel on the latest image: nothing to do', () => {
  const p = buildPlan(snap, NOTHING_FOUND, opts, facts('NodeImage', OLD, WIN));
  assert.deepEqual(p.nodes, []);
});

test('without AKS facts the plan (and its ID) is unchanged', () => {
  const a = buildPlan(snap, NOTHING_FOUND, opts);
  const b = buildPlan(snap, NOTHING_FOUND, opts, undefined);
  assert.equal(a.aks, undefined);
  assert.equal(planId(a), planId(b));
  assert.deepEqual(
    a.nodes.map((n) => [n.pool, n.update]),
    [['win', 'node-image-upgrade']],
  );
  assert.match(
    a.nodes[0]!.risks.find((r) => r.kind === 'reimage-data-loss')!.detail,
    /following the pool's upgradeSettings \(max surge, drain timeout, soak\)$/,
  );
});

test('the markdown report names the AKS channel and the maintenance window, and warns about reimaging', async () => {
  const { renderMarkdown } = await import('../../src/report/markdown.ts');
  const p = buildPlan(snap, NOTHING_FOUND, opts, {
    ...facts('SecurityPatch', NEW, WIN),
    maintenance: 'aksManagedNodeOSUpgradeSchedule: every Saturday at 01:00 UTC+00:00 for 4 h',
  });
  const text = renderMarkdown(p, planId(p), { now: new Date('2025-06-01T00:00:00Z') });
  assert.match(
    text,
    /AKS node OS upgrade channel: \*\*SecurityPatch\*\*; nodes start only inside the planned maintenance window aksManagedNodeOSUpgradeSchedule\\\\?: every Saturday/,
  );
  assert.match(
    text,
    /A node image upgrade is pool-wide and reimages every node of the pool: local disk data is lost/,
  );
  assert.doesNotMatch(
    renderMarkdown(buildPlan(snap, NOTHING_FOUND, opts), 'x'.repeat(64), { now: new Date() }),
    /AKS node OS upgrade channel/,
  );
});
