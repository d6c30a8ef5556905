// The review's findings (issue 12), each end to end: the bundled action started as the runner
// starts it, the OpenAPI-validated fake GitHub, the real control plane. Each shows that nothing
// executed and that a reply or notice says why. The record is the ledger ConfigMap in the cluster.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../harness/controlplane.ts';
import { type NodeSimulator, waitUntil } from '../harness/simulator.ts';
import type { InvariantWatcher } from '../harness/invariants.ts';
import {
  markRebootRequired,
  readLedger,
  restoreNodes,
  startActionTestBed,
  startRepository,
} from '../harness/fixtures.ts';
import type { FakeGitHub } from '../harness/github.ts';
import { sha256 } from '../../src/ledger/record.ts';
import { FAST_ACTION_INPUTS, runAction, type ActionEvent } from '../harness/action.ts';
import { stopAll } from '../harness/teardown.ts';

let cluster: Cluster;
let sim: NodeSimulator;
let core: k8s.CoreV1Api;
let dir: string;
let kubeconfig: string;
let watcher: InvariantWatcher;
let gh: FakeGitHub;
let api: string;

const nodes = [0, 1, 2].map((i) => `aks-nodepool1-12345678-vmss00000${i}`);
let kernelSerial = 1300;
const USERS = [
  { login: 'alice', role: 'admin' as const },
  { login: 'bob', role: 'write' as const },
  { login: 'carol', role: 'maintain' as const },
  { login: 'rita', role: 'read' as const },
  { login: 'tina', role: 'triage' as const },
  { login: 'mona', role: 'maintain' as const, customRole: 'release-manager' },
  { login: 'tom', role: 'triage' as const, customRole: 'incident-triager' },
];

function pend(...names: string[]): string {
  return markRebootRequired(sim, `5.15.0-${++kernelSerial}-azure`, names);
}

function action(event: ActionEvent, inputs: Record<string, string> = {}, signal?: AbortSignal) {
  return runAction({
    dir,
    event,
    env: { GITHUB_API_URL: api, GITHUB_REPOSITORY: 'contoso/platform', GITHUB_RUN_ID: '4343' },
    inputs: {
      kubeconfig,
      ...FAST_ACTION_INPUTS,
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k.toLowerCase(), v])),
    },
    ...(signal ? { signal } : {}),
  });
}

const schedule = (inputs: Record<string, string> = {}) => action({ name: 'schedule' }, inputs);
const commentEvent = (
  number: number,
  id: number,
  login: string,
  kind: 'created' | 'edited' = 'created',
): ActionEvent => ({
  name: 'issue_comment',
  actor: login,
  payload: { action: kind, issue: { number }, comment: { id, user: { login } } },
});

async function say(number: number, login: string, body: string, inputs: Record<string, string> = {}) {
  const c = gh.comment(number, login, body) as { id: number };
  return { comment: c, run: await action(commentEvent(number, c.id, login), inputs) };
}

/** The author edits a comment in the web UI; the edited event runs the action. */
async function edit(number: number, id: number, body: string, inputs: Record<string, string> = {}) {
  const c = gh.comments.get(id)!;
  c.body = body;
  c.updated_at = new Date(Date.now() + 1000).toISOString();
  return action(commentEvent(number, id, (c.user as { login: string }).login, 'edited'), inputs);
}

function answerTo(id: number, edited = false) {
  const marker = new RegExp(`<!-- reboot-pilot:reply-to ${id}${edited ? 'e' : ''}( refused)? -->`);
  const reply = [...gh.comments.values()].find((c) => marker.test(c.body as string));
  return {
    reply: reply?.body as string | undefined,
    reactions: gh.reactions.filter((r) => r.subject === id).map((r) => r.content),
  };
}

const ledger = () => readLedger(core);

/** The hidden state earlier versions kept in the body, with `change` applied (what a write user can paste). */
function forgedBody(
  body: string,
  change: (state: Record<string, unknown>) => void,
  base: Record<string, unknown>,
): string {
  const m = body.match(/<!-- reboot-pilot:state ([A-Za-z0-9_-]+) -->/);
  const state = m
    ? (JSON.parse(gunzipSync(Buffer.from(m[1]!, 'base64url')).toString()) as Record<string, unknown>)
    : { ...base };
  change(state);
  const encoded = `<!-- reboot-pilot:state ${gzipSync(JSON.stringify(state)).toString('base64url')} -->`;
  return m ? body.replace(m[0], encoded) : `${body}\n${encoded}\n`;
}

/** What a forged state names, built from what the plan run wrote (plan.json under RUNNER_TEMP). */
function stateBase(planId: string): Record<string, unknown> {
  const out = join(dir, 'reboot-pilot');
  const sub = readdirSync(out).find((d) => planId.startsWith(d));
  const planFile = readFileSync(join(out, sub!, 'plan.json'), 'utf8');
  const plan = JSON.parse(planFile) as { plan: { nodes: { name: string }[] } };
  const now = new Date();
  return {
    v: 1,
    planId,
    revision: 1,
    createdAt: new Date(now.getTime() - 3_600_000).toISOString(),
    expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
    nodes: plan.plan.nodes.map((n) => n.name),
    planFile,
  };
}

const body = (n: number) => gh.issues.get(n)!.body as string;

before(async () => {
  ({
    cluster,
    simulator: sim,
    core,
    directory: dir,
    kubeconfig,
  } = await startActionTestBed({
    directoryPrefix: 'rp-ledger-',
    cluster: { users: [{ name: 'reboot-pilot' }, { name: 'planner' }] },
    rebootDownMs: 1000,
    nodeCount: nodes.length,
  }));
});

after(async () => {
  await stopAll(sim, cluster);
});

beforeEach(async () => {
  ({ github: gh, api, watcher } = await startRepository({ cluster, core }, USERS));
});

afterEach(async () => {
  const v = watcher.stop();
  await gh.stop();
  await restoreNodes(sim, core, nodes);
  assert.deepEqual(v, [], 'invariants held throughout');
  assert.deepEqual(gh.violations, [], "every request and response matched GitHub's description");
});

/** An approved plan whose execution max-nodes paused after one node: what most findings start from. */
async function gatePaused(a: string, b: string) {
  pend(a, b);
  const first = await schedule({ 'MAX-NODES': '1' });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const number = Number(first.outputs['issue-number']);
  const id = first.outputs['plan-id']!;
  const go = await say(number, 'bob', `/approve ${id.slice(0, 12)}`, { 'MAX-NODES': '1' });
  assert.equal(go.run.outputs.state, 'paused', go.run.stdout + go.run.stderr);
  return { number, id, reboots: sim.reboots.length, approval: go.comment.id };
}

test('finding 1: an edited /pause, a forged "refused" reply marker and a deleted /pause all keep the plan paused; the edit is answered', async () => {
  const { number, reboots } = await gatePaused(nodes[0]!, nodes[1]!);
  const pause = await say(number, 'carol', '/pause');
  assert.match(answerTo(pause.comment.id).reply!, /Paused by @carol/);
  const edited = await edit(number, pause.comment.id, '/pause until the release is out');
  assert.equal(edited.code, 0, edited.stdout + edited.stderr);
  let next = await schedule({ 'MAX-NODES': '1' });
  assert.equal(sim.reboots.length, reboots, 'nothing executed after the edit');
  assert.equal(next.outputs.state, 'paused');
  assert.match(
    answerTo(pause.comment.id, true).reply ?? '(no reply)',
    /the \/pause it gave when written still holds/,
  );
  // A workflow of a write user posts as github-actions[bot] a reply claiming the pause was refused.
  gh.comment(
    number,
    'github-actions[bot]',
    `Refused.\n\n<!-- reboot-pilot:reply-to ${pause.comment.id} refused -->`,
  );
  next = await schedule({ 'MAX-NODES': '1' });
  assert.equal(sim.reboots.length, reboots, 'nothing executed after a forged marker');
  assert.equal(next.outputs.state, 'paused');
  gh.comments.delete(pause.comment.id);
  next = await schedule({ 'MAX-NODES': '1' });
  assert.equal(sim.reboots.length, reboots, 'nothing executed after the deletion');
  assert.equal(next.outputs.state, 'paused');
  const status = await say(number, 'rita', '/status');
  assert.equal(sim.reboots.length, reboots);
  assert.match(answerTo(status.comment.id).reply!, /: paused; .*\/pause by @carol \(comment \d+\) holds/);
  const l = await ledger();
  assert.equal(l.state, 'paused');
  assert.deepEqual(
    l.commands.map((c) => [c.kind, c.login, c.commentId, c.bodySha256]),
    [['pause', 'carol', pause.comment.id, sha256('/pause')]],
  );
});

test('finding 1: an edited /skip keeps its node skipped; an edited /reject keeps the plan rejected', async () => {
  pend(nodes[1]!, nodes[2]!);
  const first = await schedule();
  const number = Number(first.outputs['issue-number']);
  const id = first.outputs['plan-id']!;
  const skip = await say(number, 'bob', `/skip ${nodes[2]}`);
  assert.match(answerTo(skip.comment.id).reply!, /will be skipped/);
  await edit(number, skip.comment.id, `/skip ${nodes[2]} (database migration tonight)`);
  assert.match(
    answerTo(skip.comment.id, true).reply ?? '(no reply)',
    /the \/skip it gave when written still holds/,
  );
  const reboots = sim.reboots.length;
  const go = await say(number, 'carol', `/approve ${id.slice(0, 12)}`);
  assert.equal(go.run.outputs.state, 'completed', go.run.stdout + go.run.stderr);
  assert.deepEqual(
    sim.reboots.slice(reboots).map((r) => r.node),
    [nodes[1]],
    'the skipped node was not rebooted',
  );

  pend(nodes[0]!);
  const second = await schedule();
  const n2 = Number(second.outputs['issue-number']);
  const id2 = second.outputs['plan-id']!;
  const reject = await say(n2, 'bob', '/reject not this week', { MODE: 'decide' });
  assert.equal(reject.run.outputs.state, 'rejected');
  await edit(n2, reject.comment.id, 'never mind', { MODE: 'decide' });
  const before2 = sim.reboots.length;
  const approve = await say(n2, 'carol', `/approve ${id2.slice(0, 12)}`);
  assert.equal(sim.reboots.length, before2, 'nothing executed');
  assert.match(answerTo(approve.comment.id).reply!, /the plan is rejected, not awaiting approval/);
  assert.equal(approve.run.outputs.state, 'rejected');
  assert.equal(gh.issues.get(n2)!.state, 'closed');
});

test('finding 2: an older body pasted back after a /cancel (deleted since) on the reopened issue brings nothing back', async () => {
  const { number, id, reboots } = await gatePaused(nodes[0]!, nodes[2]!);
  const old = body(number);
  const cancel = await say(number, 'carol', '/cancel');
  assert.equal(cancel.run.outputs.state, 'cancelled');
  assert.equal(gh.issues.get(number)!.state, 'closed');
  gh.byHand(number, 'tina', 'open');
  gh.comments.delete(cancel.comment.id);
  gh.issues.get(number)!.body = forgedBody(
    old,
    (s) =>
      (s.run = {
        state: 'paused',
        at: new Date().toISOString(),
        message: 'max-nodes reached',
        nodes: [],
        leftCordoned: [],
      }),
    stateBase(id),
  );
  const status = await say(number, 'rita', '/status');
  assert.equal(sim.reboots.length, reboots, 'a /status on the replayed body executes nothing');
  assert.match(
    answerTo(status.comment.id).reply ?? '(no reply)',
    /was closed \(cancelled, by reboot-pilot at .*\); Reboot Pilot's record keeps it closed/,
  );
  const next = await schedule();
  assert.equal(sim.reboots.length, reboots, 'nor does the schedule');
  assert.equal(next.outputs['issue-number'], String(number + 1), 'the schedule plans in a new issue');
  assert.equal(next.outputs.state, 'awaiting-approval');
});

test('finding 3: a paused run added to the body by a write user (the environment reviewer declined) is not executed by the schedule', async () => {
  pend(nodes[1]!);
  const first = await schedule();
  const number = Number(first.outputs['issue-number']);
  const id = first.outputs['plan-id']!;
  const approval = await say(number, 'bob', `/approve ${id.slice(0, 12)}`, { MODE: 'decide' });
  assert.equal(approval.run.outputs.state, 'approved');
  // The execute job waits for the environment; the reviewer declines it. bob edits the body instead.
  gh.issues.get(number)!.body = forgedBody(
    body(number),
    (s) =>
      (s.run = {
        state: 'paused',
        at: new Date().toISOString(),
        message: 'max-nodes reached',
        nodes: [],
        leftCordoned: [],
      }),
    stateBase(id),
  );
  const reboots = sim.reboots.length;
  const next = await schedule();
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.equal(sim.reboots.length, reboots, 'nothing executed');
  assert.match(
    next.stdout,
    /approved but its execution never started: a schedule only continues an execution the ledger shows under way/,
  );
  assert.equal((await ledger()).run, undefined);
});

test('finding 4: approvals are bound to the revision and the full plan ID: a body naming another plan with the same 12 digits changes nothing; expect-plan-id is the full ID', async () => {
  pend(nodes[2]!);
  const first = await schedule();
  const number = Number(first.outputs['issue-number']);
  const id = first.outputs['plan-id']!;
  const approval = await say(number, 'bob', `/approve ${id.slice(0, 12)}`, { MODE: 'decide' });
  assert.equal(approval.run.outputs.state, 'approved');
  const other = id.slice(0, 12) + (id[12] === 'f' ? 'e' : 'f').repeat(52);
  gh.issues.get(number)!.body = forgedBody(body(number), (s) => (s.planId = other), {
    ...stateBase(id),
    planId: other,
  });
  const status = await say(number, 'rita', '/status', { MODE: 'decide' });
  assert.equal(status.run.outputs['plan-id'], id, 'the ledger names the plan, not the body');
  const reboots = sim.reboots.length;
  const prefix = await action(commentEvent(number, approval.comment.id, 'bob'), {
    MODE: 'execute',
    'EXPECT-PLAN-ID': id.slice(0, 12),
  });
  assert.equal(prefix.outputs.state, 'ignored');
  assert.match(
    readFileSync(join(dir, 'summary.md'), 'utf8'),
    /expect-plan-id must be the full 64-digit plan ID/,
  );
  const wrong = await action(commentEvent(number, approval.comment.id, 'bob'), {
    MODE: 'execute',
    'EXPECT-PLAN-ID': other,
  });
  assert.equal(wrong.outputs.state, 'ignored');
  assert.equal(sim.reboots.length, reboots, 'nothing executed');
  const right = await action(commentEvent(number, approval.comment.id, 'bob'), {
    MODE: 'execute',
    'EXPECT-PLAN-ID': id,
  });
  assert.equal(right.outputs.state, 'completed', right.stdout + right.stderr);
});

test('finding 5: a pod owner kind and other cluster strings are escaped: nothing hides the report, no mention pings', async () => {
  pend(nodes[1]!);
  await core.createNamespacedPod({
    namespace: 'shop',
    body: {
      metadata: {
        name: 'odd-owner',
        ownerReferences: [
          {
            apiVersion: 'evil.example/v1',
            kind: '<!-- @octocat',
            name: 'x',
            uid: '6f1c2a57-0000-4000-8000-000000000001',
            controller: true,
          },
        ],
      },
      spec: { nodeName: nodes[1]!, containers: [{ name: 'c', image: 'registry.example/app:1' }] },
    },
  });
  try {
    const first = await schedule();
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const text = body(Number(first.outputs['issue-number']));
    assert.match(text, /Evicts \d+ pods?: shop\/x \(&lt;\\!\\-\\- @\u2060octocat\)/);
    assert.doesNotMatch(text, /@octocat/, 'no mention without a word joiner');
    assert.equal(
      text.match(/<!--/g)!.length,
      (text.match(/<!-- reboot-pilot:[a-z/-]+( |\s-->)/g) ?? []).length,
      'every comment in the body is ours',
    );
  } finally {
    await core.deleteNamespacedPod({ name: 'odd-owner', namespace: 'shop', gracePeriodSeconds: 0 });
  }
});

test('finding 6: a /status and plain discussion on a plan paused by max-nodes execute nothing; /resume continues it', async () => {
  const { number, reboots } = await gatePaused(nodes[0]!, nodes[1]!);
  const status = await say(number, 'rita', '/status', { 'MAX-NODES': '1' });
  assert.equal(sim.reboots.length, reboots, 'a /status executes nothing');
  assert.match(answerTo(status.comment.id).reply!, /: approved; .*execution paused: max\\-nodes/);
  assert.match(status.run.stdout, /this comment did not start it/);
  await say(number, 'bob', 'thanks, looks good', { 'MAX-NODES': '1' });
  assert.equal(sim.reboots.length, reboots, 'a plain comment executes nothing');
  const resume = await say(number, 'bob', '/resume', { 'MAX-NODES': '1' });
  assert.equal(resume.run.outputs.state, 'completed', resume.run.stdout + resume.run.stderr);
  assert.equal(sim.reboots.length, reboots + 1);
});

test('finding 7: an issue closed by hand and reopened stays closed in the ledger; a command on it executes nothing and is answered', async () => {
  const { number, reboots } = await gatePaused(nodes[1]!, nodes[2]!);
  gh.byHand(number, 'tina', 'closed');
  gh.byHand(number, 'tina', 'open');
  const resume = await say(number, 'bob', '/resume');
  assert.equal(sim.reboots.length, reboots, 'nothing executed');
  assert.match(
    answerTo(resume.comment.id).reply ?? '(no reply)',
    /was closed \(closed by hand, by tina at .*\); Reboot Pilot's record keeps it closed, so nothing on it is executed, even if it was reopened/,
  );
  assert.deepEqual(answerTo(resume.comment.id).reactions, ['confused']);
  const l = await ledger();
  assert.equal(l.state, 'closed');
  assert.equal(l.item!.closed!.by, 'tina');
  assert.equal(l.run!.state, 'cancelled');
});

test('finding 8: approvers and commands are recorded in the ledger, result.json, the final comment and the PR merge commit', async () => {
  pend(nodes[0]!, nodes[2]!);
  const pr = { TRACKING: 'pull-request' };
  const first = await schedule(pr);
  const number = Number(first.outputs['pr-number']);
  const id = first.outputs['plan-id']!;
  const skip = await say(number, 'bob', `/skip ${nodes[2]}`, pr);
  const text = `/approve ${id}`;
  const go = await say(number, 'carol', text, pr);
  assert.equal(go.run.outputs.state, 'completed', go.run.stdout + go.run.stderr);
  const l = await ledger();
  const carol = gh.user('carol') as { id: number };
  assert.deepEqual(
    l.approvals.map((a) => [a.login, a.userId, a.commentId, a.bodySha256]),
    [['carol', carol.id, go.comment.id, sha256(text)]],
  );
  assert.deepEqual(
    l.commands.map((c) => [c.kind, c.login, c.node]),
    [['skip', 'bob', nodes[2]]],
  );
  const result = JSON.parse(gh.file('main', 'reboot-pilot/aks-prod/result.json')!) as {
    approvals: { login: string; commentId: number }[];
    commands: { kind: string; commentId: number }[];
  };
  assert.deepEqual(
    result.approvals.map((a) => [a.login, a.commentId]),
    [['carol', go.comment.id]],
  );
  assert.deepEqual(
    result.commands.map((c) => [c.kind, c.commentId]),
    [['skip', skip.comment.id]],
  );
  const final = [...gh.comments.values()]
    .map((x) => x.body as string)
    .find((b) => b.includes('All done. Closing.'))!;
  assert.match(final, new RegExp(`Approved by \`carol\` \\(user ${carol.id}, comment ${go.comment.id}, `));
  assert.ok(gh.isMerged(number));
  assert.match(
    gh.commitMessages('main').join('\n---\n'),
    new RegExp(
      `Approved by \`carol\` \\(user ${carol.id}, comment ${go.comment.id}[\\s\\S]*/skip ${nodes[2]}\` by \`bob\``,
    ),
  );
});

test('finding 11: look-alike commands (zero-width space, fullwidth solidus, Cyrillic) are answered and execute nothing', async () => {
  pend(nodes[2]!);
  const first = await schedule();
  const number = Number(first.outputs['issue-number']);
  const short = first.outputs['plan-id']!.slice(0, 12);
  const reboots = sim.reboots.length;
  for (const [text, code] of [
    [`\u200b/approve ${short}`, 'U+200B'],
    [`\uff0fapprove ${short}`, 'U+FF0F'],
    [`/\u0430pprove ${short}`, 'U+0430'],
  ] as const) {
    const { comment, run } = await say(number, 'bob', text);
    assert.equal(run.outputs.state, 'awaiting-approval');
    const a = answerTo(comment.id);
    assert.match(
      a.reply ?? '(no reply)',
      new RegExp(
        `looks like /approve but contains characters that only look like it \\(${code.replace('+', '\\+')}`,
      ),
    );
    assert.deepEqual(a.reactions, ['confused']);
  }
  assert.equal(sim.reboots.length, reboots);
});

test('finding 12: custom repository roles count as their base role (Maintain-based approves under min-permission maintain, Triage-based pauses under triage)', async () => {
  pend(nodes[0]!);
  const maintain = { 'MIN-PERMISSION': 'maintain' };
  const first = await schedule(maintain);
  const number = Number(first.outputs['issue-number']);
  const id = first.outputs['plan-id']!;
  const tom = await say(number, 'tom', `/approve ${id.slice(0, 12)}`, maintain);
  assert.match(
    answerTo(tom.comment.id).reply!,
    /needs maintain permission on this repository; you have triage/,
  );
  const mona = await say(number, 'mona', `/approve ${id.slice(0, 12)}`, maintain);
  assert.equal(mona.run.outputs.state, 'completed', mona.run.stdout + mona.run.stderr);

  pend(nodes[1]!);
  const triage = { 'MIN-PERMISSION': 'triage' };
  const second = await schedule(triage);
  const pause = await say(Number(second.outputs['issue-number']), 'tom', '/pause', triage);
  assert.match(answerTo(pause.comment.id).reply!, /Paused by @tom/);
});

test('kill -9 in the middle of the ledger writes of an execution: the next run reads the ledger and finishes; no node reboots twice', async () => {
  pend(nodes[0]!, nodes[1]!, nodes[2]!);
  const first = await schedule();
  const number = Number(first.outputs['issue-number']);
  const id = first.outputs['plan-id']!;
  const reboots = sim.reboots.length;
  const c = gh.comment(number, 'bob', `/approve ${id.slice(0, 12)}`) as { id: number };
  const kill = new AbortController();
  const running = action(commentEvent(number, c.id, 'bob'), {}, kill.signal);
  // The first node's end is written to the ledger, then the second node starts: kill while it writes.
  await waitUntil('a node recorded', async () => ((await ledger()).run?.nodes.length ?? 0) >= 1, 120_000);
  await waitUntil(
    'the second node under way',
    async () => sim.reboots.length >= reboots + 2 || ((await ledger()).run?.nodes.length ?? 0) >= 2,
    120_000,
  );
  kill.abort();
  const killed = await running;
  assert.notEqual(killed.code, 0);
  const l = await ledger();
  assert.equal(l.run!.state, 'executing', 'the ledger shows the execution under way');
  // The dead job's lock expires (lock-ttl 5 s); the schedule continues the execution the ledger shows.
  await new Promise((r) => setTimeout(r, 6000));
  const next = await schedule();
  assert.equal(next.outputs.state, 'completed', next.stdout + next.stderr);
  const mine = sim.reboots
    .slice(reboots)
    .map((r) => r.node)
    .sort();
  assert.deepEqual(mine, [...nodes].sort(), 'each node rebooted exactly once');
});

test('upgrade: a tracking issue from before the ledger is adopted with a new revision; its old approvals count for nothing', async () => {
  pend(nodes[0]!);
  // An issue the action opened before it kept a ledger: the marker, and an approval in the comments.
  const old = gh.openIssue(
    'github-actions[bot]',
    'Reboot plan for aks-prod: 1 node(s)',
    '<!-- reboot-pilot:tracking cluster=aks-prod -->\n\nold body\n',
    ['reboot-pilot'],
  ) as { number: number };
  gh.comment(old.number, 'bob', '/approve 0123456789ab');
  const reboots = sim.reboots.length;
  const first = await schedule();
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(first.outputs['issue-number'], String(old.number), 'the open issue is kept, not duplicated');
  assert.equal(first.outputs.state, 'awaiting-approval');
  assert.match(
    [...gh.comments.values()].pop()!.body as string,
    /Reboot Pilot now keeps its record in the cluster: plan `[0-9a-f]{12}` \(revision 1\)/,
  );
  const l = await ledger();
  assert.deepEqual([l.item!.number, l.plan!.revision, l.approvals.length], [old.number, 1, 0]);
  assert.equal(sim.reboots.length, reboots, 'nothing executed');
});

test('environment setup: a schedule whose identity can plan but not reboot leaves a paused execution alone and says why', async () => {
  // The plan workflow's credential: read the cluster, probe pods, the ledger; no cordon, no eviction.
  const rbac = cluster.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  const read = [
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
    { apiGroups: [''], resources: ['namespaces'], resourceNames: ['kube-system'], verbs: ['get'] },
  ];
  await rbac
    .createClusterRole({ body: { metadata: { name: 'test-planner' }, rules: read } })
    .catch(() => undefined);
  const subjects = [{ kind: 'User', name: 'planner', apiGroup: 'rbac.authorization.k8s.io' }];
  const clusterRole = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'test-planner' };
  await rbac
    .createClusterRoleBinding({
      body: { metadata: { name: 'test-planner' }, roleRef: clusterRole, subjects },
    })
    .catch(() => undefined);
  const podsRole = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reboot-pilot-pods' };
  await rbac
    .createNamespacedRoleBinding({
      namespace: 'kube-system',
      body: { metadata: { name: 'test-planner' }, roleRef: podsRole, subjects },
    })
    .catch(() => undefined);
  const planner = join(dir, 'planner.kubeconfig');
  writeFileSync(planner, cluster.kubeconfigFor('planner'));

  const { reboots } = await gatePaused(nodes[0]!, nodes[2]!);
  const next = await schedule({ 'MAX-NODES': '1', KUBECONFIG: planner });
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.equal(sim.reboots.length, reboots, 'nothing executed');
  assert.match(
    next.stdout,
    /this job's Kubernetes identity cannot patch \(cordon\) nodes, so it does not continue the execution: it is left to a job that can/,
  );
  assert.equal(next.outputs.state, 'executing', 'the state output hands the continuation over');
  assert.equal((await ledger()).run!.state, 'paused', 'the execution is left as it was, not failed');
  const full = await schedule({ 'MAX-NODES': '1' });
  assert.equal(full.outputs.state, 'completed', full.stdout + full.stderr);
  assert.equal(sim.reboots.length, reboots + 1);
});
