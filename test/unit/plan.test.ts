// The pure parts of planning: selectors, settings, drain filters, ordering, canonical JSON and
// plan IDs, and the report's escaping and size limit (no cluster needed for these).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { parseSelector, matches, fromLabelSelector } from '../../src/kube/selector.ts';
import { parsePlanSettings } from '../../src/settings.ts';
import { classifyPod } from '../../src/drain/filters.ts';
import { compareKernelVersions, newestKernel } from '../../src/detect/kernel.ts';
import { canonicalJson, planId } from '../../src/plan/canonical.ts';
import { buildPlan, order } from '../../src/plan/build.ts';
import { quantity, workloadOf } from '../../src/plan/preflight.ts';
import { fixesFromProbe, higherUrgency } from '../../src/plan/fixes.ts';
import { renderMarkdown, GITHUB_BODY_LIMIT } from '../../src/report/markdown.ts';
import { renderTerminal } from '../../src/report/terminal.ts';
import { md } from '../../src/report/escape.ts';
import { parseGitHubSettings } from '../../src/github/settings.ts';
import { modeFor } from '../../src/main.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';
import type { ProbeOutcome } from '../../src/detect/probe.ts';
import { probePod } from '../../src/detect/probe.ts';
import type { ProbeResult } from '../../src/detect/probe-script.ts';
import { PLAN_OPTIONS, snapshotNode } from '../harness/plan-nodes.ts';

test('label selectors: string and object forms, as Kubernetes matches them', () => {
  const s = parseSelector('app=web, tier!=db,env in (prod, staging),!legacy,team');
  assert.ok(matches(s, { app: 'web', env: 'prod', team: 'x' }));
  assert.ok(!matches(s, { app: 'web', env: 'prod', team: 'x', legacy: '1' }));
  assert.ok(!matches(s, { app: 'web', env: 'dev', team: 'x' }));
  assert.ok(!matches(s, { app: 'web', env: 'prod', tier: 'db', team: 'x' }));
  assert.ok(matches(parseSelector(''), {}));
  assert.throws(
    () => parseSelector('a in (b', 'blocking pod selector'),
    /invalid blocking pod selector "a in \(b"/,
  );
  assert.throws(() => parseSelector('app=web;rm -rf'), /invalid label selector "app=web;rm -rf"/);
  assert.throws(() => parseSelector('app=we b'), /cannot parse/);
  assert.throws(() => parseSelector('app=-web'), /"-web" is not a valid label value/);
  const obj = fromLabelSelector({
    matchLabels: { app: 'x' },
    matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }],
  });
  assert.ok(matches(obj, { app: 'x' }));
  assert.ok(!matches(obj, { app: 'x', tier: 'db' }));
  assert.ok(matches(fromLabelSelector({}), { anything: 'goes' }), 'an empty PDB selector selects every pod');
});

test('settings: defaults, validation naming every bad setting', () => {
  const d = parsePlanSettings({});
  assert.equal(d.sentinel, '/var/run/reboot-required');
  assert.deepEqual(d.detectors, ['probe', 'kured']);
  assert.equal(d.probeParallelism, 10);
  assert.equal(d.force, false);
  assert.equal(parsePlanSettings({ force: 'TRUE' }).force, true);
  assert.throws(
    () =>
      parsePlanSettings({
        force: 'maybe',
        detectors: 'probe,smoke',
        sentinel: 'relative/path',
        namespace: 'Bad_NS',
      }),
    (e: Error) =>
      /force must be true or false, not "maybe"/.test(e.message) &&
      /unknown: smoke/.test(e.message) &&
      /sentinel must be an absolute path/.test(e.message) &&
      /namespace must be a namespace name/.test(e.message),
  );
});

/** Plain data (the models are classes only in their types) merged over a ReplicaSet's pod. */
interface PodParts {
  metadata?: Partial<k8s.V1ObjectMeta>;
  spec?: Partial<k8s.V1PodSpec>;
  status?: Partial<k8s.V1PodStatus>;
}

const pod = (name: string, extra: PodParts = {}): k8s.V1Pod => ({
  metadata: {
    name,
    namespace: 'ns',
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f7c', uid: 'u', controller: true },
    ],
    labels: { 'pod-template-hash': '5d8f7c' },
    ...extra.metadata,
  },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }], ...extra.spec },
  status: { phase: 'Running', ...extra.status },
});

test("drain filters follow kubectl drain's order and options", () => {
  const opts = { deleteEmptyDirData: false, force: false };
  assert.deepEqual(classifyPod(pod('a'), opts), { action: 'evict', warnings: [] });
  assert.deepEqual(
    classifyPod(
      pod('ds', {
        metadata: {
          name: 'ds',
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: 'u', controller: true },
          ],
        },
      }),
      opts,
    ),
    { action: 'skip', reason: 'daemonset' },
  );
  assert.deepEqual(
    classifyPod(
      pod('m', {
        metadata: { name: 'm', annotations: { 'kubernetes.io/config.mirror': 'x' }, ownerReferences: [] },
      }),
      opts,
    ),
    { action: 'skip', reason: 'mirror' },
  );
  const bare = pod('bare', { metadata: { name: 'bare', ownerReferences: [] } });
  assert.deepEqual(classifyPod(bare, opts), { action: 'refuse', reason: 'unreplicated' });
  assert.deepEqual(classifyPod(bare, { ...opts, force: true }), {
    action: 'evict',
    warnings: ['unreplicated'],
  });
  const ed = pod('ed', { spec: { containers: [{ name: 'c' }], volumes: [{ name: 'v', emptyDir: {} }] } });
  assert.deepEqual(classifyPod(ed, opts), { action: 'refuse', reason: 'emptydir' });
  assert.deepEqual(classifyPod(ed, { ...opts, deleteEmptyDirData: true }), {
    action: 'evict',
    warnings: ['emptydir'],
  });
  assert.deepEqual(
    classifyPod(
      pod('done', { status: { phase: 'Succeeded' }, metadata: { name: 'done', ownerReferences: [] } }),
      opts,
    ),
    { action: 'evict', warnings: ['finished'] },
  );
  assert.deepEqual(workloadOf(pod('a')), { kind: 'Deployment', name: 'web' });
  assert.deepEqual(workloadOf(bare), { kind: 'Pod', name: 'bare' });
});

test('kernel versions compare numerically field by field; quantities parse', () => {
  assert.ok(compareKernelVersions('5.15.0-1081-azure', '5.15.0-988-azure') > 0);
  assert.ok(compareKernelVersions('6.6.78.1-1.azl3', '6.6.64.2-9.azl3') > 0);
  assert.equal(compareKernelVersions('6.8.0-45-generic', '6.8.0-45-generic'), 0);
  assert.equal(
    newestKernel(['5.15.0-1079-azure', '5.15.0-1081-azure', '5.15.0-999-azure']),
    '5.15.0-1081-azure',
  );
  assert.equal(quantity('3860m'), 3.86);
  assert.equal(quantity('12Gi'), 12 * 2 ** 30);
  assert.equal(quantity('1.5'), 1.5);
});

test('canonical JSON sorts keys at every depth and drops undefined', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined, x: 2 }], c: null } }),
    '{"a":{"c":null,"d":[3,{"x":2,"z":1}]},"b":1}',
  );
});

// A synthetic snapshot for the pure planner.
function node(
  name: string,
  pool: string,
  extra: { kernel?: string; unschedulable?: boolean; os?: string } = {},
): k8s.V1Node {
  return snapshotNode({
    name,
    pool,
    providerID: `azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/${pool}/virtualMachines/0`,
    osImage: 'Ubuntu 22.04.5 LTS',
    kernelVersion: extra.kernel,
    operatingSystem: extra.os,
    unschedulable: extra.unschedulable,
  });
}
const pending = (bootId: string): ProbeOutcome => ({
  ok: true,
  result: {
    v: 1,
    bootId,
    btime: 1,
    os: { id: 'ubuntu', version: '22.04' },
    sentinel: { present: true, mtime: 1_763_710_000, via: 'file', path: '/var/run/reboot-required' },
    pkgs: { total: 1, items: ['linux-image-5.15.0-1081-azure'] },
    kernels: { total: 2, items: ['5.15.0-1079-azure', '5.15.0-1081-azure'] },
    history: { source: 'dpkg', total: 0, items: [] },
  },
});
const opts = { ...PLAN_OPTIONS, order: 'pool' as const };
function snapshot(nodes: k8s.V1Node[], pods: k8s.V1Pod[] = []): ClusterSnapshot {
  return {
    identity: { uid: 'uid-1', name: 'c', server: 'https://k', provider: 'aks' },
    nodes,
    pods,
    pdbs: [],
  };
}

test('the plan ID is stable for the same input and changes with a kernel; pod churn inside a workload does not change it', () => {
  const nodes = [node('a', 'p1'), node('b', 'p1')];
  const probes = new Map([
    ['a', pending('boot-a')],
    ['b', pending('boot-b')],
  ]);
  const p1 = buildPlan(
    snapshot(nodes, [pod('web-5d8f7c-aaaaa', { spec: { nodeName: 'a', containers: [] } })]),
    { probes, evidence: new Map() },
    opts,
  );
  const p2 = buildPlan(
    snapshot(nodes, [pod('web-5d8f7c-bbbbb', { spec: { nodeName: 'a', containers: [] } })]),
    { probes, evidence: new Map() },
    opts,
  );
  assert.equal(planId(p1), planId(p2));
  assert.match(planId(p1), /^[0-9a-f]{64}$/);
  const p3 = buildPlan(
    snapshot([node('a', 'p1', { kernel: '5.15.0-1080-azure' }), node('b', 'p1')], []),
    { probes, evidence: new Map() },
    opts,
  );
  assert.notEqual(planId(p3), planId(p1));
});

test('order: pool by pool with the less risky pool first, fewest risks first inside, node image upgrades last', () => {
  const mk = (
    name: string,
    pool: string,
    risks: number,
    update: 'reboot' | 'node-image-upgrade' = 'reboot',
  ) => ({
    name,
    pool,
    update,
    risks: Array.from({ length: risks }, () => ({
      kind: 'already-cordoned' as const,
      blocking: false,
      detail: '',
    })),
  });
  const nodes = [
    mk('z1', 'zeta', 0),
    mk('a2', 'alpha', 2),
    mk('a1', 'alpha', 1),
    mk('w', 'win', 0, 'node-image-upgrade'),
    mk('z2', 'zeta', 1),
  ] as unknown as Parameters<typeof order>[0];
  assert.deepEqual(
    order(nodes, 'pool').map((n) => n.name),
    ['z1', 'z2', 'a1', 'a2', 'w'],
  );
  assert.deepEqual(
    order(nodes, 'risk').map((n) => n.name),
    ['z1', 'a1', 'z2', 'a2', 'w'],
  );
  assert.deepEqual(
    order(nodes, 'name').map((n) => n.name),
    ['a1', 'a2', 'z1', 'z2', 'w'],
  );
  assert.deepEqual(
    order(nodes, 'pool').map((n) => n.order),
    [1, 2, 3, 4, 5],
  );
});

test('a probe that saw another boot than the API reports makes the node unknown', () => {
  const p = buildPlan(
    snapshot([node('a', 'p1')]),
    { probes: new Map([['a', pending('some-other-boot')]]), evidence: new Map() },
    opts,
  );
  assert.equal(p.nodes.length, 0);
  assert.match(p.unknown[0]!.reason, /rebooted during inspection/);
});

test('cluster-provided strings are escaped in Markdown and stripped of control characters in terminals', () => {
  const evil = 'x](https://evil.example)<img src=x onerror=alert(1)>@octo-org/admins|`\u001b[31m';
  const nodes = [node(evil, '**pool**')];
  const p = buildPlan(
    snapshot(nodes),
    { probes: new Map([[evil, pending(`boot-${evil}`)]]), evidence: new Map() },
    opts,
  );
  const m = renderMarkdown(p, planId(p), { now: new Date() });
  assert.ok(!m.includes('](https://evil'), 'no link syntax survives');
  assert.ok(!m.includes('<img'), 'no HTML survives');
  assert.ok(!m.includes('@octo-org'), 'no mention survives');
  assert.ok(!m.includes('\u001b'));
  assert.ok(m.includes(md(evil)));
  assert.ok(m.includes('\\*\\*pool\\*\\*'));
  const t = renderTerminal(p, planId(p), new Date());
  assert.ok(!t.includes('\u001b'), 'no terminal escape sequences');
});

test('the Markdown report stays under GitHub’s body limit for 5,000 nodes and says where the rest is', () => {
  const nodes: k8s.V1Node[] = [];
  const probes = new Map<string, ProbeOutcome>();
  for (let i = 0; i < 5000; i++) {
    const name = `aks-pool${i % 7}-12345678-vmss${i.toString(36).padStart(6, '0')}`;
    nodes.push(node(name, `pool${i % 7}`, { kernel: `5.15.0-${1000 + (i % 50)}-azure` }));
    probes.set(name, pending(`boot-${name}`));
  }
  const p = buildPlan(snapshot(nodes), { probes, evidence: new Map() }, opts);
  assert.equal(p.nodes.length, 5000);
  const m = renderMarkdown(p, planId(p), { now: new Date(), fullReportRef: 'report.md' });
  assert.ok(m.length <= 60_000 && m.length < GITHUB_BODY_LIMIT, `${m.length} characters`);
  assert.match(m, /in the full report \(report\\\.md\)/);
  assert.ok(m.includes(`Plan ID: \`${planId(p)}\``), 'the plan ID is always shown');
  const full = renderMarkdown(p, planId(p), { now: new Date(), limit: Number.MAX_SAFE_INTEGER });
  assert.ok(full.length > GITHUB_BODY_LIMIT, 'the full report is the untruncated one');
});

test('probe pods are unprivileged, read-only, pinned and tolerate every taint', () => {
  const p = probePod('node-a', 'abcd1234', 3, {
    image: 'busybox',
    namespace: 'kube-system',
    parallelism: 1,
    timeoutSeconds: 60,
    sentinel: '/var/run/reboot-required',
    sentinelCommand: '',
  });
  const c = p.spec!.containers[0]!;
  assert.equal(p.spec!.nodeName, 'node-a');
  assert.deepEqual(p.spec!.tolerations, [{ operator: 'Exists' }]);
  assert.equal(p.spec!.hostPID, undefined);
  assert.equal(p.spec!.hostNetwork, undefined);
  assert.equal(c.securityContext!.privileged, false);
  assert.equal(c.securityContext!.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext!.capabilities, { drop: ['ALL'] });
  assert.ok(c.volumeMounts!.every((m) => m.readOnly === true));
  assert.deepEqual(
    p.spec!.volumes!.map((v) => v.hostPath!.path),
    ['/var/run', '/boot', '/var/log', '/etc/os-release', '/usr/share/doc'],
  );
  assert.equal(p.spec!.activeDeadlineSeconds, 60);
  assert.equal(p.spec!.automountServiceAccountToken, false);
});

test('the mode comes from the event unless the mode input overrides it', () => {
  assert.equal(modeFor('schedule', 'auto'), 'plan');
  assert.equal(modeFor('workflow_dispatch', 'auto'), 'plan');
  assert.equal(modeFor('issue_comment', 'auto'), 'execute');
  assert.equal(modeFor('issue_comment', 'decide'), 'decide');
  assert.equal(modeFor('push', 'plan'), 'plan');
  assert.throws(() => modeFor('push', 'auto'), /push event does not imply a mode/);
  assert.throws(() => parseGitHubSettings({ mode: 'apply' }), /invalid settings: mode: /);
  assert.throws(
    () => parseGitHubSettings({ 'required-approvals': '0', 'allow-teams': 'platform' }),
    /allow-teams: "platform" is not a valid entry; required-approvals must be a whole number from 1 to 10, not "0"/,
  );
  assert.deepEqual(parseGitHubSettings({ 'allow-users': 'alice, bob carol' }).allowUsers, [
    'alice',
    'bob',
    'carol',
  ]);
});

test('urgencies rank as Debian ranks them; empty and unknown words rank lowest', () => {
  assert.equal(higherUrgency('low', 'high'), 'high');
  assert.equal(higherUrgency('high', 'medium'), 'high');
  assert.equal(higherUrgency('emergency', 'critical'), 'critical');
  assert.equal(higherUrgency('', 'low'), 'low');
  assert.equal(higherUrgency('medium', ''), 'medium');
  assert.equal(higherUrgency('medium', 'urgent-ish'), 'medium');
});

test("what a reboot fixes, from the probe's changelog reading: full CVE IDs, package by package", () => {
  const probe: ProbeResult = {
    v: 1,
    bootId: 'b',
    btime: 1,
    os: { id: 'debian', version: '12' },
    sentinel: { present: true, mtime: 0, via: 'file', path: '/var/run/reboot-required' },
    pkgs: { total: 3, items: ['linux-image-amd64', 'libc6', 'openssl'] },
    kernels: { total: 0, items: [] },
    history: { total: 0, items: [], source: 'none' },
  };
  assert.equal(fixesFromProbe(undefined), undefined);
  assert.equal(fixesFromProbe(probe), undefined, 'a probe older than the changelog reading');
  const fixes = fixesFromProbe({
    ...probe,
    fixes: {
      cves: { total: 7, items: ['2026-1234', '2025-99999'] },
      pkgs: {
        total: 4,
        items: [
          {
            p: 'linux-image-amd64',
            doc: true,
            entries: 3,
            urgency: 'medium',
            from: '6.1.1',
            to: '6.1.2',
            cves: 5,
          },
          { p: 'libc6', doc: false },
          { p: 'openssl', doc: true, entries: 1, urgency: 'high', from: '-', to: '3.0.2', cves: 2 },
          { p: 'tzdata', doc: true, entries: 1, urgency: '-', from: '-', to: '-', cves: 0 },
        ],
      },
    },
  });
  assert.deepEqual(fixes, {
    cveTotal: 7,
    cves: ['CVE-2026-1234', 'CVE-2025-99999'],
    urgency: 'high',
    packagesTotal: 4,
    packages: [
      {
        name: 'linux-image-amd64',
        changelog: true,
        entries: 3,
        cves: 5,
        urgency: 'medium',
        from: '6.1.1',
        to: '6.1.2',
      },
      { name: 'libc6', changelog: false },
      { name: 'openssl', changelog: true, entries: 1, cves: 2, urgency: 'high', from: '', to: '3.0.2' },
      { name: 'tzdata', changelog: true, entries: 1, cves: 0, urgency: '', from: '', to: '' },
    ],
  });
});
