// The fake GitHub server itself: real Octokit (from @actions/github, pointed at it through
// GITHUB_API_URL as the action will be) against it, every exchange validated against GitHub's
// OpenAPI description; and proof that the validation bites.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FakeGitHub } from '../harness/github.ts';

const gh = new FakeGitHub({ users: [{ login: 'alice', role: 'admin' }, { login: 'bob', role: 'write' }, { login: 'tim', role: 'triage' }, { login: 'rita', role: 'read' }] });
let octokit: ReturnType<typeof import('@actions/github').getOctokit>;

before(async () => {
  process.env.GITHUB_API_URL = await gh.start();
  const github = await import('@actions/github');
  octokit = github.getOctokit('ghs_fake-token');
});
after(() => gh.stop());

test('issues, comments, reactions and permissions through real Octokit, every exchange valid', async () => {
  const repo = { owner: 'contoso', repo: 'platform' };
  const issue = await octokit.rest.issues.create({ ...repo, title: 'Reboot plan for aks-prod', body: '<!-- reboot-pilot cluster=aks-prod -->\nplan', labels: ['reboot-pilot'] });
  assert.equal(issue.status, 201);
  assert.equal(issue.data.number, 1);
  const found = await octokit.rest.issues.listForRepo({ ...repo, labels: 'reboot-pilot', state: 'open' });
  assert.deepEqual(found.data.map((i) => i.number), [1]);
  gh.comment(1, 'bob', '/approve a3f1c9e27b4d');
  const comments = await octokit.rest.issues.listComments({ ...repo, issue_number: 1 });
  assert.equal(comments.data[0]!.user!.login, 'bob');
  assert.equal((await octokit.rest.reactions.createForIssueComment({ ...repo, comment_id: comments.data[0]!.id, content: 'rocket' })).status, 201);
  await octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'Approved.' });
  await octokit.rest.issues.update({ ...repo, issue_number: 1, body: 'updated', state: 'closed', state_reason: 'completed' });
  const perms = await Promise.all(['alice', 'bob', 'tim', 'rita'].map((username) => octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username })));
  assert.deepEqual(perms.map((p) => p.data.role_name), ['admin', 'write', 'triage', 'read']);
  assert.deepEqual(perms.map((p) => p.data.permission), ['admin', 'write', 'read', 'read']);
  await assert.rejects(octokit.rest.teams.getMembershipForUserInOrg({ org: 'contoso', team_slug: 'platform', username: 'bob' }), /Not Found/);
  gh.teams.set('platform', new Set(['bob']));
  assert.equal((await octokit.rest.teams.getMembershipForUserInOrg({ org: 'contoso', team_slug: 'platform', username: 'bob' })).data.state, 'active');
  assert.deepEqual(gh.violations, []);
});

test('pagination follows the Link header', async () => {
  for (let i = 0; i < 120; i++) gh.comment(1, 'alice', `comment ${i}`);
  const all = await octokit.paginate(octokit.rest.issues.listComments, { owner: 'contoso', repo: 'platform', issue_number: 1, per_page: 50 });
  assert.equal(all.length, 122);
  assert.deepEqual(gh.violations, []);
});

test('requests GitHub would reject are recorded as violations', async () => {
  const before = gh.violations.length;
  // A misspelt field, as a hand-written request could send it.
  await assert.rejects(octokit.request('POST /repos/{owner}/{repo}/issues', { owner: 'contoso', repo: 'platform', titel: 'typo' } as never));
  await assert.rejects(octokit.request('GET /repos/{owner}/{repo}/no-such-thing', { owner: 'contoso', repo: 'platform' }));
  const found = gh.violations.splice(before);
  assert.equal(found.length, 2);
  assert.match(found[0]!, /POST \/repos\/\{owner\}\/\{repo\}\/issues: request body does not match the description: .*title/);
  assert.match(found[1]!, /no such operation in GitHub's REST API/);
});
