// The pure parts of the GitHub session and the plan file, without a cluster: what the item shows
// (view.ts), the checks before and between nodes of an execution (execution.ts), the node counts
// (context.ts), the plan artifacts (planning.ts, plan/file.ts), and the CLI's own refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Plan, PlanNode } from '../../src/plan/types.ts';
import { planId as hashOf, shortId } from '../../src/plan/canonical.ts';
import { loadPlanFile, planFileText, readPlanFile, writePlanFiles } from '../../src/plan/file.ts';
import { emptyLedger, type Ledger } from '../../src/ledger/record.ts';
import type { LedgerStore } from '../../src/ledger/store.ts';
import { nodeCounts, type SessionContext, type SessionDeps } from '../../src/github/context.ts';
import { preambleFor, progressLines, statusText } from '../../src/github/view.ts';
import { approvedPlan, interruptionFor, mergeRuns } from '../../src/github/execution.ts';
import { writePlanArtifacts } from '../../src/github/planning.ts';
import { parseGitHubSettings } from '../../src/github/settings.ts';
import { cli } from '../../src/cli.ts';
import { planNode } from '../harness/plan-nodes.ts';

const node = (name: string, extra: Partial<PlanNode> = {}): PlanNode => planNode({ name, ...extra });

const PLAN: Plan = {
  version: 2,
  cluster: { uid: 'u', name: 'aks-prod', server: 's', provider: 'aks' },
  options: { order: 'pool', deleteEmptyDirData: false, force: false, blockingPodSelector: '' },
  nodes: [node('n1'), node('n2', { update: 'node-image-upgrade' }), node('n3'), node('n4'), node('n5')],
  upToDate: [],
  unknown: [],
};
const PLAN_ID = hashOf(PLAN);
const AT = '2026-12-02T10:00:00.000Z';

function ledgerWith(extra: Partial<Ledger> = {}): Ledger {
  return {
    ...emptyLedger('contoso/platform', 'aks-prod', 'issue', new Date(AT)),
    item: { number: 7, openedAt: AT },
    plan: {
      id: PLAN_ID,
      revision: 2,
      createdAt: AT,
      expiresAt: '2026-12-04T10:00:00.000Z',
      afterCommentId: 0,
      nodes: PLAN.nodes.map((planned) => planned.name),
    },
    ...extra,
  };
}

const approval = (login: string, revision: number) => ({
  login,
  userId: 1,
  commentId: 10,
  bodySha256: 'x',
  at: AT,
  revision,
});

function contextFor(ledger: Ledger, planFile?: string): SessionContext {
  const deps = {
    settings: { github: parseGitHubSettings({ 'required-approvals': '2' }) },
  } as unknown as SessionDeps;
  return {
    deps,
    cluster: 'aks-prod',
    store: undefined as unknown as LedgerStore,
    where: 'kube-system/reboot-pilot-ledger',
    snapshot: { ledger, ...(planFile ? { planFile } : {}) },
  };
}

test('/status names the plan, its approvals, what holds it and its execution', () => {
  const ledger = ledgerWith({
    state: 'paused',
    approvals: [approval('bob', 2), approval('old', 1)],
    skipped: ['n3'],
    commands: [{ ...approval('carol', 2), kind: 'pause' }],
  });
  assert.equal(
    statusText('aks-prod', ledger, 2),
    `Plan \`${shortId(PLAN_ID)}\` (revision 2, cluster aks\\-prod): paused; approvals 1 of 2 (@bob); ` +
      'expires 2026-12-04T10:00:00.000Z; skipped: n3; /pause by @carol (comment 10) holds.',
  );
  assert.equal(
    preambleFor(contextFor(ledger)),
    `To approve, comment \`/approve ${shortId(PLAN_ID)}\` (revision 2, expires 2026-12-04T10:00:00.000Z, ` +
      '2 approvals needed). Other commands: `/reject [reason]`, `/replan`, `/skip <node>`, `/pause`, ' +
      '`/resume`, `/cancel`, `/status`.',
  );
});

test('the checklist marks each node: done (kernel or image), skipped, failed, pending', () => {
  const result = (name: string, outcome: string, extra = {}) => ({
    name,
    outcome,
    kernelBefore: '5.15.0-1079-azure',
    timings: {},
    ...extra,
  });
  const ledger = ledgerWith({
    run: {
      state: 'failed',
      at: AT,
      message: 'n4 failed',
      leftCordoned: [],
      nodes: [
        result('n1', 'rebooted', { kernelAfter: '5.15.0-1081-azure' }),
        result('n2', 'reimaged', { nodeImageBefore: 'A', nodeImageAfter: 'B' }),
        result('n3', 'skipped'),
        result('n4', 'failed', { detail: 'did not come back' }),
      ],
    },
  });
  assert.deepEqual(progressLines(ledger, PLAN), [
    { node: 'n1', mark: 'done', text: '5.15.0-1079-azure → 5.15.0-1081-azure' },
    { node: 'n2', mark: 'done', text: 'reimaged: node image A → B' },
    { node: 'n3', mark: 'skipped', text: 'skipped' },
    { node: 'n4', mark: 'failed', text: 'did not come back' },
    { node: 'n5', mark: 'pending', text: 'reboot' },
  ]);
  assert.deepEqual(nodeCounts(ledger), {
    nodesPending: 1,
    nodesRebooted: 1,
    nodesReimaged: 1,
    nodesFailed: 1,
  });
});

test('an execution runs only the plan file the ledger keeps for the approved plan', () => {
  const item = { number: 7, body: '', url: '' };
  assert.throws(
    () => approvedPlan(contextFor(ledgerWith()), item),
    new RegExp(`keeps no plan file for plan ${shortId(PLAN_ID)} \\(#7\\); comment /replan`),
  );
  const other = { ...PLAN, nodes: [node('n1')] };
  assert.throws(
    () => approvedPlan(contextFor(ledgerWith(), planFileText(other, hashOf(other))), item),
    new RegExp(`is plan ${shortId(hashOf(other))}, not the approved plan ${shortId(PLAN_ID)}`),
  );
  assert.equal(approvedPlan(contextFor(ledgerWith(), planFileText(PLAN, PLAN_ID)), item).planId, PLAN_ID);
});

test('between nodes the ledger decides: cancel, pause, a withdrawn approval, a skip, or go on', () => {
  const approved = ledgerWith({ state: 'approved', skipped: ['n2'] });
  assert.equal(interruptionFor(approved, 'n1'), undefined);
  assert.deepEqual(interruptionFor(approved, 'n2'), { action: 'skip', reason: 'skipped by a /skip comment' });
  assert.deepEqual(interruptionFor(ledgerWith({ state: 'rejected' }), 'n1'), {
    action: 'cancel',
    reason: 'cancelled by a /reject comment',
  });
  assert.equal(interruptionFor(ledgerWith({ state: 'paused' }), 'n1')?.action, 'pause');
  assert.match(
    interruptionFor(ledgerWith({ state: 'awaiting-approval' }), 'n1')!.reason,
    /approval was withdrawn/,
  );
});

test('a later run keeps the results of earlier runs for the nodes it found done', () => {
  const earlier = [
    { name: 'n1', outcome: 'rebooted', kernelBefore: 'a', kernelAfter: 'b', timings: { drain: 1 } },
  ];
  const merged = mergeRuns(earlier, [
    {
      name: 'n1',
      outcome: 'already-done',
      kernelBefore: 'b',
      timings: {},
      bootIdBefore: 'x',
      bootIdAfter: 'y',
    },
    { name: 'n2', outcome: 'rebooted', kernelBefore: 'a', timings: {}, bootIdBefore: 'x', bootIdAfter: 'y' },
  ] as Parameters<typeof mergeRuns>[1]);
  assert.deepEqual(merged, [earlier[0], { name: 'n2', outcome: 'rebooted', kernelBefore: 'a', timings: {} }]);
});

test('the plan file is written once and read back: its ID checked against its content', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rp-plan-file-'));
  const artifacts = writePlanArtifacts(dir, PLAN, PLAN_ID, {
    estimate: {} as Parameters<typeof writePlanArtifacts>[3]['estimate'],
    now: new Date(AT),
    fullReportRef: 'report.md in the reboot-pilot artifact',
  });
  assert.equal(artifacts.planFile, join(dir, shortId(PLAN_ID), 'plan.json'));
  assert.equal(readFileSync(artifacts.planFile, 'utf8'), planFileText(PLAN, PLAN_ID));
  assert.equal(readFileSync(artifacts.reportFile, 'utf8'), artifacts.files['report.md']);
  assert.deepEqual(loadPlanFile(artifacts.planFile), readPlanFile(planFileText(PLAN, PLAN_ID)));
  assert.match(planFileText(PLAN, PLAN_ID), new RegExp(`^\\{\\n  "planId": "${PLAN_ID}",\\n  "plan": \\{`));
  assert.throws(
    () => loadPlanFile(join(dir, 'missing.json')),
    /cannot read the plan file .*missing\.json: ENOENT/,
  );
  const paths = writePlanFiles(dir, PLAN_ID, { 'result.md': 'done\n' });
  assert.ok(existsSync(paths['result.md']!));
});

test('a plan file of another plan format is refused with what to do, before its ID is checked', () => {
  const older = JSON.parse(planFileText(PLAN, PLAN_ID)) as { plan: { version: number } };
  older.plan.version = 1;
  assert.throws(
    () => readPlanFile(JSON.stringify(older), "the ledger's plan file"),
    /^UserError: the ledger's plan file holds a plan in format 1, made by another version of Reboot Pilot; this one reads format 2: make the plan again \(\/replan\)$/,
  );
});

/** Runs the CLI in process; its exit code and what it wrote. */
async function run(...args: string[]) {
  let out = '';
  let err = '';
  const sink = (write: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        write(chunk.toString());
        done();
      },
    });
  const code = await cli(args, { out: sink((text) => (out += text)), err: sink((text) => (err += text)) });
  return { code, out, err };
}

test('the CLI: bad usage exits 2, a missing plan file 1, before any cluster', async () => {
  assert.deepEqual(await run('run'), {
    code: 2,
    out: '',
    err: 'reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)\n',
  });
  const output = await run('plan', '--output', 'xml');
  assert.equal(output.code, 2);
  assert.equal(output.err, 'reboot-pilot: --output must be text, md or json, not "xml"\n');
  assert.equal((await run('run', '--output', 'md', '--plan', 'p.json')).err.includes('text or json'), true);
  const missing = await run('run', '--plan', '/nonexistent/plan.json');
  assert.equal(missing.code, 1);
  assert.equal(
    missing.err,
    'reboot-pilot: error: cannot read the plan file /nonexistent/plan.json: ENOENT\n',
  );
  assert.equal((await run('frobnicate')).code, 2);
  assert.match((await run('plan', '--help')).out, /^usage: reboot-pilot plan/);
});
