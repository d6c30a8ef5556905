// The pure parts of the safety edges: the cluster-health verdict, budgets that never allow or
// overlap, the control-plane order, and credential checks made before any request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { judgeHealth } from '../../src/execute/health.ts';
import { budgetRisks, neverAllows } from '../../src/plan/preflight.ts';
import { candidateNodes, order } from '../../src/plan/build.ts';
import { ANN } from '../../src/kube/labels.ts';
import { explainApiError, isTransient, loadKubeConfig } from '../../src/kube/client.ts';
import type { Plan, PlanNode } from '../../src/plan/types.ts';

function node(
  name: string,
  o: { ready?: boolean; cordoned?: boolean; annotations?: Record<string, string> } = {},
): k8s.V1Node {
  return {
    metadata: { name, annotations: o.annotations ?? {} },
    spec: o.cordoned ? { unschedulable: true } : {},
    status: {
      conditions: [
        {
          type: 'Ready',
          status: o.ready === false ? 'False' : 'True',
          reason: o.ready === false ? 'KubeletNotReady' : 'KubeletReady',
          lastTransitionTime: new Date('2026-12-02T10:00:00Z'),
        },
      ],
    },
  };
}
const plan = (unavailable?: string[]) => ({ unavailable }) as unknown as Plan;

test('health: a node this plan rebooted that is NotReady fails; another newly unavailable one pauses; one unavailable at plan time does not', () => {
  const input = { plan: plan(['old-down']), planId: 'p1', current: 'c', rebootedThisRun: new Set(['r1']) };
  assert.deepEqual(
    judgeHealth([node('c', { ready: false }), node('old-down', { ready: false }), node('x')], input),
    { ok: true },
  );
  const failed = judgeHealth([node('r1', { ready: false }), node('y', { ready: false })], input);
  assert.equal(failed.ok, false);
  assert.equal(failed.state, 'failed');
  assert.match(
    failed.reason,
    /^r1, rebooted by this plan, is NotReady since 2026-12-02T10:00:00.000Z \(KubeletNotReady\): it is unstable/,
  );
  // Done by an earlier run of the same plan: its record says so.
  const earlier = judgeHealth(
    [node('d', { ready: false, annotations: { [ANN.planId]: 'p1', [ANN.step]: 'done' } })],
    input,
  );
  assert.equal(!earlier.ok && earlier.state, 'failed');
  const otherPlan = judgeHealth(
    [node('d', { ready: false, annotations: { [ANN.planId]: 'p0', [ANN.step]: 'done' } })],
    input,
  );
  assert.equal(!otherPlan.ok && otherPlan.state, 'paused');
  const paused = judgeHealth([node('y', { ready: false }), node('z', { cordoned: true })], input);
  assert.equal(!paused.ok && paused.state, 'paused');
  assert.match(
    !paused.ok ? paused.reason : '',
    /^cluster health: y is NotReady since .*; z is cordoned \(not so when the plan was made\)/,
  );
  // A plan made before the field existed: every other unavailable node pauses.
  assert.equal(judgeHealth([node('q', { cordoned: true })], { ...input, plan: plan() }).ok, false);
});

const pdb = (
  name: string,
  spec: Partial<k8s.V1PodDisruptionBudgetSpec>,
  status: Partial<k8s.V1PodDisruptionBudgetStatus> = {},
): k8s.V1PodDisruptionBudget => ({
  metadata: { name, namespace: 'shop' },
  spec: { selector: { matchLabels: { app: 'a' } }, ...spec },
  status: { currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0, expectedPods: 2, ...status },
});
const pod = (name: string): k8s.V1Pod => ({ metadata: { name, namespace: 'shop', labels: { app: 'a' } } });

test('budgets that can never allow a disruption, and ones that only do not now', () => {
  assert.equal(neverAllows(pdb('x', { maxUnavailable: 0 })), 'maxUnavailable 0');
  assert.equal(neverAllows(pdb('x', { maxUnavailable: '0%' })), 'maxUnavailable 0%');
  assert.equal(neverAllows(pdb('x', { minAvailable: '100%' })), 'minAvailable 100%');
  assert.equal(neverAllows(pdb('x', { minAvailable: 2 })), 'minAvailable 2 with 2 pods');
  assert.equal(neverAllows(pdb('x', { minAvailable: 2 }, { expectedPods: 3 })), undefined);
  assert.equal(neverAllows(pdb('x', { maxUnavailable: 1 })), undefined);
  assert.equal(neverAllows(pdb('x', { minAvailable: '50%' })), undefined);
  const [never] = budgetRisks([pod('a-1')], [pdb('x', { maxUnavailable: 0 })]);
  assert.equal(never?.blocking, true);
  assert.match(
    never.detail,
    /^PodDisruptionBudget shop\/x can never allow a disruption \(maxUnavailable 0\).*Fix: set maxUnavailable to 1/,
  );
  const [later] = budgetRisks([pod('a-1')], [pdb('x', { minAvailable: 2 }, { expectedPods: 3 })]);
  assert.equal(later?.blocking, false);
});

test('overlapping budgets: one blocking risk per set of budgets, naming them', () => {
  const risks = budgetRisks(
    [pod('a-1'), pod('a-2')],
    [
      pdb('one', { maxUnavailable: 1 }, { disruptionsAllowed: 5 }),
      pdb('two', { maxUnavailable: 1 }, { disruptionsAllowed: 5 }),
    ],
  );
  assert.deepEqual(
    risks.map((r) => [r.kind, r.blocking]),
    [['pdb-overlap', true]],
  );
  assert.match(
    risks[0]!.detail,
    /^shop\/a-1 is selected by more than one PodDisruptionBudget \(shop\/one, shop\/two\)/,
  );
});

test('control-plane nodes are the last reboots in every order', () => {
  const n = (name: string, pool: string, role?: 'control-plane') =>
    ({ name, pool, update: 'reboot', risks: [], ...(role ? { role } : {}) }) as unknown as Omit<
      PlanNode,
      'order'
    >;
  const nodes = [n('a-cp', 'control-plane', 'control-plane'), n('b', 'default'), n('c', 'default')];
  for (const how of ['pool', 'risk', 'name'] as const)
    assert.deepEqual(
      order(nodes, how).map((x) => x.name),
      ['b', 'c', 'a-cp'],
      how,
    );
});

test("the README's node-selector excludes control-plane nodes", () => {
  const n = (name: string, labels: Record<string, string>) =>
    ({
      metadata: { name, labels },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    }) as k8s.V1Node;
  const snap = { nodes: [n('cp-1', { 'node-role.kubernetes.io/control-plane': '' }), n('w-1', {})] } as never;
  const { considered } = candidateNodes(snap, { nodeSelector: '!node-role.kubernetes.io/control-plane' });
  assert.deepEqual(
    considered.map((x) => x.metadata!.name),
    ['w-1'],
  );
});

test('credentials: a missing exec plugin and a plugin given by a path are named before any request', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rp-cred-'));
  const kc = (user: string) => {
    const f = join(dir, `k${Math.random()}.yaml`);
    writeFileSync(
      f,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\nusers:\n- name: u\n  user:\n${user}contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n`,
    );
    return f;
  };
  assert.throws(
    () => loadKubeConfig({ kubeconfig: kc('    exec:\n      command: no-such-plugin-rp\n') }),
    /^UserError: user "u" in .* gets its credentials from the exec plugin "no-such-plugin-rp", which is not on PATH; install it or put it on PATH$/,
  );
  assert.throws(
    () => loadKubeConfig({ kubeconfig: kc('    exec:\n      command: /opt/none/kubelogin\n') }),
    /exec plugin "\/opt\/none\/kubelogin", which does not exist or is not executable/,
  );
  // One that exists (sh is on every PATH) passes.
  assert.ok(loadKubeConfig({ kubeconfig: kc('    exec:\n      command: sh\n') }));
  // A spawn failure later (the plugin removed mid-run) is named too.
  const spawnError = Object.assign(new Error('spawn kubelogin ENOENT'), {
    code: 'ENOENT',
    syscall: 'spawn kubelogin',
    path: 'kubelogin',
  });
  assert.equal(
    explainApiError(spawnError, 'get', 'nodes').message,
    'the exec credential plugin "kubelogin" is not on PATH (while trying to get nodes)',
  );
});

test('transient API errors: unreachable, 5xx and 429 are; 4xx answers are not', () => {
  const refused = Object.assign(new Error('fetch failed'), {
    cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  });
  assert.ok(isTransient(refused));
  assert.ok(isTransient(explainApiError(refused, 'get', 'nodes/x', 'https://k')));
  assert.ok(!isTransient(new Error('nope')));
});
