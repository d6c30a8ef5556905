// The GitHub edge on its own: makeOctokit's client, the issue and pull-request trackers and
// authorize, against the fake GitHub (every exchange validated against GitHub's OpenAPI
// description). The workflow around them is in test/integration/github.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FakeGitHub } from '../harness/github.ts';
import type { Octokit } from '../../src/github/octokit.ts';
import { IssueTracker, PullRequestTracker, LABEL } from '../../src/github/tracker.ts';
import { authorize } from '../../src/github/authorize.ts';
import { marker } from '../../src/github/body.ts';

const gh = new FakeGitHub({
  users: [
    { login: 'alice', role: 'admin' },
    { login: 'bob', role: 'write' },
    { login: 'carol', role: 'maintain' },
    { login: 'tina', role: 'triage' },
    { login: 'rita', role: 'read' },
    { login: 'dora', role: 'maintain', customRole: 'deployer' },
  ],
});
const repo = { owner: 'contoso', repo: 'platform' };
const logged: string[] = [];
let octokit: Octokit;

before(async () => {
  process.env.GITHUB_API_URL = await gh.start();
  // @actions/github reads GITHUB_API_URL when it loads, as in the action: load it after the fake is up.
  const { makeOctokit } = await import('../../src/github/octokit.ts');
  octokit = makeOctokit('ghs_fake-token', (line) => logged.push(line));
});
after(async () => {
  await gh.stop();
  assert.deepEqual(gh.violations, []);
  assert.deepEqual(logged, []);
});

test('authorize reads roles through the API, custom roles by their base role', async () => {
  const roles = Object.fromEntries(
    await Promise.all(
      ['alice', 'bob', 'carol', 'tina', 'rita', 'dora', 'mallory'].map(
        async (login) => [login, (await authorize(octokit, repo, login, [])).permission] as const,
      ),
    ),
  );
  assert.deepEqual(roles, {
    alice: 'admin',
    bob: 'write',
    carol: 'maintain',
    tina: 'triage',
    rita: 'read',
    dora: 'maintain',
    mallory: 'none',
  });
  gh.teams.set('sre', new Set(['bob']));
  assert.deepEqual(await authorize(octokit, repo, 'bob', ['contoso/sre', 'contoso/dba']), {
    permission: 'write',
    teams: ['contoso/sre'],
  });
  assert.deepEqual(await authorize(octokit, repo, 'carol', ['contoso/sre']), {
    permission: 'maintain',
    teams: [],
  });
});

test('the issue tracker opens, finds, comments, reacts, authorizes and closes', async () => {
  const tracker = new IssueTracker(octokit, repo);
  assert.equal(tracker.repository, 'contoso/platform');
  const body = `${marker('aks-prod')}\n\nthe plan`;
  const title = 'Reboot plan for aks-prod: 1 node(s)';
  const opened = await tracker.open('aks-prod', { title, body, files: {}, message: '' });
  assert.equal(opened.author, 'github-actions[bot]');
  const labels = gh.issues.get(opened.number)!.labels as { name: string }[];
  assert.deepEqual(
    labels.map((label) => label.name),
    [LABEL],
  );
  assert.equal((await tracker.find('aks-prod'))?.number, opened.number);
  assert.equal(await tracker.find('aks-other'), undefined);
  // A look-alike opened by a user is never the tracking item.
  gh.openIssue('bob', 'look-alike', marker('aks-prod'), [LABEL]);
  assert.equal((await tracker.find('aks-prod'))?.number, opened.number);

  const asked = gh.comment(opened.number, 'bob', '/status');
  const comments = await tracker.comments(opened);
  assert.deepEqual(
    comments.map((comment) => [comment.id, comment.login, comment.userType, comment.body]),
    [[asked.id, 'bob', 'User', '/status']],
  );
  await tracker.react(asked.id as number, 'eyes');
  assert.ok(gh.reactions.some((reaction) => reaction.subject === asked.id && reaction.content === 'eyes'));
  assert.deepEqual(await tracker.authorize('rita', []), { permission: 'read', teams: [] });

  await tracker.update(opened, `${body}\nrevised`, 'Reboot plan for aks-prod: 2 node(s)');
  assert.equal(gh.issues.get(opened.number)!.title, 'Reboot plan for aks-prod: 2 node(s)');
  await tracker.finish('aks-prod', opened, {
    ending: 'rejected',
    note: 'Plan rejected.',
    files: {},
    message: '',
  });
  const closed = await tracker.get(opened.number);
  assert.equal(closed.open, false);
  assert.equal(closed.closings.length, 1);
  assert.equal(gh.issues.get(opened.number)!.state_reason, 'not_planned');
  assert.equal(
    [...gh.comments.values()].filter((comment) => comment.issue === opened.number).pop()!.body,
    'Plan rejected.',
  );
});

test('the pull-request tracker commits the plan to its branch and merges only its own files', async () => {
  const warnings: string[] = [];
  const options = {
    base: '',
    branchPrefix: 'reboot-pilot/',
    directory: 'reboot-pilot',
    onComplete: 'merge' as const,
    log: (line: string) => warnings.push(line),
  };
  const tracker = new PullRequestTracker(octokit, repo, options);
  assert.equal(tracker.planPath('aks prod'), 'reboot-pilot/aks-prod/plan.json');
  const files = { 'plan.json': '{"planId":"x"}\n' };
  const revision = (message: string) => ({ title: 'Reboot plan', body: marker('aks prod'), files, message });
  const opened = await tracker.open('aks prod', revision('plan x'));
  assert.equal((await tracker.find('aks prod'))?.number, opened.number);
  assert.equal(await tracker.readFile('aks prod', 'reboot-pilot/aks-prod/plan.json'), files['plan.json']);

  const result = { 'result.md': 'done\n' };
  await tracker.finish('aks prod', opened, {
    ending: 'completed',
    note: 'All done.',
    files: result,
    message: 'Reboot plan x: completed\n\naudit',
  });
  assert.equal(gh.pulls.get(opened.number)!.merged, true);
  assert.deepEqual(warnings, []);

  // A second plan whose branch someone else changed too: not merged, and said so on the PR.
  const second = await tracker.open('aks prod', revision('plan y'));
  const branch = tracker.branch('aks prod');
  await octokit.rest.repos.createOrUpdateFileContents({
    ...repo,
    path: 'deploy/other.yaml',
    branch,
    message: 'not ours',
    content: Buffer.from('x: 1\n').toString('base64'),
  });
  const completed = { ending: 'completed' as const, note: 'All done.', files: result };
  await tracker.finish('aks prod', second, { ...completed, message: 'Reboot plan y: completed' });
  assert.equal(gh.pulls.get(second.number)!.merged, false);
  const last = [...gh.comments.values()].filter((comment) => comment.issue === second.number).pop()!;
  assert.match(
    String(last.body),
    /^Not merging: the branch also changes `deploy\/other\.yaml`, which are not/,
  );
});
