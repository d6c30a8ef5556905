// The GitHub session in process, phase by phase (session.ts and the modules beside it: planning,
// answer, execution, closing, view, context), against the real control plane (one KWOK node and the
// node simulator) and the fake GitHub through the issue tracker. test/integration/github.test.ts
// runs the same workflow through the bundled action, as the runner starts it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../harness/controlplane.ts';
import { NodeSimulator } from '../harness/simulator.ts';
import { aksNode } from '../harness/nodes.ts';
import { BOOT_TIME, ubuntuUpToDate } from '../fixtures/hosts.ts';
import { FakeGitHub } from '../harness/github.ts';
import { applyProductRbac } from '../harness/workloads.ts';
import { connect } from '../../src/kube/client.ts';
import { parseExecuteSettings, parsePlanSettings } from '../../src/settings.ts';
import { parseGitHubSettings } from '../../src/github/settings.ts';
import { IssueTracker } from '../../src/github/tracker.ts';
import { runSession, type SessionDeps, type SessionEvent } from '../../src/github/session.ts';
import type { SessionContext } from '../../src/github/context.ts';
import { answer } from '../../src/github/answer.ts';
import { currentItem } from '../../src/github/closing.ts';
import { LedgerStore } from '../../src/ledger/store.ts';
import { shortId } from '../../src/plan/canonical.ts';
import { Ledger, LEDGER_KEY, LEDGER_NAME } from '../../src/ledger/record.ts';

const NODE = 'aks-nodepool1-12345678-vmss000000';
let cluster: Cluster;
let sim: NodeSimulator;
let core: k8s.CoreV1Api;
let gh: FakeGitHub;
let deps: Omit<SessionDeps, 'event'>;
const logged: string[] = [];

before(async () => {
  cluster = await startCluster({ users: [{ name: 'reboot-pilot' }] });
  sim = new NodeSimulator(cluster);
  sim.rebootDownMs = 500;
  await sim.start();
  core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  const dir = mkdtempSync(join(tmpdir(), 'rp-session-'));
  const kubeconfig = await applyProductRbac(cluster, dir);
  await sim.createNodes([{ ...aksNode({ pool: 'nodepool1', index: 0 }), bootTime: BOOT_TIME }]);
  sim.writeHostFiles(NODE, {
    ...ubuntuUpToDate,
    'boot/vmlinuz-5.15.0-1079-azure': 'kernel',
    'boot/vmlinuz-5.15.0-1201-azure': 'kernel',
    'var/run/reboot-required': '*** System restart required ***\n',
    'var/run/reboot-required.pkgs': 'linux-image-5.15.0-1201-azure\n',
  });
  gh = new FakeGitHub({
    users: [
      { login: 'bob', role: 'write' },
      { login: 'rita', role: 'read' },
      { login: 'tina', role: 'triage' },
    ],
  });
  process.env.GITHUB_API_URL = await gh.start();
  // @actions/github reads GITHUB_API_URL when it loads, as in the action.
  const { makeOctokit } = await import('../../src/github/octokit.ts');
  const plan = parsePlanSettings({ kubeconfig, 'cluster-name': 'aks-prod', 'probe-timeout': '20' });
  deps = {
    tracker: new IssueTracker(
      makeOctokit('ghs_fake-token', (line) => logged.push(line)),
      {
        owner: 'contoso',
        repo: 'platform',
      },
    ),
    clients: connect(plan),
    settings: {
      plan,
      execute: parseExecuteSettings({
        soak: '0',
        'drain-retry-delay': '1',
        'lock-ttl': '5',
        'reboot-timeout': '30',
        'workload-timeout': '60',
      }),
      github: parseGitHubSettings({ 'progress-interval': '1' }),
    },
    outDir: dir,
    log: (line) => logged.push(line),
  };
});

after(async () => {
  await gh.stop();
  await sim.stop();
  await cluster.stop();
  assert.deepEqual(gh.violations, [], "every request and response matched GitHub's description");
});

const session = (mode: 'plan' | 'decide' | 'execute', event: SessionEvent) =>
  runSession(mode, { ...deps, event });

/** A user comments; the session runs for the issue_comment event. */
function say(mode: 'decide' | 'execute', number: number, login: string, body: string) {
  const comment = gh.comment(number, login, body);
  const commentId = comment.id as number;
  return { commentId, result: session(mode, { name: 'issue_comment', issueNumber: number, commentId }) };
}

const replyTo = (commentId: number) =>
  [...gh.comments.values()].find((comment) =>
    new RegExp(`<!-- reboot-pilot:reply-to ${commentId}( refused)? -->`).test(comment.body as string),
  )?.body as string | undefined;

async function ledger(): Promise<Ledger> {
  const map = await core.readNamespacedConfigMap({ name: LEDGER_NAME, namespace: 'kube-system' });
  return Ledger.parse(JSON.parse(map.data![LEDGER_KEY]!));
}

test('a session opens the issue, answers, executes the approved plan and closes it', async () => {
  const opened = await session('plan', { name: 'schedule' });
  assert.equal(opened.outcome, 'opened');
  assert.equal(opened.state, 'awaiting-approval');
  const number = opened.number!;
  const planId = (await ledger()).plan!.id;
  assert.equal(opened.planId, planId);
  assert.match(gh.issues.get(number)!.body as string, new RegExp(`comment \`/approve ${shortId(planId)}\``));
  assert.equal((await session('plan', { name: 'schedule' })).outcome, 'refreshed');

  const status = say('decide', number, 'bob', '/status');
  assert.equal((await status.result).outcome, 'answered');
  assert.match(
    replyTo(status.commentId)!,
    new RegExp(`^Plan \`${shortId(planId)}\` \\(revision 1\\): awaiting-approval; approvals 0 of 1`),
  );

  // Permissions come through the tracker's repository: a reader's approval is refused.
  const read = say('execute', number, 'rita', `/approve ${shortId(planId)}`);
  assert.equal((await read.result).state, 'awaiting-approval');
  assert.match(
    replyTo(read.commentId)!,
    /^@rita: \/approve needs write permission on this repository; you have read\./,
  );

  const approved = say('execute', number, 'bob', `/approve ${shortId(planId)}`);
  const executed = await approved.result;
  assert.equal(executed.outcome, 'executed', logged.join('\n'));
  assert.equal(executed.state, 'completed');
  assert.equal(executed.nodesRebooted, 1);
  assert.equal(gh.issues.get(number)!.state, 'closed');
  const last = [...gh.comments.values()].filter((comment) => comment.issue === number).pop()!;
  assert.match(last.body as string, /All done\. Closing\.$/);
  assert.equal((await ledger()).state, 'closed');

  // The closed item stays closed for the ledger: a later command on it is answered, never executed.
  const late = say('execute', number, 'bob', '/replan');
  const ignored = await late.result;
  assert.equal(ignored.outcome, 'ignored');
  assert.equal(ignored.state, 'closed');
  assert.match(
    replyTo(late.commentId)!,
    new RegExp(`^@bob: #${number} was closed \\(completed, by reboot-pilot`),
  );
});

test('answer and currentItem alone: /status answered once; a closing by hand recorded', async () => {
  sim.writeHostFiles(NODE, {
    'boot/vmlinuz-5.15.0-1301-azure': 'kernel',
    'var/run/reboot-required': '*** System restart required ***\n',
    'var/run/reboot-required.pkgs': 'linux-image-5.15.0-1301-azure\n',
  });
  const opened = await session('plan', { name: 'schedule' });
  assert.equal(opened.outcome, 'opened');
  const store = new LedgerStore(deps.clients, 'kube-system');
  const context: SessionContext = {
    deps: { ...deps, event: { name: 'schedule' } },
    cluster: 'aks-prod',
    store,
    where: `kube-system/${LEDGER_NAME}`,
    snapshot: await store.read(),
  };
  const item = (await currentItem(context))!;
  assert.equal(item.number, opened.number);

  const asked = gh.comment(item.number, 'bob', '/status').id as number;
  const answered = await answer(context, item, false);
  assert.equal(answered.lastCommentId, asked);
  assert.match(
    replyTo(asked)!,
    new RegExp(`^Plan \`${shortId(opened.planId!)}\` \\(revision 1\\): awaiting`),
  );
  const replies = () => [...gh.comments.values()].filter((comment) => comment.issue === item.number).length;
  const before = replies();
  await answer(context, item, false);
  assert.equal(replies(), before, 'a comment is answered once');

  gh.byHand(item.number, 'tina', 'closed');
  assert.equal(await currentItem(context), undefined);
  const closed = (await ledger()).item!.closed!;
  assert.deepEqual([closed.by, closed.how], ['tina', 'closed by hand']);
});
