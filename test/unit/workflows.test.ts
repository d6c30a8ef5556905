// The ready-to-copy workflows: every input they pass exists in action.yml, every job declares
// least-privilege permissions, every job that can execute shares a per-cluster concurrency group
// that never cancels a running execution, every placeholder says "# EDIT:", the README's secrets
// table names exactly the secrets and variables each workflow reads, action.yml's and the README's
// `state` values are the states the code can return, and the comment filters (`if:`), evaluated by
// a real expression engine (nektos/act's), let no bot comment, other issue or edit start a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { spawnSync } from 'node:child_process';
import { ACTION_STATES } from '../../src/states.ts';
import { buildActionlint, buildEvaluator, evaluate, type ExpressionCase } from '../harness/expressions.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, unknown>;
  outputs: Record<string, { description: string }>;
};
const files = readdirSync(join(root, 'workflows')).filter((f) => f.endsWith('.yml'));
const text = (f: string) => readFileSync(join(root, 'workflows', f), 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface Step {
  uses?: string;
  if?: string;
  with?: Record<string, string>;
}
interface Job {
  if?: string;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  environment?: string;
  needs?: string[];
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: unknown;
  jobs: Record<string, Job>;
}
const workflow = (f: string) => parse(text(f)) as Workflow;
const ours = (job: Job) => job.steps.filter((s) => s.uses?.startsWith('reboot-pilot/reboot-pilot@'));

test('the workflows exist for each set-up', () => {
  assert.deepEqual(files.sort(), [
    'reboot-aks.yml',
    'reboot-approve.yml',
    'reboot-environment.yml',
    'reboot-fleet.yml',
    'reboot-plan.yml',
    'reboot-pr.yml',
  ]);
});

for (const f of files) {
  test(`${f}: known inputs, least privilege, a concurrency group that never cancels`, () => {
    const wf = workflow(f);
    assert.deepEqual(wf.permissions, {}, 'no workflow-wide permissions: each job asks for its own');
    for (const [name, job] of Object.entries(wf.jobs)) {
      const steps = ours(job);
      if (!steps.length) continue;
      for (const s of steps)
        for (const input of Object.keys(s.with ?? {}))
          assert.ok(input in action.inputs, `${f} ${name}: ${input} is not an input of action.yml`);
      const p = job.permissions ?? {};
      assert.ok(p.issues === 'write', `${f} ${name}: issues: write for the tracking item`);
      const pr = steps.some((s) => s.with?.tracking === 'pull-request');
      assert.equal(
        p['pull-requests'],
        pr ? 'write' : undefined,
        `${f} ${name}: pull-requests only in PR mode`,
      );
      assert.equal(p.contents, pr ? 'write' : 'read', `${f} ${name}: contents write only in PR mode`);
      const oidc = steps.some((s) => s.with?.['azure-credential'] === 'oidc');
      assert.equal(p['id-token'], oidc ? 'write' : undefined, `${f} ${name}: id-token only for OIDC`);
      assert.ok(job.concurrency, `${f} ${name}: a concurrency group`);
      assert.equal(
        job.concurrency['cancel-in-progress'],
        false,
        `${f} ${name}: never cancel a running execution`,
      );
    }
  });
}

// ---- "# EDIT:" markers -------------------------------------------------------------------------

/** Lines holding a value an adopter must adapt (those derived from the matrix are not). */
const PLACEHOLDER = [
  /^\s*runs-on:/,
  /^\s*group:/,
  /^\s*environment:/,
  /^\s*- cron:/,
  /^\s*(cluster-name|azure-resource-group|azure-cluster-name):/,
  /^\s*(azure-client-id|azure-tenant-id|azure-subscription-id):/,
  /^\s*(reboot-days|start-time|end-time|time-zone|blocking-pod-selector|node-selector):/,
  /^\s*include:/,
  /^\s*-?\s*(cluster|resource-group):\s*\S/,
  /\$\{\{\s*(secrets|vars)\./,
  /reboot-pilot:tracking cluster=[^'{]/,
];

/** Each placeholder line without "# EDIT:" on it (or, inside a block scalar, above its key). */
export function missingEditMarkers(source: string): string[] {
  const lines = source.split('\n');
  const indent = (l: string) => l.length - l.trimStart().length;
  const marked = (i: number) => lines[i]!.includes('# EDIT:') || (i > 0 && /^\s*# EDIT:/.test(lines[i - 1]!));
  const missing: string[] = [];
  lines.forEach((line, i) => {
    if (/^\s*#/.test(line) || !PLACEHOLDER.some((p) => p.test(line))) return;
    if (/\bmatrix\./.test(line) && !/(secrets|vars)\./.test(line)) return; // derived from the matrix entries
    if (marked(i)) return;
    // In a block scalar (an `if: >-`), the marker is a comment above its key.
    let k = i - 1;
    while (k >= 0 && !(indent(lines[k]!) < indent(line) && /^\s*-?\s*[\w-]+:/.test(lines[k]!))) k--;
    if (k >= 0 && /:\s*[>|][-+]?$/.test(lines[k]!.trimEnd()) && marked(k)) return;
    missing.push(`line ${i + 1}: ${line.trim()}`);
  });
  return missing;
}

for (const f of files) {
  test(`${f}: every placeholder is marked "# EDIT:"`, () => {
    assert.deepEqual(missingEditMarkers(text(f)), []);
    assert.match(text(f), /Every line to adapt says "# EDIT:"/, 'the header says how to read the markers');
  });
}

test('the marker check finds an unmarked placeholder, also inside an if: block', () => {
  const wf = [
    'jobs:',
    '  a:',
    '    if: >-',
    "      contains(github.event.issue.body, '<!-- reboot-pilot:tracking cluster=x -->')",
    '    runs-on: ubuntu-latest # EDIT: runner',
    '    steps:',
    '      - with:',
    '          cluster-name: x',
    '          state-key: ${{ secrets.K }}',
    '',
  ].join('\n');
  assert.deepEqual(missingEditMarkers(wf), [
    "line 4: contains(github.event.issue.body, '<!-- reboot-pilot:tracking cluster=x -->')",
    'line 8: cluster-name: x',
    'line 9: state-key: ${{ secrets.K }}',
  ]);
  assert.deepEqual(
    missingEditMarkers(
      wf
        .replace('    if: >-', '    # EDIT: cluster\n    if: >-')
        .replace('x\n          state', 'x # EDIT: c\n          state')
        .replace('K }}', 'K }} # EDIT: k'),
    ),
    [],
  );
});

// ---- one cluster's files agree ----------------------------------------------------------------

const WINDOW = [
  'reboot-days',
  'start-time',
  'end-time',
  'time-zone',
  'blocking-pod-selector',
  'cluster-name',
];
const settingsOf = (f: string, job: string) => ours(workflow(f).jobs[job]!)[0]!.with!;

test('reboot-plan.yml and reboot-approve.yml: one concurrency group, one cluster, one reboot window', () => {
  const plan = workflow('reboot-plan.yml').jobs.plan!;
  const approve = workflow('reboot-approve.yml').jobs['decide-and-execute']!;
  const approveSettings = settingsOf('reboot-approve.yml', 'decide-and-execute');
  assert.equal(plan.concurrency!.group, approve.concurrency!.group);
  for (const k of WINDOW)
    assert.equal(
      settingsOf('reboot-plan.yml', 'plan')[k],
      settingsOf('reboot-approve.yml', 'decide-and-execute')[k],
      k,
    );
  assert.ok(
    approve.if!.includes(`tracking cluster=${encodeURIComponent(approveSettings['cluster-name']!)} -->`),
  );
});

test('reboot-environment.yml: only the environment job holds the rebooting kubeconfig', () => {
  const wf = workflow('reboot-environment.yml');
  const kubeconfigSecret = (job: Job) => JSON.stringify(job.steps).match(/secrets\.(\w*KUBECONFIG\w*)/)?.[1];
  assert.equal(kubeconfigSecret(wf.jobs.plan!), 'REBOOT_PILOT_PLAN_KUBECONFIG');
  assert.equal(kubeconfigSecret(wf.jobs.decide!), 'REBOOT_PILOT_PLAN_KUBECONFIG');
  assert.equal(kubeconfigSecret(wf.jobs.execute!), 'REBOOT_PILOT_KUBECONFIG');
  assert.equal(wf.jobs.execute!.environment, 'reboot-production');
  for (const name of ['plan', 'decide']) assert.equal(wf.jobs[name]!.environment, undefined, name);
  assert.equal(settingsOf('reboot-environment.yml', 'plan').mode, 'plan');
  assert.equal(settingsOf('reboot-environment.yml', 'decide').mode, 'decide');
  assert.equal(wf.jobs.plan!.concurrency!.group, wf.jobs.execute!.concurrency!.group);
  assert.equal(wf.jobs.decide!.concurrency!.group, `${wf.jobs.execute!.concurrency!.group}-decide`);
  for (const name of ['plan', 'decide'])
    assert.equal(
      settingsOf('reboot-environment.yml', name)['cluster-name'],
      settingsOf('reboot-environment.yml', 'execute')['cluster-name'],
    );
});

test('the single-cluster AKS and fleet templates sign in with OIDC and write no kubeconfig', () => {
  for (const f of ['reboot-aks.yml', 'reboot-fleet.yml']) {
    assert.doesNotMatch(
      text(f),
      /^\s*kubeconfig:|KUBECONFIG/m,
      `${f}: a kubeconfig input would be used instead of AKS access`,
    );
    for (const job of Object.values(workflow(f).jobs))
      for (const s of ours(job)) assert.equal(s.with!['azure-credential'], 'oidc');
  }
});

test('templates differ only where the README says: window, timeout and artifact in every one', () => {
  for (const f of files) {
    const jobs = Object.values(workflow(f).jobs).filter((j) =>
      ours(j).some((s) => s.with?.mode !== 'decide'),
    );
    for (const job of jobs) {
      const w = ours(job)[0]!.with!;
      const executes = w.mode !== 'plan';
      if (executes || f === 'reboot-plan.yml')
        for (const k of ['reboot-days', 'start-time', 'end-time', 'time-zone'])
          assert.ok(k in w, `${f}: ${k}`);
      if (executes || f === 'reboot-plan.yml')
        assert.ok((job as { 'timeout-minutes'?: number })['timeout-minutes'], `${f}: timeout-minutes`);
    }
    const planning = 'schedule' in workflow(f).on;
    const pr = text(f).includes('tracking: pull-request');
    if (planning && !pr)
      assert.match(text(f), /actions\/upload-artifact@v4/, `${f}: the plan and full report as an artifact`);
  }
});

// ---- the README's secrets table ----------------------------------------------------------------

/** The README's "Secrets and variables per workflow" table: file → { secrets, variables }. */
function readmeSecrets(): Map<string, { secrets: string[]; variables: string[] }> {
  const at = readme.indexOf('### Secrets and variables per workflow');
  assert.ok(at >= 0, 'the README has a "Secrets and variables per workflow" section');
  const rows = readme
    .slice(at)
    .split('\n')
    .filter((l) => /^\| `reboot-[\w-]+\.yml`/.test(l));
  const names = (cell: string) => [...cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!).sort();
  return new Map(
    rows.map((r) => {
      const [, file, secrets, variables] = r.split('|').map((c) => c.trim());
      return [file!.replaceAll('`', ''), { secrets: names(secrets!), variables: names(variables!) }];
    }),
  );
}

for (const f of files) {
  test(`${f}: the README's secrets table names exactly the secrets and variables it reads`, () => {
    const uses = (kind: string) =>
      [
        ...new Set([...text(f).matchAll(new RegExp(`\\$\\{\\{\\s*${kind}\\.(\\w+)`, 'g'))].map((m) => m[1]!)),
      ].sort();
    const row = readmeSecrets().get(f);
    assert.ok(row, `a row for ${f}`);
    assert.deepEqual(row.secrets, uses('secrets'), `${f}: secrets`);
    assert.deepEqual(row.variables, uses('vars'), `${f}: variables`);
  });
}

// ---- state values ------------------------------------------------------------------------------

test("action.yml's and the README's `state` values are the states the code can return", () => {
  const documented = [
    ...action.outputs.state!.description.replace(/^One of: /, '').matchAll(/(?:^|; )([a-z-]+): /g),
  ].map((m) => m[1]);
  assert.deepEqual(documented, Object.keys(ACTION_STATES));
  const row = readme.split('\n').find((l) => l.startsWith('| `state` |'));
  assert.ok(row, "the README's outputs table has a state row");
  assert.deepEqual(
    [...row.matchAll(/`([a-z-]+)`/g)]
      .map((m) => m[1])
      .slice(1)
      .sort(),
    Object.keys(ACTION_STATES).sort(),
  );
});

// ---- the comment filters, through nektos/act's expression evaluator ----------------------------

const evaluator = buildEvaluator((l) => console.log(l));
const MARKER = (cluster: string) => `<!-- reboot-pilot:tracking cluster=${cluster} -->\n## Reboot plan`;
const human = { login: 'bob', type: 'User' };
const bot = { login: 'reboot-pilot[bot]', type: 'Bot' };

interface Payload {
  action?: 'created' | 'edited';
  comment?: string;
  from?: string;
  commenter?: typeof human;
  sender?: typeof human;
  pr?: boolean;
  opener?: typeof human;
  state?: 'open' | 'closed';
  body?: string;
}
/** An issue_comment event as GitHub sends it; by default a person's new /approve on an open tracking item. */
function commentEvent(cluster: string, p: Payload = {}): Record<string, unknown> {
  const commenter = p.commenter ?? human;
  return {
    action: p.action ?? 'created',
    issue: {
      number: 1,
      state: p.state ?? 'open',
      body: p.body ?? MARKER(cluster),
      user: p.opener ?? { login: 'github-actions[bot]', type: 'Bot' },
      ...(p.pr ? { pull_request: { url: 'https://api.github.com/repos/o/r/pulls/1' } } : {}),
    },
    comment: { id: 9, body: p.comment ?? '/approve 0123456789ab', user: commenter },
    sender: p.sender ?? commenter,
    ...(p.action === 'edited' ? { changes: { body: { from: p.from ?? 'looks good' } } } : {}),
  };
}

/** The attack payloads and the legitimate ones, with whether the job must run. */
function payloads(cluster: string, pr: boolean, anyCluster: boolean): [string, Payload, boolean][] {
  return [
    ["a person's new command", { pr }, true],
    [
      "a bot's comment (the action's own reply with an App token)",
      { pr, commenter: bot, comment: '/status' },
      false,
    ],
    [
      "a bot editing a person's comment",
      { pr, action: 'edited', sender: bot, from: '/approve 0123456789ab' },
      false,
    ],
    ['a comment on an issue without the tracking marker', { pr, body: 'please /approve this' }, false],
    ["a comment on another cluster's tracking issue", { pr, body: MARKER(`${cluster}-other`) }, anyCluster],
    ['a comment on a tracking marker copied into an issue a person opened', { pr, opener: human }, false],
    ['a comment on a closed tracking issue', { pr, state: 'closed' }, false],
    [pr ? 'an issue comment (not the pull request)' : 'a pull request comment', { pr: !pr }, false],
    ['a discussion comment', { pr, comment: 'thanks, looks good' }, false],
    [
      'an edit that withdraws an approval (answered)',
      { pr, action: 'edited', comment: 'never mind', from: '/approve 0123456789ab' },
      true,
    ],
    [
      'an edit that adds a command (answered, refused)',
      { pr, action: 'edited', comment: '/approve 0123456789ab' },
      true,
    ],
  ];
}

interface CommentJob {
  file: string;
  job: string;
  cluster: string;
  pr: boolean;
}
/** The jobs that read comments, and the cluster whose tracking item each belongs to ('' = any). */
const COMMENT_JOBS: CommentJob[] = [
  { file: 'reboot-approve.yml', job: 'decide-and-execute', cluster: 'prod-cluster', pr: false },
  { file: 'reboot-environment.yml', job: 'decide', cluster: 'prod-cluster', pr: false },
  { file: 'reboot-pr.yml', job: 'reboot-pilot', cluster: 'prod-cluster', pr: true },
  { file: 'reboot-aks.yml', job: 'reboot-pilot', cluster: 'aks-prod', pr: false },
  { file: 'reboot-fleet.yml', job: 'cluster', cluster: '', pr: false },
];

test('every workflow that reads comments is in the attack table', () => {
  const reading = files.filter((f) => 'issue_comment' in workflow(f).on).sort();
  assert.deepEqual([...new Set(COMMENT_JOBS.map((j) => j.file))].sort(), reading);
});

for (const j of COMMENT_JOBS) {
  test(`${j.file} ${j.job}: the if: filter (evaluated by nektos/act) on attack payloads`, () => {
    const expr = workflow(j.file).jobs[j.job]!.if!;
    const cases = payloads(j.cluster || 'aks-prod-weu', j.pr, !j.cluster);
    const results = evaluate(
      evaluator,
      cases.map(([, p]) => ({
        expr,
        eventName: 'issue_comment',
        event: commentEvent(j.cluster || 'aks-prod-weu', p),
      })),
    );
    cases.forEach(([name, , expected], i) => {
      assert.equal(results[i]!.error, undefined, `${name}: ${results[i]!.error}`);
      assert.equal(
        results[i]!.truthy,
        expected,
        `${j.file}: ${name} ${expected ? 'must' : 'must not'} run the job`,
      );
    });
  });
}

test('an edited comment runs in decide mode (answered, never executed); a new one executes', () => {
  for (const f of ['reboot-approve.yml', 'reboot-pr.yml', 'reboot-aks.yml', 'reboot-fleet.yml']) {
    const job = Object.values(workflow(f).jobs)[0]!;
    const mode = ours(job)[0]!.with!.mode!.replace(/^\$\{\{|\}\}$/g, '');
    const [created, edited, scheduled] = evaluate(evaluator, [
      { expr: mode, eventName: 'issue_comment', event: commentEvent('x') },
      { expr: mode, eventName: 'issue_comment', event: commentEvent('x', { action: 'edited' }) },
      { expr: mode, eventName: 'schedule', event: {} },
    ]);
    assert.equal(edited!.value, 'decide', f);
    assert.ok(['execute', 'auto'].includes(created!.value as string), `${f}: ${String(created!.value)}`);
    if (f !== 'reboot-approve.yml') assert.equal(scheduled!.value, 'auto', f);
  }
});

test('reboot-environment.yml: the execute job starts on a new approval or a due continuation only', () => {
  // Status functions are the runner's job state, not the event's: here every job succeeded.
  const expr = workflow('reboot-environment.yml').jobs.execute!.if!.replace('!cancelled() &&', '');
  const job = (state: string) => ({
    outputs: (state ? { state, 'plan-id': 'abc' } : {}) as Record<string, string>,
    result: state ? 'success' : 'skipped',
  });
  const needs = (decide: string, plan: string) => ({ decide: job(decide), plan: job(plan) });
  const cases: [string, ExpressionCase, boolean][] = [
    [
      'a new approval',
      { expr, eventName: 'issue_comment', event: commentEvent('prod-cluster'), needs: needs('approved', '') },
      true,
    ],
    [
      'an edit while approved',
      {
        expr,
        eventName: 'issue_comment',
        event: commentEvent('prod-cluster', { action: 'edited' }),
        needs: needs('approved', ''),
      },
      false,
    ],
    [
      'a comment while awaiting approval',
      {
        expr,
        eventName: 'issue_comment',
        event: commentEvent('prod-cluster'),
        needs: needs('awaiting-approval', ''),
      },
      false,
    ],
    [
      'the schedule finds a started execution due',
      { expr, eventName: 'schedule', event: {}, needs: needs('', 'executing') },
      true,
    ],
    [
      'the schedule finds an approved plan not started',
      { expr, eventName: 'schedule', event: {}, needs: needs('', 'approved') },
      false,
    ],
    [
      'the schedule finds a paused plan',
      { expr, eventName: 'schedule', event: {}, needs: needs('', 'paused') },
      false,
    ],
  ];
  const results = evaluate(
    evaluator,
    cases.map(([, c]) => c),
  );
  cases.forEach(([name, , expected], i) => assert.equal(results[i]!.truthy, expected, name));
});

test("reboot-fleet.yml: a comment runs only its own cluster's step, in that cluster's group", () => {
  const job = workflow('reboot-fleet.yml').jobs.cluster!;
  const group = job.concurrency!.group.replace(/^\$\{\{|\}\}$/g, '');
  const step = ours(job)[0]!.if!;
  const event = commentEvent('aks-prod-weu');
  const results = evaluate(
    evaluator,
    ['aks-prod-weu', 'aks-prod-neu', 'aks-prod'].flatMap((cluster) => [
      { expr: group, eventName: 'issue_comment', event, matrix: { cluster } },
      { expr: step, eventName: 'issue_comment', event, matrix: { cluster } },
    ]),
  );
  assert.deepEqual(
    results.map((r) => r.value),
    [
      'reboot-pilot-aks-prod-weu',
      true,
      'reboot-pilot-noop-aks-prod-neu-7',
      false,
      // A name that is a prefix of another cluster's does not match it: the marker ends with " -->".
      'reboot-pilot-noop-aks-prod-7',
      false,
    ],
  );
});

// ---- the README's links ------------------------------------------------------------------------

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

const headingsOf = (markdown: string) =>
  new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));

test("the README's and CONTRIBUTING's links to sections and files resolve", () => {
  for (const file of ['README.md', 'CONTRIBUTING.md']) {
    const body = readFileSync(join(root, file), 'utf8');
    const own = headingsOf(body);
    for (const [, target] of body.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^https?:/.test(target!)) continue;
      const [path, hash] = target!.split('#');
      assert.ok(!path || existsSync(join(root, path)), `${file}: ${target} names a missing file`);
      if (!hash) continue;
      const headings = path ? headingsOf(readFileSync(join(root, path), 'utf8')) : own;
      assert.ok(headings.has(hash), `${file}: ${target} names no heading`);
    }
  }
});

// ---- actionlint ---------------------------------------------------------------------------------

test('actionlint finds nothing in the workflows (syntax, expressions, contexts, needs outputs)', () => {
  const actionlint = buildActionlint((l) => console.log(l));
  const paths = files.map((f) => join(root, 'workflows', f));
  const r = spawnSync(actionlint, ['-shellcheck=', '-pyflakes=', '-no-color', ...paths], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // It does find a wrong job name in an expression, the kind of mistake a copy-and-edit makes.
  const bad = text('reboot-environment.yml').replace(
    'needs.decide.outputs.state',
    'needs.decid.outputs.state',
  );
  const bad2 = spawnSync(actionlint, ['-shellcheck=', '-pyflakes=', '-no-color', '-'], {
    input: bad,
    encoding: 'utf8',
  });
  assert.equal(bad2.status, 1);
  assert.match(bad2.stdout, /property "decid" is not defined/);
});
