// Two jobs writing the ledger at once (issue 12): two action runs started at the same instant
// against the same cluster and the same fake GitHub, as two scheduled runs, or a schedule beside a
// comment run, or a re-run of a job, would be when no concurrency group keeps them apart. At plan
// time they must open ONE tracking item; at execution time exactly one executes, no node is
// rebooted twice, the other ends cleanly saying why, and the ledger stays consistent.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from '../harness/controlplane.ts';
import type { NodeSimulator } from '../harness/simulator.ts';
import type { InvariantWatcher } from '../harness/invariants.ts';
import {
  markRebootRequired,
  readLedger,
  restoreNodes,
  startActionTestBed,
  startRepository,
} from '../harness/fixtures.ts';
import type { FakeGitHub } from '../harness/github.ts';
import { loadKubeConfig, makeClients } from '../../src/kube/client.ts';
import { emptyLedger } from '../../src/ledger/record.ts';
import { LedgerStore } from '../../src/ledger/store.ts';
import { claimOpening, OPENING_TTL_MS, releaseOpening } from '../../src/ledger/claim.ts';
import { FAST_ACTION_INPUTS, runAction, type ActionEvent, type ActionRun } from '../harness/action.ts';

let cluster: Cluster;
let sim: NodeSimulator;
let core: k8s.CoreV1Api;
let dir: string;
let kubeconfig: string;
let watcher: InvariantWatcher;
let gh: FakeGitHub;
let api: string;

const nodes = [0, 1, 2].map((i) => `aks-nodepool1-12345678-vmss00000${i}`);
let kernelSerial = 1700;
const USERS = [
  { login: 'alice', role: 'admin' as const },
  { login: 'bob', role: 'write' as const },
];

function pend(...names: string[]): string {
  return markRebootRequired(sim, `5.15.0-${++kernelSerial}-azure`, names);
}

/** One job; `run` tells the two apart (GITHUB_RUN_ID), as two workflow runs are. */
function action(event: ActionEvent, run: string, inputs: Record<string, string> = {}) {
  return runAction({
    dir,
    event,
    env: { GITHUB_API_URL: api, GITHUB_REPOSITORY: 'contoso/platform', GITHUB_RUN_ID: run },
    inputs: {
      kubeconfig,
      ...FAST_ACTION_INPUTS,
      ...inputs,
    },
  });
}

const comment = (number: number, id: number, login: string): ActionEvent => ({
  name: 'issue_comment',
  actor: login,
  payload: { action: 'created', issue: { number }, comment: { id, user: { login } } },
});

const ledger = () => readLedger(core);

const openItems = (tracking: 'issue' | 'pull-request') =>
  [...gh.issues.values()].filter(
    (i) => i.state === 'open' && (tracking === 'pull-request') === gh.pulls.has(i.number as number),
  );
const log = (r: ActionRun) => r.stdout + r.stderr;

before(async () => {
  ({
    cluster,
    simulator: sim,
    core,
    directory: dir,
    kubeconfig,
  } = await startActionTestBed({
    directoryPrefix: 'rp-ledger-concurrency-',
    cluster: { users: [{ name: 'reboot-pilot' }] },
    rebootDownMs: 1000,
    nodeCount: nodes.length,
  }));
});

after(async () => {
  await sim.stop();
  await cluster.stop();
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

for (const tracking of ['issue', 'pull-request'] as const) {
  test(`${tracking}: two scheduled plan runs at the same instant open one tracking item, and the ledger names it`, async () => {
    pend(...nodes);
    const inputs = { tracking };
    // A first cluster (no ledger yet), then again after the first item was closed (the ledger exists).
    for (const round of [1, 2]) {
      const [a, b] = await Promise.all([
        action({ name: 'schedule' }, `${round}01`, inputs),
        action({ name: 'schedule' }, `${round}02`, inputs),
      ]);
      assert.equal(a.code, 0, log(a));
      assert.equal(b.code, 0, log(b));
      const open = openItems(tracking);
      assert.equal(open.length, 1, `round ${round}: one open tracking item, not ${open.length}`);
      const l = await ledger();
      assert.equal(l.item!.number, open[0]!.number, 'the ledger names the open item');
      assert.equal(l.item!.closed, undefined);
      const outcomes = [a, b].map((r) => /tracking [a-z-]+: (\w+)/.exec(r.stdout)?.[1]).sort();
      assert.ok(outcomes.includes('opened'), outcomes.join(', '));
      const other = [a, b].find((r) => !/tracking [a-z-]+: opened/.test(r.stdout))!;
      // The other run says why it opened nothing.
      assert.match(
        other.stdout,
        /another run (is opening|opened) the tracking (issue|pull request) for aks-prod|tracking [a-z-]+: refreshed/,
      );
      if (round === 1) {
        // Closed by hand: the next plan opens a new item, again only one.
        gh.byHand(open[0]!.number as number, 'alice', 'closed');
        const settle = await action({ name: 'schedule' }, `${round}03`, inputs);
        assert.equal(settle.code, 0, log(settle));
        gh.byHand(openItems(tracking)[0]!.number as number, 'alice', 'closed');
      }
    }
  });
}

test('two runs executing one approved plan at the same instant: exactly one executes, no node rebooted twice, the other ends cleanly saying why', async () => {
  const kernel = pend(...nodes);
  const plan = await action({ name: 'schedule' }, '301');
  assert.equal(plan.code, 0, log(plan));
  const id = (await ledger()).plan!.id;
  const reboots = sim.reboots.length;
  const c = gh.comment(1, 'bob', `/approve ${id.slice(0, 12)}`) as { id: number };
  // The approval's own run and a re-run of that job (same event), started together.
  const [a, b] = await Promise.all([
    action(comment(1, c.id, 'bob'), '302'),
    action(comment(1, c.id, 'bob'), '303'),
  ]);
  const runs = [a, b];
  const executed = runs.filter((r) => r.outputs.state === 'completed');
  assert.equal(
    executed.length,
    1,
    runs.map((r) => `${r.code} ${r.outputs.state}\n${log(r)}`).join('\n----\n'),
  );
  const other = runs.find((r) => r !== executed[0])!;
  assert.equal(executed[0]!.code, 0, log(executed[0]!));
  assert.equal(other.code, 0, `the other run does not fail:\n${log(other)}`);
  assert.match(other.stdout, /another run (executes|executed) plan [0-9a-f]{12}/);
  // Each node rebooted exactly once, to the new kernel.
  const rebooted = sim.reboots.slice(reboots).map((r) => r.node);
  assert.deepEqual([...rebooted].sort(), [...nodes].sort(), 'no node rebooted twice');
  for (const n of nodes) assert.equal((await sim.node(n)).status!.nodeInfo!.kernelVersion, kernel);
  // The ledger: one approval, one go, the run completed with every node once, the item closed.
  const l = await ledger();
  assert.equal(l.approvals.length, 1);
  assert.equal(l.run!.state, 'completed');
  assert.deepEqual(l.run!.nodes.map((n) => n.name).sort(), [...nodes].sort());
  assert.ok(l.run!.nodes.every((n) => n.outcome === 'rebooted'));
  assert.equal(l.item!.closed?.how, 'completed');
  // One answer to the approval, one final comment; nothing says the execution could not run.
  const bodies = [...gh.comments.values()].map((x) => x.body as string);
  assert.equal(
    bodies.filter((x) => x.includes(`reply-to ${c.id} `) || x.includes(`reply-to ${c.id} -->`)).length,
    1,
  );
  assert.equal(bodies.filter((x) => /All done\. Closing\./.test(x)).length, 1);
  assert.ok(!bodies.some((x) => /could not run/.test(x)), bodies.join('\n---\n'));
  assert.equal(gh.issues.get(1)!.state, 'closed');
});

test('a schedule continuing an execution while the approval run executes it: the schedule leaves it to that run', async () => {
  pend(...nodes);
  const plan = await action({ name: 'schedule' }, '401');
  assert.equal(plan.code, 0, log(plan));
  const id = (await ledger()).plan!.id;
  const reboots = sim.reboots.length;
  const c = gh.comment(1, 'bob', `/approve ${id.slice(0, 12)}`) as { id: number };
  const go = action(comment(1, c.id, 'bob'), '402');
  // The schedule starts once the ledger shows the execution under way.
  for (let i = 0; i < 300; i++) {
    const l = await ledger();
    if (l.run?.state === 'executing') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const [executing, scheduled] = await Promise.all([go, action({ name: 'schedule' }, '403')]);
  assert.equal(executing.code, 0, log(executing));
  assert.equal(executing.outputs.state, 'completed');
  assert.equal(scheduled.code, 0, log(scheduled));
  assert.match(scheduled.stdout, /another run (executes|executed) plan [0-9a-f]{12}/);
  const rebooted = sim.reboots.slice(reboots).map((r) => r.node);
  assert.deepEqual([...rebooted].sort(), [...nodes].sort(), 'no node rebooted twice');
  const l = await ledger();
  assert.equal(l.run!.state, 'completed');
  assert.equal(l.run!.nodes.length, nodes.length);
  const bodies = [...gh.comments.values()].map((x) => x.body as string);
  assert.ok(!bodies.some((x) => /could not run/.test(x)), bodies.join('\n---\n'));
});

test('the opening claim itself: one job holds it, another is refused, a lapsed or withdrawn claim frees it', async () => {
  // In a namespace of its own: the claims are written through the ledger's store, as the session does.
  const namespace = 'claims-test';
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const store = new LedgerStore(
    makeClients(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath })),
    namespace,
  );
  const at = new Date('2026-12-02T10:00:00Z');
  const request = (by: string, now: Date) => ({
    by,
    now,
    kind: 'issue',
    cluster: 'aks-prod',
    fresh: () => emptyLedger('contoso/platform', 'aks-prod', 'issue', at),
  });
  const first = await claimOpening(store, undefined, request('job-a', at));
  assert.equal(first.granted, true);
  const second = await claimOpening(store, undefined, request('job-b', new Date(at.getTime() + 60_000)));
  assert.equal(second.granted, false);
  assert.match(second.why, /another run is opening the tracking issue for aks-prod/);
  // A claim older than OPENING_TTL_MS was left by a job that died: it lapses.
  const later = new Date(at.getTime() + OPENING_TTL_MS + 1000);
  const third = await claimOpening(store, undefined, request('job-c', later));
  assert.equal(third.granted, true);
  assert.equal((await store.read())?.ledger.opening?.by, 'job-c');
  // Withdrawing someone else's claim changes nothing; withdrawing one's own frees the opening.
  await releaseOpening(store, 'job-a');
  assert.equal((await store.read())?.ledger.opening?.by, 'job-c');
  await releaseOpening(store, 'job-c');
  assert.equal((await store.read())?.ledger.opening, undefined);
  const fourth = await claimOpening(store, undefined, request('job-d', later));
  assert.equal(fourth.granted, true);
});
