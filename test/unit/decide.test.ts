// Comment commands and the approval decision, pure: the spoofing matrix at the level of the
// decision (the GitHub edge and its fake server come with the GitHub issue).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseComment } from '../../src/github/commands.ts';
import {
  decide,
  replanned,
  type Authorization,
  type DecideOptions,
  type IncomingComment,
  type PlanRecord,
} from '../../src/github/decide.ts';

const ID = 'a3f1c9e27b4d8e6f0123456789abcdef0123456789abcdef0123456789abcdef';
const record = (extra: Partial<PlanRecord> = {}): PlanRecord => ({
  planId: ID,
  revision: 1,
  createdAt: '2026-11-22T07:30:00Z',
  expiresAt: '2026-11-24T07:30:00Z',
  requestedBy: 'alice',
  approvals: [],
  state: 'awaiting-approval',
  skipped: [],
  lastCommentId: 100,
  ...extra,
});
const opts = (extra: Partial<DecideOptions> = {}): DecideOptions => ({
  minPermission: 'write',
  allowUsers: [],
  allowTeams: [],
  requiredApprovals: 1,
  preventSelfApproval: true,
  selfLogin: 'github-actions[bot]',
  nodes: ['aks-nodepool1-12345678-vmss000000'],
  now: new Date('2026-11-22T09:00:00Z'),
  ...extra,
});
let nextId = 200;
const comment = (body: string, extra: Partial<IncomingComment> = {}): IncomingComment => ({
  id: nextId++,
  body,
  login: 'bob',
  userType: 'User',
  createdAt: '2026-11-22T08:00:00Z',
  action: 'created',
  ...extra,
});
const writer = (): Authorization => ({ permission: 'write', teams: [] });

test('the grammar: first line only, strict arguments', () => {
  assert.deepEqual(parseComment(`/approve ${ID.slice(0, 12)}`), {
    kind: 'command',
    command: { kind: 'approve', planId: ID.slice(0, 12) },
  });
  assert.deepEqual(parseComment(`/APPROVE \`${ID}\``), {
    kind: 'command',
    command: { kind: 'approve', planId: ID },
  });
  assert.equal(parseComment('/approve').kind, 'invalid');
  assert.match(
    (parseComment('/approve a3f1') as { reason: string }).reason,
    /12 to 64 hexadecimal characters/,
  );
  assert.deepEqual(parseComment('/reject not during the sale\nsee INC-42'), {
    kind: 'command',
    command: { kind: 'reject', reason: 'not during the sale\nsee INC-42' },
  });
  assert.deepEqual(parseComment('/skip aks-nodepool1-12345678-vmss000000'), {
    kind: 'command',
    command: { kind: 'skip', node: 'aks-nodepool1-12345678-vmss000000' },
  });
  assert.equal(parseComment('/pause now').kind, 'invalid');
  assert.equal(parseComment('looks good to me').kind, 'none');
  assert.match(
    (parseComment(`LGTM\n/approve ${ID}`) as { reason: string }).reason,
    /must be on the first line/,
  );
  assert.match((parseComment('/aprove x') as { reason: string }).reason, /unknown command \/aprove/);
  assert.equal(parseComment('/cc @team').kind, 'none');
});

test('a writer approves the current plan by its ID: execute', () => {
  const d = decide(record(), comment(`/approve ${ID.slice(0, 12)}`), writer, opts())!;
  assert.equal(d.next, 'execute');
  assert.equal(d.reaction, 'rocket');
  assert.equal(d.record.state, 'approved');
  assert.deepEqual(
    d.record.approvals.map((a) => a.login),
    ['bob'],
  );
});

test('the spoofing matrix: every one refused with a reply, nothing executed', () => {
  const cases: [string, () => ReturnType<typeof decide>, RegExp][] = [
    [
      'read-only user',
      () => decide(record(), comment(`/approve ${ID}`), () => ({ permission: 'read', teams: [] }), opts()),
      /needs write permission on this repository; you have read/,
    ],
    [
      'triage user',
      () => decide(record(), comment(`/approve ${ID}`), () => ({ permission: 'triage', teams: [] }), opts()),
      /you have triage/,
    ],
    [
      'edited comment',
      () => decide(record(), comment(`/approve ${ID}`, { action: 'edited' }), writer, opts()),
      /an edited comment is not a command/,
    ],
    [
      'wrong plan ID',
      () => decide(record(), comment('/approve 0123456789abcdef'), writer, opts()),
      /does not name the current plan `a3f1c9e27b4d`/,
    ],
    [
      'old comment',
      () =>
        decide(record(), comment(`/approve ${ID}`, { createdAt: '2026-11-22T07:00:00Z' }), writer, opts()),
      /older than the current plan/,
    ],
    [
      'self-approval',
      () => decide(record(), comment(`/approve ${ID}`, { login: 'alice' }), writer, opts()),
      /self-approval is not allowed/,
    ],
    [
      'command not on line 1',
      () => decide(record(), comment(`Ship it!\n/approve ${ID}`), writer, opts()),
      /must be on the first line/,
    ],
    [
      'expired plan',
      () =>
        decide(
          record(),
          comment(`/approve ${ID}`, { createdAt: '2026-11-25T00:00:00Z' }),
          writer,
          opts({ now: new Date('2026-11-25T00:00:00Z') }),
        ),
      /expired .*\/replan/,
    ],
    [
      'comment written before this revision (by ID)',
      () =>
        decide(record({ afterCommentId: 10_000 }), comment(`/approve ${ID}`, { id: 9_999 }), writer, opts()),
      /older than the current plan/,
    ],
    [
      'replan while executing',
      () => decide(record({ state: 'approved' }), comment('/replan'), writer, opts({ executing: true })),
      /cannot be replaced while it executes/,
    ],
    [
      'reject while executing',
      () => decide(record({ state: 'approved' }), comment('/reject no'), writer, opts({ executing: true })),
      /\/cancel stops it/,
    ],
    [
      'not in allow-users',
      () => decide(record(), comment(`/approve ${ID}`), writer, opts({ allowUsers: ['carol'] })),
      /not in this workflow's approvers/,
    ],
    [
      'teams unreadable: fail closed',
      () =>
        decide(
          record(),
          comment(`/approve ${ID}`),
          () => ({ permission: 'admin', teams: 'unavailable' }),
          opts({ allowTeams: ['platform'] }),
        ),
      /cannot check team membership/,
    ],
    [
      'wrong team',
      () =>
        decide(
          record(),
          comment(`/approve ${ID}`),
          () => ({ permission: 'admin', teams: ['web'] }),
          opts({ allowTeams: ['platform'] }),
        ),
      /none of the teams allowed/,
    ],
  ];
  for (const [what, run, reply] of cases) {
    const d = run();
    assert.ok(d, what);
    assert.equal(d.next, 'none', what);
    assert.equal(d.reaction, 'confused', what);
    assert.match(d.reply ?? '', reply, what);
    // Refusals change nothing: the state stays what it was.
    assert.equal(d.record.state, what.includes('executing') ? 'approved' : 'awaiting-approval', what);
    assert.deepEqual(d.record.approvals, [], what);
  }
});

test('a bot is refused with a reply; the action itself and plain discussion get no answer at all', () => {
  const bot = decide(
    record(),
    comment(`/approve ${ID}`, { login: 'renovate[bot]', userType: 'Bot' }),
    writer,
    opts(),
  )!;
  assert.equal(bot.next, 'none');
  assert.equal(bot.reaction, 'confused');
  assert.match(bot.reply!, /bots cannot give commands/);
  assert.deepEqual(bot.record.approvals, []);
  assert.equal(
    decide(record(), comment('thanks', { login: 'renovate[bot]', userType: 'Bot' }), writer, opts()),
    undefined,
  );
  assert.equal(
    decide(record(), comment(`/approve ${ID}`, { login: 'github-actions[bot]' }), writer, opts()),
    undefined,
  );
  assert.equal(decide(record(), comment('thanks!'), writer, opts()), undefined);
  assert.equal(
    decide(record({ lastCommentId: 10_000 }), comment(`/approve ${ID}`, { id: 500 }), writer, opts()),
    undefined,
    'decided already',
  );
});

test('an approval given before /replan does not count for the new plan', () => {
  const half = decide(
    record(),
    comment(`/approve ${ID}`, { login: 'bob' }),
    writer,
    opts({ requiredApprovals: 2 }),
  )!;
  assert.equal(half.next, 'none');
  assert.equal(half.record.approvals.length, 1);
  const NEW = 'b'.repeat(64);
  const fresh = replanned(half.record, NEW, new Date('2026-11-22T08:30:00Z'), 48);
  assert.deepEqual(fresh.approvals, []);
  assert.equal(fresh.revision, 2);
  // The old ID no longer approves anything; the new one needs two fresh approvals.
  const stale = decide(
    fresh,
    comment(`/approve ${ID}`, { login: 'carol', createdAt: '2026-11-22T08:40:00Z' }),
    writer,
    opts({ requiredApprovals: 2 }),
  )!;
  assert.match(stale.reply!, /does not name the current plan `bbbbbbbbbbbb` \(revision 2\)/);
  const one = decide(
    fresh,
    comment(`/approve ${NEW}`, { login: 'bob', createdAt: '2026-11-22T08:41:00Z' }),
    writer,
    opts({ requiredApprovals: 2 }),
  )!;
  const again = decide(
    one.record,
    comment(`/approve ${NEW}`, { login: 'bob', createdAt: '2026-11-22T08:42:00Z' }),
    writer,
    opts({ requiredApprovals: 2 }),
  )!;
  assert.match(again.reply!, /already counted \(1 of 2\)/);
  const two = decide(
    again.record,
    comment(`/approve ${NEW}`, { login: 'carol', createdAt: '2026-11-22T08:43:00Z' }),
    writer,
    opts({ requiredApprovals: 2 }),
  )!;
  assert.equal(two.next, 'execute');
});

test('reject, pause, resume, cancel, skip, status', () => {
  const rejected = decide(record(), comment('/reject freeze week'), writer, opts())!;
  assert.equal(rejected.record.state, 'rejected');
  assert.equal(rejected.reaction, '-1');
  const approved = decide(record(), comment(`/approve ${ID}`), writer, opts())!.record;
  const paused = decide({ ...approved, state: 'executing' }, comment('/pause'), writer, opts())!;
  assert.equal(paused.record.state, 'paused');
  const resumed = decide(paused.record, comment('/resume'), writer, opts())!;
  assert.equal(resumed.record.state, 'executing');
  assert.equal(resumed.next, 'resume');
  assert.equal(decide(resumed.record, comment('/cancel'), writer, opts())!.next, 'cancel');
  assert.deepEqual(
    decide(record(), comment('/skip aks-nodepool1-12345678-vmss000000'), writer, opts())!.record.skipped,
    ['aks-nodepool1-12345678-vmss000000'],
  );
  assert.match(decide(record(), comment('/skip other-node'), writer, opts())!.reply!, /not in this plan/);
  // /status needs no permission.
  assert.equal(
    decide(record(), comment('/status'), () => ({ permission: 'none', teams: [] }), opts())!.next,
    'status',
  );
});

test('/replan is a state: nothing of the old revision may run, and approvals wait for the new one', () => {
  const approved = decide(record(), comment(`/approve ${ID}`, { login: 'bob' }), writer, opts())!;
  assert.equal(approved.record.state, 'approved');
  const re = decide(approved.record, comment('/replan', { login: 'carol' }), writer, opts())!;
  assert.equal(re.next, 'replan');
  assert.equal(re.record.state, 'replan-requested');
  assert.equal(re.record.replanBy, 'carol');
  assert.deepEqual(re.record.approvals, []);
  const late = decide(re.record, comment(`/approve ${ID}`, { login: 'dave' }), writer, opts())!;
  assert.match(late.reply!, /a new plan was asked for/);
  assert.equal(late.record.state, 'replan-requested');
});

test('an approval is judged at the time it was written: replayed after the expiry (mid-execution) it still counts', () => {
  const d = decide(
    record(),
    comment(`/approve ${ID}`, { createdAt: '2026-11-24T07:00:00Z' }),
    writer,
    opts({ now: new Date('2026-11-30T00:00:00Z') }),
  )!;
  assert.equal(d.record.state, 'approved');
});

test('a /reject reason and a bad /approve argument are escaped in the reply', () => {
  const r = decide(
    record(),
    comment('/reject see [here](https://evil.example) @org/team <!-- x -->'),
    writer,
    opts(),
  )!;
  assert.doesNotMatch(r.reply!, /\]\(https|@org|<!--/);
  const a = decide(record(), comment('/approve <!--reboot-pilot:reply-to'), writer, opts())!;
  assert.doesNotMatch(a.reply!, /<!--/);
});
