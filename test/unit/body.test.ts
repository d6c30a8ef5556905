// The tracking body is a view of the ledger: marker, report, checklist and a copy of the record;
// it stays under GitHub's limit with its HTML balanced, for plans of 1,000 nodes. The ledger's
// judgement of comments: restrictions are sticky, edits and deletions only withdraw approvals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checklist,
  isTracking,
  marker,
  renderBody,
  shownPlan,
  type ProgressLine,
} from '../../src/github/body.ts';
import { GITHUB_BODY_LIMIT } from '../../src/report/markdown.ts';
import { fitMarkdown } from '../../src/report/fit.ts';
import { emptyLedger, sha256, currentApprovals, type Ledger } from '../../src/ledger/record.ts';
import { judge, type JudgedComment } from '../../src/github/judge.ts';

const ID = 'c'.repeat(64);
const ledger = (extra: Partial<Ledger> = {}): Ledger => ({
  ...emptyLedger('contoso/platform', 'aks-prod', 'issue', new Date('2026-11-22T07:30:00Z')),
  item: { number: 1, openedAt: '2026-11-22T07:30:00Z' },
  plan: {
    id: ID,
    revision: 3,
    createdAt: '2026-11-22T07:30:00.000Z',
    expiresAt: '2026-11-24T07:30:00.000Z',
    afterCommentId: 0,
    nodes: ['n1', 'n2'],
  },
  ...extra,
});
const opts = {
  minPermission: 'write' as const,
  allowUsers: [],
  allowTeams: [],
  requiredApprovals: 1,
  preventSelfApproval: false,
  selfLogin: 'github-actions[bot]',
  now: new Date('2026-11-22T09:00:00Z'),
  executing: false,
};
const auth = (login: string) => ({
  permission: login === 'rita' ? ('read' as const) : ('write' as const),
  teams: [] as string[],
});
const c = (id: number, login: string, body: string, updatedAt = '2026-11-22T08:00:00Z'): JudgedComment => ({
  id,
  login,
  userId: id * 10,
  body,
  userType: 'User',
  createdAt: '2026-11-22T08:00:00Z',
  updatedAt,
});

test('the body: marker, checklist, a copy of the record; the cluster name cannot break out of the marker', () => {
  const body = renderBody({
    cluster: 'aks-prod',
    ledger: ledger(),
    where: 'kube-system/reboot-pilot-ledger',
    report: '## Reboot plan\n',
    progress: [
      { node: 'n1', mark: 'done', text: 'rebooted into 5.15.0-1081-azure' },
      { node: 'n2', mark: 'running', text: 'draining' },
    ],
  });
  assert.ok(isTracking(body, 'aks-prod'));
  assert.ok(!isTracking(body, 'aks-prod-2'));
  assert.deepEqual(shownPlan(body), { planId: ID, revision: 3 });
  assert.match(body, /- \[x\] n1: rebooted into 5\\\.15\\\.0\\-1081\\-azure/);
  assert.match(body, /- \[ \] ⏳ n2: draining/);
  assert.match(body, /editing this body changes nothing/);
  assert.equal(marker('x --> <img>'), '<!-- reboot-pilot:tracking cluster=x%20--%3E%20%3Cimg%3E -->');
});

test('a 1,000-node plan: every body of an execution stays under GitHub’s limit; a cut report closes its <details>', () => {
  const nodes = Array.from(
    { length: 1000 },
    (_, i) => `aks-nodepool${i % 7}-12345678-vmss${String(i).padStart(6, '0')}`,
  );
  const report = nodes
    .map(
      (n) =>
        `<details><summary>${n}</summary>\n\n- Pool x, evicts 3 pods: ${'a'.repeat(120)}\n\n</details>\n`,
    )
    .join('\n');
  const l = ledger({ plan: { ...ledger().plan!, nodes } });
  for (let done = 0; done <= 1000; done += 250) {
    const progress: ProgressLine[] = nodes.map((node, i) => ({
      node,
      mark: i < done ? 'done' : i === done ? 'running' : 'pending',
      text: i < done ? '5.15.0-1079-azure → 5.15.0-1081-azure' : 'reboot',
    }));
    const body = renderBody({
      cluster: 'aks-prod',
      ledger: l,
      where: 'kube-system/reboot-pilot-ledger',
      report,
      progress,
      footer: '_Execution: executing_',
    });
    assert.ok(body.length < GITHUB_BODY_LIMIT, `${done} done: ${body.length}`);
    const before = body.slice(0, body.indexOf('<!-- reboot-pilot:progress -->'));
    assert.equal(
      (before.match(/<details>/g) ?? []).length,
      (before.match(/<\/details>/g) ?? []).length,
      'the checklist is never folded into a node section',
    );
    if (done < 1000) assert.match(body, /⏳/, 'the node in progress is always shown');
  }
  assert.match(
    checklist(nodes.map((node) => ({ node, mark: 'pending', text: 'reboot' }))),
    /1000 pending of 1000/,
  );
});

test('fitMarkdown cuts at a line outside a code fence and closes what is open', () => {
  const text = '<details><summary>a</summary>\n\n```\n' + 'x\n'.repeat(100) + '```\n\n</details>\n';
  const cut = fitMarkdown(text, 160, '_(cut)_');
  assert.ok(cut.length <= 160, String(cut.length));
  assert.equal((cut.match(/```/g) ?? []).length % 2, 0);
  assert.match(cut, /<\/details>/);
});

test('fitMarkdown leaves out a <details> section it cannot keep whole instead of emptying it', () => {
  const section = (i: number) =>
    `<details><summary>node ${i}</summary>\n\n${'- line\n'.repeat(20)}\n</details>\n`;
  const text = ['## Plan', '', section(1), section(2), section(3)].join('\n');
  const cut = fitMarkdown(text, 400, '_(cut)_');
  assert.ok(cut.length <= 400, String(cut.length));
  assert.match(cut, /node 1/);
  assert.doesNotMatch(cut, /node 2/, 'the section that does not fit is left out, not shown empty');
  assert.equal((cut.match(/<details>/g) ?? []).length, (cut.match(/<\/details>/g) ?? []).length);
});

test('judge: an edited or deleted /pause still holds; an edited approval is withdrawn and answered', () => {
  let l = judge(ledger(), [c(10, 'bob', '/pause')], auth, opts).ledger;
  assert.equal(l.state, 'paused');
  assert.equal(l.commands[0]!.kind, 'pause');
  assert.equal(l.commands[0]!.bodySha256, sha256('/pause'));
  const edited = judge(
    l,
    [c(10, 'bob', '/pause because of the release', '2026-11-22T08:05:00Z')],
    auth,
    opts,
  );
  assert.equal(edited.ledger.state, 'paused', 'the pause holds after an edit');
  assert.match(edited.notices[0]!.reply, /the \/pause it gave when written still holds/);
  assert.equal(judge(l, [], auth, opts).ledger.state, 'paused', 'and after a deletion');
  l = judge(ledger(), [c(11, 'bob', `/approve ${ID.slice(0, 12)}`)], auth, opts).ledger;
  assert.equal(l.state, 'approved');
  assert.deepEqual(l.go, { commentId: 11, revision: 3 });
  const changed = judge(
    l,
    [c(11, 'bob', `/approve ${ID.slice(0, 12)} (edited)`, '2026-11-22T08:05:00Z')],
    auth,
    opts,
  );
  assert.equal(changed.ledger.state, 'awaiting-approval');
  assert.equal(currentApprovals(changed.ledger).length, 0);
  assert.equal(changed.ledger.withdrawn[0]!.why, 'edited');
  assert.match(changed.notices[0]!.reply, /was edited: it is withdrawn/);
  assert.equal(changed.ledger.go, undefined);
  const deleted = judge(l, [], auth, opts);
  assert.equal(deleted.ledger.withdrawn[0]!.why, 'deleted');
});

test('judge: each comment is judged once; a /status or a read user never starts anything', () => {
  const l = judge(
    ledger(),
    [c(12, 'rita', '/status'), c(13, 'rita', `/approve ${ID.slice(0, 12)}`)],
    auth,
    opts,
  );
  assert.equal(l.ledger.state, 'awaiting-approval');
  assert.equal(l.ledger.go, undefined);
  assert.equal(l.ledger.lastCommentId, 13);
  assert.deepEqual(
    judge(l.ledger, [c(12, 'rita', '/status'), c(13, 'rita', `/approve ${ID.slice(0, 12)}`)], auth, opts)
      .notices,
    [],
  );
});

test('a 1,000-node result: the final comment is cut to GitHub’s limit with the audit kept first and its table rows whole', async () => {
  const { renderResultMarkdown } = await import('../../src/report/result.ts');
  const names = Array.from(
    { length: 1000 },
    (_, i) => `aks-nodepool1-12345678-vmss${String(i).padStart(6, '0')}`,
  );
  const table = renderResultMarkdown('aks-prod', {
    planId: ID,
    state: 'completed',
    message: 'all nodes rebooted',
    leftCordoned: [],
    nodes: names.map((name) => ({
      name,
      outcome: 'rebooted',
      kernelBefore: '5.15.0-1079-azure',
      kernelAfter: '5.15.0-1081-azure',
      timings: { drain: 12_000, reboot: 61_000, workloads: 20_000, soak: 60_000, total: 153_000 },
    })),
  });
  const text = `Plan ${ID}, revision 1.\n- Approved by \`carol\` (user 1003, comment 2001, 2026-11-22T08:00:00Z)\n\n${table}\nAll done. Closing.`;
  assert.ok(text.length > GITHUB_BODY_LIMIT, 'the uncut comment would be refused');
  const cut = fitMarkdown(text, GITHUB_BODY_LIMIT - 100, '_(cut)_');
  assert.ok(cut.length < GITHUB_BODY_LIMIT);
  assert.match(cut, /^Plan c{64}, revision 1\.\n- Approved by `carol`/);
  assert.ok(
    cut
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .every((l) => l.endsWith('|')),
    'no row is cut in half',
  );
});
