// The GitHub workflow end to end: the bundled action under Node 24, started as the runner starts
// it (INPUT_* variables, GITHUB_EVENT_PATH), against the OpenAPI-validated fake GitHub and the real
// control plane. Scheduled plan -> tracking issue or PR -> comments -> serial reboots -> closed.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { ANN } from '../../src/kube/labels.ts';
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
let kernelSerial = 1200;
const USERS = [
  { login: 'alice', role: 'admin' as const },
  { login: 'bob', role: 'write' as const },
  { login: 'carol', role: 'maintain' as const },
  { login: 'rita', role: 'read' as const },
  { login: 'tina', role: 'triage' as const },
  { login: 'renovate[bot]', role: 'write' as const, type: 'Bot' as const },
];

/** A newer kernel and the sentinel on these nodes, as unattended-upgrades leaves them. */
function pend(...names: string[]): string {
  return markRebootRequired(sim, `5.15.0-${++kernelSerial}-azure`, names);
}

/** Runs the bundled action the way the runner does: node24, INPUT_* variables, an event file. */
function action(event: ActionEvent, inputs: Record<string, string> = {}) {
  return runAction({
    dir,
    event,
    env: { GITHUB_API_URL: api, GITHUB_REPOSITORY: 'contoso/platform', GITHUB_RUN_ID: '4242' },
    inputs: {
      kubeconfig,
      ...FAST_ACTION_INPUTS,
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k.toLowerCase(), v])),
    },
  });
}

const schedule = (inputs: Record<string, string> = {}) => action({ name: 'schedule' }, inputs);
const dispatch = (actor: string, inputs: Record<string, string> = {}) =>
  action({ name: 'workflow_dispatch', actor }, inputs);

/** A user comments; the issue_comment event it triggers runs the action. */
async function say(number: number, login: string, body: string, inputs: Record<string, string> = {}) {
  const c = gh.comment(number, login, body);
  const run = await action(
    {
      name: 'issue_comment',
      actor: login,
      payload: { action: 'created', issue: { number }, comment: { id: c.id, body, user: { login } } },
    },
    inputs,
  );
  return { comment: c as { id: number }, run };
}

/** The action's reply to a comment (found by its hidden marker), and the reactions the comment got. */
function answerTo(id: number, edited = false) {
  const marker = new RegExp(`<!-- reboot-pilot:reply-to ${id}${edited ? 'e' : ''}( refused)? -->`);
  const reply = [...gh.comments.values()].find((c) => marker.test(c.body as string));
  return {
    reply: reply?.body as string | undefined,
    reactions: gh.reactions.filter((r) => r.subject === id).map((r) => r.content),
  };
}

async function annotated(): Promise<string[]> {
  return (await core.listNode()).items
    .filter((n) => Object.keys(n.metadata?.annotations ?? {}).some((k) => k === ANN.step))
    .map((n) => n.metadata!.name!);
}

const ledger = () => readLedger(core);
const idOf = async (_number: number) => (await ledger()).plan!.id;

before(async () => {
  ({
    cluster,
    simulator: sim,
    core,
    directory: dir,
    kubeconfig,
  } = await startActionTestBed({
    directoryPrefix: 'rp-github-',
    cluster: { users: [{ name: 'reboot-pilot' }] },
    rebootDownMs: 1000,
    nodeCount: nodes.length,
  }));
});

after(async () => {
  await stopAll(sim, cluster);
});

beforeEach(async () => {
  // Each test is a new repository: its cluster starts without a record.
  ({ github: gh, api, watcher } = await startRepository({ cluster, core }, USERS));
});

afterEach(async () => {
  const v = watcher.stop();
  await gh.stop();
  await restoreNodes(sim, core, nodes);
  assert.deepEqual(v, [], 'invariants held throughout');
  assert.ok(watcher.maxUnavailable <= 1);
  assert.deepEqual(gh.violations, [], "every request and response matched GitHub's description");
});

test('issue mode: spoofed and invalid commands are refused with a reply and execute nothing; two approvals run the plan; the issue closes with results', async () => {
  const kernel = pend(nodes[0]!, nodes[1]!);
  const reboots = sim.reboots.length;
  const approvals = { 'REQUIRED-APPROVALS': '2', 'PREVENT-SELF-APPROVAL': 'true' };
  const first = await dispatch('alice', approvals);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal(first.outputs['issue-number'], '1');
  assert.equal(first.outputs.state, 'awaiting-approval');
  const id = await idOf(1);
  const short = id.slice(0, 12);
  assert.equal(first.outputs['plan-id'], id);

  // The spoofing matrix: one comment, one run each.
  const refused: [string, string, RegExp][] = [
    ['rita', `/approve ${short}`, /needs write permission on this repository; you have read/],
    ['tina', `/approve ${short}`, /needs write permission on this repository; you have triage/],
    ['renovate[bot]', `/approve ${short}`, /bots cannot give commands/],
    ['bob', '/approve 000000000000', /does not name the current plan/],
    ['bob', `LGTM\n/approve ${short}`, /commands must be on the first line/],
    ['alice', `/approve ${short}`, /you asked for this plan, and self-approval is not allowed here/],
    ['bob', '/aprove', /unknown command \/aprove/],
  ];
  for (const [login, body, why] of refused) {
    const { comment, run } = await say(1, login, body, approvals);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const a = answerTo(comment.id);
    assert.match(a.reply ?? '(no reply)', why, `${login}: ${body}`);
    assert.deepEqual(a.reactions, ['confused']);
    assert.equal(run.outputs.state, 'awaiting-approval');
  }
  // An edited comment: harmless when written, an approval after the edit.
  const { comment: edited } = await say(1, 'bob', 'looks good to me', approvals);
  const c = gh.comments.get(edited.id)!;
  c.body = `/approve ${short}`;
  c.updated_at = new Date(Date.now() + 1000).toISOString();
  const afterEdit = await action(
    {
      name: 'issue_comment',
      actor: 'bob',
      payload: { action: 'edited', issue: { number: 1 }, comment: { id: edited.id } },
    },
    approvals,
  );
  assert.equal(afterEdit.outputs.state, 'awaiting-approval');
  assert.match(answerTo(edited.id, true).reply ?? '', /an edited comment is not a command/);

  // One approval of two, then /replan: the approval is discarded with the old revision.
  const one = await say(1, 'bob', `/approve ${short}`, approvals);
  assert.match(answerTo(one.comment.id).reply!, /Approval 1 of 2 counted/);
  assert.deepEqual(answerTo(one.comment.id).reactions, ['+1']);
  const replan = await say(1, 'tina', '/replan', approvals);
  assert.match(
    answerTo(replan.comment.id).reply!,
    /needs write permission/,
    'a triager cannot replan either',
  );
  const replan2 = await say(1, 'carol', '/replan', approvals);
  assert.equal(replan2.run.code, 0, replan2.run.stderr);
  assert.equal((await ledger()).plan!.revision, 2);
  assert.equal(await idOf(1), id, 'the cluster did not change: the same plan, a new revision');
  const late = await say(1, 'alice', `/approve ${short}`, approvals);
  assert.match(
    answerTo(late.comment.id).reply!,
    /Approval 1 of 2 counted/,
    "bob's approval of revision 1 does not count",
  );

  assert.deepEqual(await annotated(), [], 'nothing executed');
  assert.equal(sim.reboots.length, reboots);

  // /status from anyone; then the second approval executes the plan in the same job.
  const status = await say(1, 'rita', '/status', approvals);
  assert.match(
    answerTo(status.comment.id).reply!,
    /revision 2.*awaiting-approval; approvals 1 of 2 \(@alice\)/,
  );
  const go = await say(1, 'bob', `/approve ${short}`, approvals);
  assert.equal(go.run.code, 0, go.run.stdout + go.run.stderr);
  assert.deepEqual(answerTo(go.comment.id).reactions, ['rocket']);
  assert.equal(go.run.outputs.state, 'completed');
  assert.equal(go.run.outputs['nodes-rebooted'], '2');
  assert.equal(go.run.outputs['nodes-failed'], '0');
  assert.equal(go.run.outputs['nodes-pending'], '0');
  const mine = sim.reboots.slice(reboots);
  assert.deepEqual(mine.map((r) => r.node).sort(), [nodes[0], nodes[1]]);
  for (const n of [nodes[0]!, nodes[1]!])
    assert.equal((await sim.node(n)).status!.nodeInfo!.kernelVersion, kernel);

  const issue = gh.issues.get(1)!;
  assert.equal(issue.state, 'closed');
  assert.equal(issue.state_reason, 'completed');
  assert.match(
    issue.body as string,
    new RegExp(
      `- \\[x\\] ${nodes[0]!.replace(/-/g, '\\\\-')}: 5\\\\\\.15\\\\\\.0\\\\-1079\\\\-azure → ${kernel.replace(/[.-]/g, (x) => `\\\\\\${x}`)}`,
    ),
  );
  const final = [...gh.comments.values()]
    .map((x) => x.body as string)
    .find((b) => b.includes('All done. Closing.'))!;
  assert.match(
    final,
    /\| Node \| Outcome \| Kernel \(or node image\) before → after \| Drain \| Reboot \| Workloads \| Soak \| Total \|/,
  );
  assert.equal(final.match(/\| rebooted \|/g)?.length, 2);
  // The estimate against the actual time, and the timeline, in the final comment and the job summary.
  const timeline = new RegExp(
    `<details open><summary>Timeline</summary>\n\n\`\`\`mermaid\ngantt\n[^]*section ${nodes[0]}\n    drain :done, `,
  );
  assert.match(final, /\nEstimated \d+ min; the nodes took \d+ s \(/);
  assert.match(final, timeline);
  const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
  assert.match(summary, /All|rebooted/);
  assert.match(summary, timeline);
  if (process.env.RP_DUMP)
    writeFileSync(
      process.env.RP_DUMP,
      [
        issue.body,
        ...[...gh.comments.values()].map(
          (x) => `--- ${(x.user as { login: string }).login}: ${String(x.body)}`,
        ),
      ].join('\n'),
    );
  assert.doesNotMatch(
    go.run.stdout.replace(/^::add-mask::.*$/m, ''),
    /ghs_not-a-real-token|BEGIN CERTIFICATE/,
  );
});

test('PR mode: the plan is committed to a branch and reviewed in a pull request; /skip, then an approval; the result is committed and the PR merged', async () => {
  const kernel = pend(nodes[1]!, nodes[2]!);
  const pr = { TRACKING: 'pull-request' };
  const first = await schedule(pr);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const number = Number(first.outputs['pr-number']);
  assert.ok(number > 0, first.stdout);
  const planJson = gh.file('reboot-pilot/aks-prod', 'reboot-pilot/aks-prod/plan.json');
  assert.ok(planJson, 'plan.json committed on the plan branch');
  const id = (JSON.parse(planJson) as { planId: string }).planId;
  assert.equal(first.outputs['plan-id'], id);
  assert.ok(gh.file('reboot-pilot/aks-prod', 'reboot-pilot/aks-prod/report.md')!.includes(id));
  // Unchanged cluster: refreshed, no new commit.
  const commits = gh.commitMessages('reboot-pilot/aks-prod').length;
  const again = await schedule(pr);
  assert.match(again.stdout, /tracking pull-request: refreshed #/);
  assert.equal(gh.commitMessages('reboot-pilot/aks-prod').length, commits);

  const skip = await say(number, 'bob', `/skip ${nodes[2]}`, pr);
  assert.match(answerTo(skip.comment.id).reply!, /will be skipped/);
  const go = await say(number, 'carol', `/approve ${id.slice(0, 16)}`, pr);
  assert.equal(go.run.code, 0, go.run.stdout + go.run.stderr);
  assert.equal(go.run.outputs.state, 'completed');
  assert.equal(go.run.outputs['nodes-rebooted'], '1');
  assert.equal((await sim.node(nodes[1]!)).status!.nodeInfo!.kernelVersion, kernel);
  assert.notEqual(
    (await sim.node(nodes[2]!)).status!.nodeInfo!.kernelVersion,
    kernel,
    'the skipped node was not rebooted',
  );
  assert.ok(gh.isMerged(number), 'merged after completion');
  const result = gh.file('main', 'reboot-pilot/aks-prod/result.md')!;
  assert.match(result, /plan `[0-9a-f]{12}` on aks\\-prod completed/);
  assert.match(result, /skipped: skipped by a \/skip comment/);
  assert.ok(gh.file('main', 'reboot-pilot/aks-prod/plan.json'), 'the plan is in the base branch history');
});

test('/pause during an execution stops it between nodes; /resume continues in a new job; the summary counts both runs', async () => {
  pend(nodes[0]!, nodes[2]!);
  const first = await schedule();
  const number = Number(first.outputs['issue-number']);
  const id = await idOf(number);
  const reboots = sim.reboots.length;
  const c = gh.comment(number, 'bob', `/approve ${id.slice(0, 12)}`) as { id: number };
  const running = action({
    name: 'issue_comment',
    actor: 'bob',
    payload: { action: 'created', issue: { number }, comment: { id: c.id } },
  });
  // While the first node reboots, carol pauses; the running job reads it before the next node.
  await waitUntil('first reboot', () => sim.reboots.length > reboots, 60_000);
  const pause = gh.comment(number, 'carol', '/pause') as { id: number };
  const paused = await running;
  assert.equal(paused.code, 0, paused.stdout + paused.stderr);
  assert.equal(paused.outputs.state, 'paused');
  assert.equal(paused.outputs['nodes-rebooted'], '1');
  assert.equal(paused.outputs['nodes-pending'], '1');
  assert.equal(sim.reboots.length, reboots + 1);
  assert.match(answerTo(pause.id).reply!, /Paused by @carol/);
  assert.match(
    [...gh.comments.values()].pop()!.body as string,
    /Paused: paused by a \/pause comment; \/resume continues\. Comment `\/resume` to continue\./,
  );
  assert.equal(gh.issues.get(number)!.state, 'open');
  // A schedule meanwhile leaves a paused execution alone (no new revision, no reboot).
  const sched = await schedule();
  assert.equal(sched.outputs.state, 'paused');
  assert.equal((await ledger()).plan!.revision, 1);

  const resume = await say(number, 'alice', '/resume');
  assert.equal(resume.run.code, 0, resume.run.stdout + resume.run.stderr);
  assert.equal(resume.run.outputs.state, 'completed');
  assert.equal(resume.run.outputs['nodes-rebooted'], '2');
  assert.equal(sim.reboots.length, reboots + 2, 'each node rebooted exactly once over both runs');
  const final = [...gh.comments.values()]
    .map((x) => x.body as string)
    .find((b) => b.includes('All done. Closing.'))!;
  assert.equal(
    final.match(/\| rebooted \|/g)?.length,
    2,
    'the first run’s node keeps its result and timings',
  );
  assert.equal(gh.issues.get(number)!.state, 'closed');
});

test('a gate pauses an approved plan (max-nodes 1 per run); the next scheduled run continues it without a new approval', async () => {
  pend(nodes[1]!, nodes[2]!);
  const gate = { 'MAX-NODES': '1' };
  const first = await schedule(gate);
  const number = Number(first.outputs['issue-number']);
  const reboots = sim.reboots.length;
  const go = await say(number, 'bob', `/approve ${(await idOf(number)).slice(0, 12)}`, gate);
  assert.equal(go.run.outputs.state, 'paused');
  assert.equal(go.run.outputs['nodes-rebooted'], '1');
  assert.match(
    [...gh.comments.values()].pop()!.body as string,
    /Paused: max\\-nodes reached.*The next scheduled run continues, or comment `\/resume`\./s,
  );
  const next = await schedule(gate);
  assert.equal(next.code, 0, next.stdout + next.stderr);
  assert.equal(next.outputs.state, 'completed');
  assert.equal(next.outputs['nodes-rebooted'], '2');
  assert.equal(sim.reboots.length, reboots + 2);
  assert.equal(gh.issues.get(number)!.state, 'closed');
  assert.equal((await ledger()).plan!.revision, 1, 'the approved revision was executed, not replaced');
});

test('environment gate: a decide job only answers, the schedule does not execute a never-started approved plan, an execute job does; a look-alike issue by a user is ignored', async () => {
  pend(nodes[0]!);
  const first = await schedule();
  const number = Number(first.outputs['issue-number']);
  const id = await idOf(number);
  // bob copies the tracking body into an issue of his own: it is not the action's, so it is ignored.
  const fake = gh.openIssue(
    'bob',
    'Reboot plan for aks-prod: 1 node(s)',
    gh.issues.get(number)!.body as string,
    ['reboot-pilot'],
  ) as { number: number };
  const onFake = await say(fake.number, 'bob', `/approve ${id.slice(0, 12)}`);
  assert.equal(onFake.run.outputs.state, 'ignored');
  assert.equal(answerTo(onFake.comment.id).reply, undefined);

  const reboots = sim.reboots.length;
  const approval = await say(number, 'bob', `/approve ${id.slice(0, 12)}`, { MODE: 'decide' });
  assert.equal(approval.run.outputs.state, 'approved');
  assert.equal(sim.reboots.length, reboots, 'decide never executes');
  // The execute job waits for its environment reviewer; the morning schedule must not run the plan meanwhile.
  const morning = await schedule();
  assert.equal(morning.code, 0, morning.stdout + morning.stderr);
  assert.equal(morning.outputs.state, 'approved');
  assert.equal(sim.reboots.length, reboots, 'the schedule does not bypass the environment gate');
  assert.equal((await ledger()).plan!.revision, 1);
  // The reviewer approves the environment: the execute job (same event) runs the plan.
  const exec = await action(
    {
      name: 'issue_comment',
      actor: 'bob',
      payload: { action: 'created', issue: { number }, comment: { id: approval.comment.id } },
    },
    { MODE: 'execute' },
  );
  assert.equal(exec.code, 0, exec.stdout + exec.stderr);
  assert.equal(exec.outputs.state, 'completed');
  assert.equal(sim.reboots.length, reboots + 1);
});

test('PR mode: a file pushed to the plan branch that is not Reboot Pilot’s stops the merge; the result is still committed', async () => {
  pend(nodes[2]!);
  const pr = { TRACKING: 'pull-request' };
  const first = await schedule(pr);
  const number = Number(first.outputs['pr-number']);
  gh.push(
    'reboot-pilot/aks-prod',
    { '.github/workflows/deploy.yml': 'on: push\n' },
    'sneak a workflow in',
    'bob',
  );
  const id = (
    JSON.parse(gh.file('reboot-pilot/aks-prod', 'reboot-pilot/aks-prod/plan.json')!) as { planId: string }
  ).planId;
  const go = await say(number, 'carol', `/approve ${id.slice(0, 12)}`, pr);
  assert.equal(go.run.outputs.state, 'completed', go.run.stdout + go.run.stderr);
  assert.ok(!gh.isMerged(number), 'not merged');
  assert.match(
    [...gh.comments.values()].pop()!.body as string,
    /Not merging: the branch also changes `\.github\/workflows\/deploy\.yml`/,
  );
  assert.ok(
    gh.file('reboot-pilot/aks-prod', 'reboot-pilot/aks-prod/result.md'),
    'the result is committed on the branch',
  );
  assert.equal(gh.file('main', '.github/workflows/deploy.yml'), undefined);
});

test('an approved plan that cannot start (another execution holds the lock) says so and leaves the plan as it was', async () => {
  pend(nodes[1]!);
  const first = await schedule();
  const number = Number(first.outputs['issue-number']);
  const before = await ledger();
  // Another executor holds the run lock (a Lease in the product's namespace), renewed just now.
  const coord = cluster.kc.makeApiClient(k8s.CoordinationV1Api);
  // Earlier runs leave the released Lease object behind: start from none.
  await coord
    .deleteNamespacedLease({ name: 'reboot-pilot', namespace: 'kube-system' })
    .catch(() => undefined);
  await coord.createNamespacedLease({
    namespace: 'kube-system',
    body: {
      metadata: { name: 'reboot-pilot' },
      spec: {
        holderIdentity: 'github:contoso/platform/actions/runs/1/attempts/1#other',
        leaseDurationSeconds: 300,
        renewTime: new k8s.V1MicroTime(new Date()),
        acquireTime: new k8s.V1MicroTime(new Date()),
      },
    },
  });
  try {
    const reboots = sim.reboots.length;
    const go = await say(number, 'bob', `/approve ${before.plan!.id.slice(0, 12)}`);
    assert.notEqual(go.run.code, 0, 'the job fails: the plan could not run');
    assert.match(
      [...gh.comments.values()].pop()!.body as string,
      /could not run: another execution holds the lock kube\\-system\/reboot\\-pilot/,
    );
    assert.equal(sim.reboots.length, reboots);
    const after = await ledger();
    assert.equal(after.state, 'approved');
    assert.equal(after.run, undefined, 'the ledger still records the plan as approved-not-started');
  } finally {
    await coord.deleteNamespacedLease({ name: 'reboot-pilot', namespace: 'kube-system' });
  }
});
