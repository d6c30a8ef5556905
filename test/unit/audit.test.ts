// The audit (src/ledger/audit.ts): who decided what about the current plan revision, read from
// the ledger for the final comment, result.json and the PR merge message. Earlier revisions'
// approvals and commands are history, not this plan's audit.
import test from 'node:test';
import assert from 'node:assert/strict';
import { auditJson, auditLines } from '../../src/ledger/audit.ts';
import { emptyLedger, type Ledger } from '../../src/ledger/record.ts';

const PLAN_ID = 'ab'.repeat(32);
const by = (login: string, userId: number, commentId: number, revision: number) => ({
  login,
  userId,
  commentId,
  bodySha256: '0'.repeat(64),
  at: `2026-12-02T10:0${commentId % 10}:00Z`,
  revision,
});

function ledger(): Ledger {
  return {
    ...emptyLedger('contoso/platform', 'aks-prod', 'issue', new Date('2026-12-01T00:00:00Z')),
    plan: {
      id: PLAN_ID,
      revision: 2,
      createdAt: '2026-12-02T09:00:00Z',
      expiresAt: '2026-12-03T09:00:00Z',
      afterCommentId: 10,
      nodes: ['node-a', 'node-b'],
    },
    approvals: [by('old-approver', 7, 3, 1), by('alice', 1, 11, 2)],
    withdrawn: [{ ...by('bob', 2, 12, 2), why: 'edited after it was accepted' }],
    commands: [
      { ...by('carol', 3, 4, 1), kind: 'pause' as const },
      { ...by('carol', 3, 13, 2), kind: 'skip' as const, node: 'node-b' },
    ],
  };
}

test('the audit names the current revision, its approvers, its commands and withdrawn approvals', () => {
  assert.deepEqual(auditLines(ledger()), [
    `Plan ${PLAN_ID}, revision 2.`,
    '- Approved by `alice` (user 1, comment 11, 2026-12-02T10:01:00Z)',
    '- `/skip node-b` by `carol` (user 3, comment 13, 2026-12-02T10:03:00Z)',
    '- Approval by `bob` (comment 12) withdrawn: edited after it was accepted',
  ]);
});

test("result.json's audit holds the same, as data; a ledger without a plan audits nothing", () => {
  const json = auditJson(ledger());
  assert.equal(json.revision, 2);
  assert.deepEqual(
    json.approvals.map((approval) => approval.login),
    ['alice'],
  );
  assert.deepEqual(
    json.commands.map((command) => [command.kind, command.node]),
    [['skip', 'node-b']],
  );
  assert.deepEqual(
    json.withdrawn.map((withdrawn) => withdrawn.login),
    ['bob'],
  );
  const empty = emptyLedger('contoso/platform', 'aks-prod', 'issue', new Date());
  assert.deepEqual(auditLines(empty), ['Plan none, revision 0.']);
  assert.deepEqual(auditJson(empty), { revision: undefined, approvals: [], commands: [], withdrawn: [] });
});
