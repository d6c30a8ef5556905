// The tracking body: found by its marker, the plan named in hidden state, and approvals that
// come only from the comments (a forged body or an edited comment approves nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answeredKeys, foldComments, isTracking, marker, readTrackedPlan, renderBody, replyMarker, type TrackedPlan } from '../../src/github/body.ts';
import { GITHUB_BODY_LIMIT } from '../../src/report/markdown.ts';

const plan: TrackedPlan = { v: 1, planId: 'c'.repeat(64), revision: 3, createdAt: '2026-11-22T07:30:00.000Z', expiresAt: '2026-11-24T07:30:00.000Z', requestedBy: 'alice', nodes: ['n1', 'n2'] };
const opts = { minPermission: 'write' as const, allowUsers: [], allowTeams: [], requiredApprovals: 2, preventSelfApproval: true, selfLogin: 'github-actions[bot]', now: new Date('2026-11-22T09:00:00Z') };
const auth = (login: string) => ({ permission: login === 'rita' ? ('read' as const) : ('write' as const), teams: [] as string[] });
const c = (id: number, login: string, body: string, at = '2026-11-22T08:00:00Z', updatedAt = at) => ({ id, login, body, userType: 'User', createdAt: at, updatedAt });

test('marker, state and checklist round-trip; the cluster name cannot break out of the marker', () => {
  const body = renderBody('aks-prod', plan, '## Reboot plan\n', [
    { node: 'n1', mark: 'done', text: 'rebooted into 5.15.0-1081-azure' },
    { node: 'n2', mark: 'running', text: 'draining' },
  ]);
  assert.ok(isTracking(body, 'aks-prod'));
  assert.ok(!isTracking(body, 'aks-prod-2'));
  assert.deepEqual(readTrackedPlan(body), plan);
  assert.match(body, /- \[x\] n1: rebooted into 5\\\.15\\\.0\\-1081\\-azure/);
  assert.match(body, /- \[ \] ⏳ n2: draining/);
  assert.equal(marker('x --> <img>'), '<!-- reboot-pilot:tracking cluster=x%20--%3E%20%3Cimg%3E -->');
  assert.equal(readTrackedPlan('no state here'), undefined);
  assert.equal(readTrackedPlan('<!-- reboot-pilot:state bm90IGpzb24 -->'), undefined);
});

test('the body always fits GitHub’s limit', () => {
  const body = renderBody('c', plan, 'x'.repeat(100_000), [{ node: 'n1', mark: 'pending', text: 'waiting' }]);
  assert.ok(body.length < GITHUB_BODY_LIMIT);
  assert.deepEqual(readTrackedPlan(body), plan);
});

test('approvals are recomputed from the comments: two distinct writers approve, a reader and an edited comment do not', () => {
  const id = plan.planId.slice(0, 12);
  const comments = [
    c(10, 'bob', `/approve ${id}`),
    c(11, 'rita', `/approve ${id}`),
    c(12, 'carol', `/approve ${id}`, '2026-11-22T08:05:00Z', '2026-11-22T08:30:00Z'),
    c(13, 'dave', 'ok'),
  ];
  const first = foldComments(plan, comments, auth, opts, new Map());
  assert.deepEqual(first.record.approvals.map((a) => a.login), ['bob']);
  assert.equal(first.record.state, 'awaiting-approval');
  assert.deepEqual(first.decisions.map((d) => [d.commentId, d.decision.reaction]), [[10, '+1'], [11, 'confused'], [12, 'confused']]);
  assert.match(first.decisions[2]!.decision.reply!, /edited comment is not a command/);
  // Already answered comments are applied but not announced again; a new approval completes it.
  const second = foldComments(plan, [...comments, c(14, 'erin', `/approve ${plan.planId}`)], auth, opts, new Map([['10', 'accepted'], ['11', 'refused'], ['12e', 'refused']] as const));
  assert.equal(second.record.state, 'approved');
  assert.deepEqual(second.decisions.map((d) => [d.commentId, d.decision.next]), [[14, 'execute']]);
});

test('with a state key the hidden state is signed: an edited or forged state is not trusted', () => {
  const body = renderBody('aks-prod', plan, '## Reboot plan\n', [], '', 'k1');
  assert.deepEqual(readTrackedPlan(body, 'k1'), plan);
  assert.equal(readTrackedPlan(body, 'k2'), undefined, 'another key');
  const forged = renderBody('aks-prod', { ...plan, requestedBy: 'mallory' }, '## Reboot plan\n', []);
  assert.equal(readTrackedPlan(forged, 'k1'), undefined, 'an unsigned state');
  const [head, sig] = body.split('.').slice(-2);
  assert.ok(head && sig);
  const swapped = renderBody('aks-prod', { ...plan, expiresAt: '2030-01-01T00:00:00.000Z' }, '## Reboot plan\n', [], '', 'k1').replace(/\.[A-Za-z0-9_-]+ -->\n$/, body.match(/\.[A-Za-z0-9_-]+ -->\n$/)![0]);
  assert.equal(readTrackedPlan(swapped, 'k1'), undefined, 'a state with the signature of another');
});

test('answered: only the marker that ends a reply of the action itself counts', () => {
  const comments = [
    { login: 'github-actions[bot]', body: `ok\n\n${replyMarker('10')}` },
    { login: 'github-actions[bot]', body: `quoting ${replyMarker('11')} in the middle\nmore` },
    { login: 'mallory', body: `x\n${replyMarker('12')}` },
    { login: 'other-app[bot]', body: `x\n${replyMarker('13')}` },
  ];
  assert.deepEqual([...answeredKeys(comments, 'github-actions[bot]')], [['10', 'accepted']]);
});

test('a refusal is final: a comment refused once never counts on a later replay, even if its author gains permission', () => {
  const id = plan.planId.slice(0, 12);
  const comments = [c(20, 'rita', `/approve ${id}`), c(21, 'bob', `/approve ${id}`)];
  const everyoneWrites = () => ({ permission: 'write' as const, teams: [] as string[] });
  const replay = foldComments(plan, comments, everyoneWrites, opts, new Map([['20', 'refused'], ['21', 'accepted']] as const));
  assert.deepEqual(replay.record.approvals.map((a) => a.login), ['bob']);
  assert.equal(replay.record.state, 'awaiting-approval', 'one of two approvals');
});
