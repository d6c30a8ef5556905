// What a node object says about itself (src/cluster/node.ts) and kured's annotations as reboot
// evidence (src/detect/kured.ts): pure reads of node objects, tested on hand-made nodes in the
// shapes AKS, kubeadm and kured give them.
import test from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { isControlPlane, isReady, osOf, poolOf } from '../../src/cluster/node.ts';
import { kuredDetector, kuredEvidence } from '../../src/detect/kured.ts';
import type { Candidates } from '../../src/detect/types.ts';
import { KURED_IN_PROGRESS, KURED_MOST_RECENT } from '../../src/kube/labels.ts';

interface NodeShape {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ready?: 'True' | 'False' | 'Unknown';
  readySince?: string;
  operatingSystem?: string;
}

function node(name: string, shape: NodeShape = {}): k8s.V1Node {
  const conditions = shape.ready
    ? [{ type: 'Ready', status: shape.ready, lastTransitionTime: shape.readySince ?? '' }]
    : [];
  return {
    metadata: { name, labels: shape.labels, annotations: shape.annotations },
    status: {
      conditions: conditions as unknown as k8s.V1NodeCondition[],
      ...(shape.operatingSystem ? { nodeInfo: { operatingSystem: shape.operatingSystem } } : {}),
    },
  } as k8s.V1Node;
}

test('a node names its pool by the AKS agentpool label first, else control-plane or default', () => {
  const aks = node('a', { labels: { 'kubernetes.azure.com/agentpool': 'system', agentpool: 'other' } });
  assert.equal(poolOf(aks), 'system');
  assert.equal(
    poolOf(node('b', { labels: { 'node-role.kubernetes.io/control-plane': '' } })),
    'control-plane',
  );
  assert.equal(poolOf(node('c')), 'default');
});

test('the OS comes from the kubernetes.io/os label, else the kubelet-reported OS; Linux otherwise', () => {
  assert.equal(osOf(node('w', { labels: { 'kubernetes.io/os': 'windows' } })), 'windows');
  assert.equal(osOf(node('w2', { operatingSystem: 'windows' })), 'windows');
  assert.equal(
    osOf(node('l', { labels: { 'kubernetes.io/os': 'linux' }, operatingSystem: 'windows' })),
    'linux',
  );
  assert.equal(osOf(node('none')), 'linux');
});

test('Ready only on a Ready condition that is True; control plane by either role label', () => {
  assert.equal(isReady(node('r', { ready: 'True' })), true);
  assert.equal(isReady(node('f', { ready: 'False' })), false);
  assert.equal(isReady(node('u', { ready: 'Unknown' })), false);
  assert.equal(isReady(node('none')), false);
  assert.equal(isControlPlane(node('cp', { labels: { 'node-role.kubernetes.io/control-plane': '' } })), true);
  assert.equal(isControlPlane(node('old', { labels: { 'node-role.kubernetes.io/master': '' } })), true);
  assert.equal(isControlPlane(node('worker', { labels: { 'node-role.kubernetes.io/worker': '' } })), false);
});

test("kured's in-progress mark is evidence; its most-recent mark only when newer than the last boot", () => {
  const inProgress = node('p', { annotations: { [KURED_IN_PROGRESS]: '2026-11-30T01:00:00Z' } });
  assert.deepEqual(kuredEvidence(inProgress), [
    { source: 'kured', detail: 'kured marked a reboot in progress at 2026-11-30T01:00:00Z' },
  ]);
  const before = { [KURED_MOST_RECENT]: '2026-11-30T01:00:00Z' };
  const stale = node('s', { annotations: before, ready: 'True', readySince: '2026-11-30T02:00:00Z' });
  assert.deepEqual(kuredEvidence(stale), [], 'rebooted since kured saw the sentinel');
  const fresh = node('f', { annotations: before, ready: 'True', readySince: '2026-11-29T23:00:00Z' });
  assert.match(kuredEvidence(fresh)[0]!.detail, /after the node last became Ready/);
  const garbled = node('g', { annotations: { [KURED_MOST_RECENT]: 'yesterday' }, ready: 'True' });
  assert.deepEqual(kuredEvidence(garbled), [], 'an unreadable time is no evidence');
});

test('the kured detector reports only the considered nodes that carry evidence', async () => {
  const marked = node('marked', { annotations: { [KURED_IN_PROGRESS]: '2026-11-30T01:00:00Z' } });
  const candidates: Candidates = { considered: [marked, node('clean')], probe: [] };
  const found = await kuredDetector.detect(candidates, () => undefined);
  assert.deepEqual([...(found.evidence?.keys() ?? [])], ['marked']);
  assert.equal(found.probes, undefined, 'kured reads annotations only: no probe outcomes');
});
