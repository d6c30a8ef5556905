// The fake GitHub server itself: real Octokit (from @actions/github, pointed at it through
// GITHUB_API_URL as the action will be) against it, every exchange validated against GitHub's
// OpenAPI description; and proof that the validation bites.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { FakeGitHub } from '../harness/github.ts';

const gh = new FakeGitHub({
  users: [
    { login: 'alice', role: 'admin' },
    { login: 'bob', role: 'write' },
    { login: 'tim', role: 'triage' },
    { login: 'rita', role: 'read' },
  ],
});
let octokit: ReturnType<typeof import('@actions/github').getOctokit>;

before(async () => {
  process.env.GITHUB_API_URL = await gh.start();
  const github = await import('@actions/github');
  octokit = github.getOctokit('ghs_fake-token');
});
after(() => gh.stop());

test('issues, comments, reactions and permissions through real Octokit, every exchange valid', async () => {
  const repo = { owner: 'contoso', repo: 'platform' };
  const issue = await octokit.rest.issues.create({
    ...repo,
    title: 'Reboot plan for aks-prod',
    body: '<!-- reboot-pilot cluster=aks-prod -->\nplan',
    labels: ['reboot-pilot'],
  });
  assert.equal(issue.status, 201);
  assert.equal(issue.data.number, 1);
  const found = await octokit.rest.issues.listForRepo({ ...repo, labels: 'reboot-pilot', state: 'open' });
  assert.deepEqual(
    found.data.map((i) => i.number),
    [1],
  );
  gh.comment(1, 'bob', '/approve a3f1c9e27b4d');
  const comments = await octokit.rest.issues.listComments({ ...repo, issue_number: 1 });
  assert.equal(comments.data[0]!.user!.login, 'bob');
  assert.equal(
    (
      await octokit.rest.reactions.createForIssueComment({
        ...repo,
        comment_id: comments.data[0]!.id,
        content: 'rocket',
      })
    ).status,
    201,
  );
  await octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'Approved.' });
  await octokit.rest.issues.update({
    ...repo,
    issue_number: 1,
    body: 'updated',
    state: 'closed',
    state_reason: 'completed',
  });
  const perms = await Promise.all(
    ['alice', 'bob', 'tim', 'rita'].map((username) =>
      octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username }),
    ),
  );
  assert.deepEqual(
    perms.map((p) => p.data.role_name),
    ['admin', 'write', 'triage', 'read'],
  );
  assert.deepEqual(
    perms.map((p) => p.data.permission),
    ['admin', 'write', 'read', 'read'],
  );
  await assert.rejects(
    octokit.rest.teams.getMembershipForUserInOrg({ org: 'contoso', team_slug: 'platform', username: 'bob' }),
    /Not Found/,
  );
  gh.teams.set('platform', new Set(['bob']));
  assert.equal(
    (
      await octokit.rest.teams.getMembershipForUserInOrg({
        org: 'contoso',
        team_slug: 'platform',
        username: 'bob',
      })
    ).data.state,
    'active',
  );
  assert.deepEqual(gh.violations, []);
});

test('pagination follows the Link header', async () => {
  for (let i = 0; i < 120; i++) gh.comment(1, 'alice', `comment ${i}`);
  const all = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: 'contoso',
    repo: 'platform',
    issue_number: 1,
    per_page: 50,
  });
  assert.equal(all.length, 122);
  assert.deepEqual(gh.violations, []);
});

test('requests GitHub would reject are recorded as violations', async () => {
  const before = gh.violations.length;
  // A misspelt field, as a hand-written request could send it.
  await assert.rejects(
    octokit.request('POST /repos/{owner}/{repo}/issues', {
      owner: 'contoso',
      repo: 'platform',
      titel: 'typo',
    } as never),
  );
  await assert.rejects(
    octokit.request('GET /repos/{owner}/{repo}/no-such-thing', { owner: 'contoso', repo: 'platform' }),
  );
  const found = gh.violations.splice(before);
  assert.equal(found.length, 2);
  assert.match(
    found[0]!,
    /POST \/repos\/\{owner\}\/\{repo\}\/issues: request body does not match the description: .*title/,
  );
  assert.match(found[1]!, /no such operation in GitHub's REST API/);
});

// ---------- PR mode: branches, contents, pull requests, reviews ----------

const repo = { owner: 'contoso', repo: 'platform' };
const branch = 'reboot-pilot/aks-prod';
/** Git's blob id of `text`, as `git hash-object` computes it. */
const blob = (text: string) =>
  createHash('sha1')
    .update(`blob ${Buffer.byteLength(text)}\0${text}`)
    .digest('hex');
const status = (code: number) => (e: unknown) => (e as { status?: number }).status === code;
const b64 = (text: string) => Buffer.from(text).toString('base64');

test('repository, refs and contents: a plan committed to a new branch', async () => {
  const r = await octokit.rest.repos.get(repo);
  assert.equal(r.data.default_branch, 'main');
  assert.equal(r.data.permissions!.push, true);
  const main = await octokit.rest.git.getRef({ ...repo, ref: 'heads/main' });
  assert.equal(main.data.ref, 'refs/heads/main');
  await assert.rejects(octokit.rest.git.getRef({ ...repo, ref: `heads/${branch}` }), status(404));
  const created = await octokit.rest.git.createRef({
    ...repo,
    ref: `refs/heads/${branch}`,
    sha: main.data.object.sha,
  });
  assert.equal(created.status, 201);
  assert.equal(
    (await octokit.rest.git.getRef({ ...repo, ref: `heads/${branch}` })).data.object.sha,
    main.data.object.sha,
  );
  await assert.rejects(
    octokit.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha: main.data.object.sha }),
    status(422),
  );

  const path = 'plans/aks-prod/plan.json';
  await assert.rejects(octokit.rest.repos.getContent({ ...repo, path, ref: branch }), status(404));
  const plan = '{"cluster":"aks-prod","nodes":["aks-nodepool1-0"]}\n';
  const put = await octokit.rest.repos.createOrUpdateFileContents({
    ...repo,
    path,
    branch,
    message: 'Plan for aks-prod',
    content: b64(plan),
  });
  assert.equal(put.status, 201);
  assert.equal(put.data.content!.sha, blob(plan));
  const report = await octokit.rest.repos.createOrUpdateFileContents({
    ...repo,
    path: 'plans/aks-prod/report.md',
    branch,
    message: 'Report for aks-prod',
    content: b64('# Report\n'),
  });
  const got = await octokit.rest.repos.getContent({ ...repo, path, ref: branch });
  assert.ok(!Array.isArray(got.data) && got.data.type === 'file');
  assert.equal(Buffer.from(got.data.content, 'base64').toString(), plan);
  assert.equal(got.data.sha, blob(plan));
  // Unencoded slashes reach the same file.
  const raw = await octokit.request('GET /repos/{owner}/{repo}/contents/{+path}', {
    ...repo,
    path,
    ref: branch,
  });
  assert.equal((raw.data as { sha: string }).sha, blob(plan));
  await assert.rejects(octokit.rest.repos.getContent({ ...repo, path }), status(404), 'not on main');

  const revised = plan.replace(']', ',"aks-nodepool1-1"]');
  await assert.rejects(
    octokit.rest.repos.createOrUpdateFileContents({
      ...repo,
      path,
      branch,
      message: 'x',
      content: b64(revised),
    }),
    status(422),
    'updating without the sha',
  );
  await assert.rejects(
    octokit.rest.repos.createOrUpdateFileContents({
      ...repo,
      path,
      branch,
      message: 'x',
      content: b64(revised),
      sha: blob('stale'),
    }),
    status(409),
    'stale sha',
  );
  await assert.rejects(
    octokit.rest.repos.createOrUpdateFileContents({
      ...repo,
      path,
      branch: 'no-such-branch',
      message: 'x',
      content: b64(revised),
    }),
    status(404),
  );
  const updated = await octokit.rest.repos.createOrUpdateFileContents({
    ...repo,
    path,
    branch,
    message: 'Plan for aks-prod, revised',
    content: b64(revised),
    sha: got.data.sha,
  });
  assert.equal(updated.status, 200);
  assert.deepEqual(
    updated.data.commit.parents!.map((x) => x.sha),
    [report.data.commit.sha],
  );
  assert.equal(gh.branches.get(branch), updated.data.commit.sha);

  const dir = await octokit.rest.repos.getContent({ ...repo, path: 'plans/aks-prod', ref: branch });
  assert.ok(Array.isArray(dir.data));
  assert.deepEqual(
    dir.data.map((e) => [e.name, e.type]),
    [
      ['plan.json', 'file'],
      ['report.md', 'file'],
    ],
  );
  const parent = await octokit.rest.repos.getContent({ ...repo, path: 'plans', ref: branch });
  assert.deepEqual(
    (parent.data as { name: string; type: string }[]).map((e) => [e.name, e.type]),
    [['aks-prod', 'dir']],
  );

  assert.equal(gh.file(branch, path), revised);
  assert.equal(gh.file('main', path), undefined);
  assert.deepEqual(gh.commitMessages(branch), [
    'Plan for aks-prod, revised',
    'Report for aks-prod',
    'Plan for aks-prod',
    'Initial commit',
  ]);
  assert.deepEqual(gh.commitMessages('main'), ['Initial commit']);

  // Refs move forward only, unless forced.
  await assert.rejects(
    octokit.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha: main.data.object.sha }),
    status(422),
  );
  await octokit.rest.git.createRef({ ...repo, ref: 'refs/heads/scratch', sha: main.data.object.sha });
  assert.equal(
    (await octokit.rest.git.updateRef({ ...repo, ref: 'heads/scratch', sha: updated.data.commit.sha! })).data
      .object.sha,
    updated.data.commit.sha,
  );
  const gone = await octokit.rest.repos.deleteFile({
    ...repo,
    path,
    branch: 'scratch',
    message: 'Drop the plan',
    sha: blob(revised),
  });
  assert.equal(gone.data.content, null);
  assert.equal(gh.file('scratch', path), undefined);
  assert.equal((await octokit.rest.git.deleteRef({ ...repo, ref: 'heads/scratch' })).status, 204);
  assert.equal(gh.branches.has('scratch'), false);
  assert.deepEqual(gh.violations, []);
});

test('pull requests: opened from the plan branch, discussed and reviewed as an issue, result committed, squash-merged', async () => {
  const title = 'Reboot plan for aks-prod';
  const pr = await octokit.rest.pulls.create({
    ...repo,
    title,
    head: branch,
    base: 'main',
    body: 'Approve with `/approve`.',
  });
  assert.equal(pr.status, 201);
  const n = pr.data.number;
  assert.equal(n, gh.issues.size, 'pull requests take the next issue number');
  assert.equal(pr.data.head.ref, branch);
  assert.equal(pr.data.head.sha, gh.branches.get(branch));
  assert.equal(pr.data.commits, 3);
  assert.equal(pr.data.mergeable, true);
  await assert.rejects(
    octokit.rest.pulls.create({ ...repo, title, head: branch, base: 'main' }),
    /already exists/,
  );

  // Filters: state, base, and head as owner:branch (GitHub ignores a head without the owner).
  assert.deepEqual(
    (await octokit.rest.pulls.list({ ...repo, head: `contoso:${branch}` })).data.map((p) => p.number),
    [n],
  );
  assert.deepEqual((await octokit.rest.pulls.list({ ...repo, head: 'contoso:other' })).data, []);
  assert.deepEqual(
    (await octokit.rest.pulls.list({ ...repo, head: 'other' })).data.map((p) => p.number),
    [n],
  );
  assert.deepEqual((await octokit.rest.pulls.list({ ...repo, base: 'release' })).data, []);
  assert.deepEqual((await octokit.rest.pulls.list({ ...repo, state: 'closed' })).data, []);

  // The pull request is an issue: listed with a pull_request object, commented on, edited.
  const asIssue = (await octokit.rest.issues.listForRepo({ ...repo, state: 'open' })).data.find(
    (i) => i.number === n,
  )!;
  assert.equal(asIssue.pull_request!.merged_at, null);
  assert.equal((await octokit.rest.issues.get({ ...repo, issue_number: n })).data.title, title);
  gh.comment(n, 'bob', '/approve a3f1c9e27b4d');
  const comments = await octokit.rest.issues.listComments({ ...repo, issue_number: n });
  assert.deepEqual(
    comments.data.map((c) => c.user!.login),
    ['bob'],
  );
  assert.match(comments.data[0]!.html_url, /\/pull\/\d+#issuecomment-/);
  await octokit.rest.reactions.createForIssueComment({
    ...repo,
    comment_id: comments.data[0]!.id,
    content: '+1',
  });
  await octokit.rest.issues.createComment({ ...repo, issue_number: n, body: 'Approved by @bob.' });
  await octokit.rest.pulls.update({ ...repo, pull_number: n, body: 'Approved by @bob; rebooting.' });
  assert.equal(
    (await octokit.rest.issues.get({ ...repo, issue_number: n })).data.body,
    'Approved by @bob; rebooting.',
  );

  // Reviews: users review in the web UI; the action may comment on its own pull request but not approve it.
  gh.review(n, 'alice', 'APPROVE');
  gh.review(n, 'rita', 'REQUEST_CHANGES', 'Not during the freeze.');
  assert.throws(() => gh.review(n, gh.actor, 'APPROVE'));
  await assert.rejects(
    octokit.rest.pulls.createReview({ ...repo, pull_number: n, event: 'APPROVE' }),
    status(422),
  );
  assert.equal(
    (
      await octokit.rest.pulls.createReview({
        ...repo,
        pull_number: n,
        event: 'COMMENT',
        body: 'Waiting for a maintainer.',
      })
    ).data.state,
    'COMMENTED',
  );
  const reviews = await octokit.rest.pulls.listReviews({ ...repo, pull_number: n });
  assert.deepEqual(
    reviews.data.map((r) => [r.user!.login, r.state]),
    [
      ['alice', 'APPROVED'],
      ['rita', 'CHANGES_REQUESTED'],
      [gh.actor, 'COMMENTED'],
    ],
  );
  assert.equal(reviews.data[0]!.commit_id, pr.data.head.sha);

  // The result lands on the branch, then the pull request is merged at the head it was checked at.
  await octokit.rest.repos.createOrUpdateFileContents({
    ...repo,
    path: 'plans/aks-prod/result.json',
    branch,
    message: 'Result for aks-prod',
    content: b64('{"rebooted":2}\n'),
  });
  const ready = await octokit.rest.pulls.get({ ...repo, pull_number: n });
  assert.equal(ready.data.commits, 4);
  assert.equal(ready.data.mergeable_state, 'clean');
  assert.deepEqual(
    (await octokit.rest.pulls.listFiles({ ...repo, pull_number: n })).data.map((f) => [f.filename, f.status]),
    [
      ['plans/aks-prod/plan.json', 'added'],
      ['plans/aks-prod/report.md', 'added'],
      ['plans/aks-prod/result.json', 'added'],
    ],
  );
  await assert.rejects(
    octokit.rest.pulls.merge({ ...repo, pull_number: n, sha: pr.data.head.sha }),
    status(409),
    'the head moved',
  );
  const merged = await octokit.rest.pulls.merge({
    ...repo,
    pull_number: n,
    merge_method: 'squash',
    sha: ready.data.head.sha,
  });
  assert.equal(merged.data.merged, true);
  assert.equal(gh.isMerged(n), true);
  assert.equal(gh.branches.get('main'), merged.data.sha);
  assert.equal(gh.file('main', 'plans/aks-prod/result.json'), '{"rebooted":2}\n');
  assert.deepEqual(gh.commitMessages('main'), [
    `${title} (#${n})\n\n* Plan for aks-prod\n\n* Report for aks-prod\n\n* Plan for aks-prod, revised\n\n* Result for aks-prod`,
    'Initial commit',
  ]);
  const after = await octokit.rest.pulls.get({ ...repo, pull_number: n });
  assert.equal(after.data.state, 'closed');
  assert.equal(after.data.merged_by!.login, gh.actor);
  assert.equal(after.data.merge_commit_sha, merged.data.sha);
  assert.equal((await octokit.rest.pulls.checkIfMerged({ ...repo, pull_number: n })).status, 204);
  assert.notEqual(
    (await octokit.rest.issues.get({ ...repo, issue_number: n })).data.pull_request!.merged_at,
    null,
  );
  await assert.rejects(octokit.rest.pulls.merge({ ...repo, pull_number: n }), status(405), 'already merged');
  await assert.rejects(
    octokit.rest.pulls.update({ ...repo, pull_number: n, state: 'open' }),
    status(422),
    'a merged pull request stays closed',
  );
  assert.equal((await octokit.rest.git.deleteRef({ ...repo, ref: `heads/${branch}` })).status, 204);
  assert.equal(
    (await octokit.rest.pulls.get({ ...repo, pull_number: n })).data.head.sha,
    ready.data.head.sha,
    'a closed pull request keeps its head',
  );
  assert.deepEqual(gh.violations, []);
});

test('pull requests: closed ones do not merge, merge commits, conflicts, and branches that go away', async () => {
  await assert.rejects(
    octokit.rest.pulls.create({ ...repo, title: 'x', head: 'no-such-branch', base: 'main' }),
    status(422),
    'head must exist',
  );
  await assert.rejects(
    octokit.rest.pulls.create({ ...repo, title: 'x', head: 'main', base: 'main' }),
    /No commits between main and main/,
  );

  gh.push('reboot-pilot/aks-dev', { 'plans/aks-dev/plan.json': '{}\n' }, 'Plan for aks-dev');
  const { data: pr } = await octokit.rest.pulls.create({
    ...repo,
    title: 'Reboot plan for aks-dev',
    head: 'reboot-pilot/aks-dev',
    base: 'main',
  });
  assert.equal(pr.body, null);
  await octokit.rest.pulls.update({ ...repo, pull_number: pr.number, state: 'closed' });
  await assert.rejects(octokit.rest.pulls.merge({ ...repo, pull_number: pr.number }), status(405), 'closed');
  assert.equal(gh.isMerged(pr.number), false);
  // Reopened (as an issue, which a pull request also is), it merges with a merge commit.
  await octokit.rest.issues.update({ ...repo, issue_number: pr.number, state: 'open' });
  const before = gh.branches.get('main')!;
  const merged = await octokit.rest.pulls.merge({ ...repo, pull_number: pr.number, merge_method: 'merge' });
  assert.deepEqual(gh.commits.get(merged.data.sha)!.parents, [
    before,
    gh.branches.get('reboot-pilot/aks-dev'),
  ]);
  assert.equal(
    gh.commitMessages('main')[0],
    `Merge pull request #${pr.number} from contoso/reboot-pilot/aks-dev\n\nReboot plan for aks-dev`,
  );
  assert.equal(gh.file('main', 'plans/aks-dev/plan.json'), '{}\n');

  // Both sides change README.md: not mergeable.
  gh.push('docs', { 'README.md': '# platform\n\nReboots are planned.\n' }, 'Document reboots', 'bob');
  const { data: docs } = await octokit.rest.pulls.create({
    ...repo,
    title: 'Docs',
    head: 'docs',
    base: 'main',
    draft: false,
  });
  gh.push('main', { 'README.md': '# platform\n\nSee the wiki.\n' }, 'Point at the wiki', 'alice');
  const dirty = await octokit.rest.pulls.get({ ...repo, pull_number: docs.number });
  assert.equal(dirty.data.mergeable, false);
  assert.equal(dirty.data.mergeable_state, 'dirty');
  await assert.rejects(
    octokit.rest.pulls.merge({ ...repo, pull_number: docs.number }),
    status(405),
    'conflicts',
  );
  // Once the branch agrees with main on README.md, the three-way merge is clean.
  gh.push(
    'docs',
    { 'README.md': '# platform\n\nSee the wiki.\n', 'docs/reboots.md': 'Planned.\n' },
    "Take main's README",
    'bob',
  );
  assert.equal((await octokit.rest.pulls.get({ ...repo, pull_number: docs.number })).data.mergeable, true);
  await octokit.rest.pulls.merge({ ...repo, pull_number: docs.number });
  assert.equal(gh.file('main', 'docs/reboots.md'), 'Planned.\n');
  // Rebase replays the branch's commits on main, one new commit each.
  gh.push('notes', { 'docs/a.md': 'a\n' }, 'Note a', 'bob');
  gh.push('notes', { 'docs/b.md': 'b\n' }, 'Note b', 'bob');
  const { data: notes } = await octokit.rest.pulls.create({
    ...repo,
    title: 'Notes',
    head: 'notes',
    base: 'main',
  });
  const rebased = await octokit.rest.pulls.merge({
    ...repo,
    pull_number: notes.number,
    merge_method: 'rebase',
  });
  assert.deepEqual(gh.commitMessages('main').slice(0, 3), [
    'Note b',
    'Note a',
    `Merge pull request #${docs.number} from contoso/docs\n\nDocs`,
  ]);
  assert.notEqual(rebased.data.sha, gh.branches.get('notes'));

  // Deleting a head branch closes its open pull request, which can then not be reopened.
  gh.push('stale', { 'x.txt': 'x\n' }, 'Stale work', 'bob');
  const { data: stale } = await octokit.rest.pulls.create({
    ...repo,
    title: 'Stale',
    head: 'stale',
    base: 'main',
  });
  await octokit.rest.git.deleteRef({ ...repo, ref: 'heads/stale' });
  assert.equal((await octokit.rest.pulls.get({ ...repo, pull_number: stale.number })).data.state, 'closed');
  await assert.rejects(
    octokit.rest.pulls.update({ ...repo, pull_number: stale.number, state: 'open' }),
    status(422),
  );
  await assert.rejects(
    octokit.rest.git.deleteRef({ ...repo, ref: 'heads/main' }),
    status(422),
    'the default branch stays',
  );
  assert.deepEqual(
    (await octokit.rest.pulls.list({ ...repo, state: 'all', per_page: 2 })).data.map((p) => p.number),
    [stale.number, notes.number],
  );
  assert.deepEqual(gh.violations, []);
});

test("GitHub's documented limits: bodies over 65,536 characters and titles over 256 are refused with GitHub's 422; custom roles report their base role only in user.permissions; closings are issue events", async () => {
  const repo = { owner: 'contoso', repo: 'platform' };
  const big = 'x'.repeat(65_537);
  const refused = async (call: Promise<unknown>, field: string) => {
    const e = (await call.then(
      () => undefined,
      (x: unknown) => x,
    )) as {
      status: number;
      response: { data: { message: string; errors: { field: string; message: string }[] } };
    };
    assert.equal(e.status, 422);
    assert.equal(e.response.data.message, 'Validation Failed');
    assert.match(
      e.response.data.errors[0]!.message,
      new RegExp(`${field} is too long \\(maximum is \\d+ characters\\)`),
    );
  };
  await refused(octokit.rest.issues.create({ ...repo, title: 't', body: big }), 'body');
  await refused(octokit.rest.issues.create({ ...repo, title: 't'.repeat(257), body: 'b' }), 'title');
  const issue = await octokit.rest.issues.create({ ...repo, title: 't', body: 'x'.repeat(65_536) });
  await refused(octokit.rest.issues.update({ ...repo, issue_number: issue.data.number, body: big }), 'body');
  await refused(
    octokit.rest.issues.createComment({ ...repo, issue_number: issue.data.number, body: big }),
    'body',
  );
  gh.addUser({ login: 'mona', role: 'maintain', customRole: 'release-manager' });
  const p = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: 'mona' });
  assert.equal(p.data.role_name, 'release-manager');
  assert.equal(p.data.permission, 'write', 'the legacy field reads Maintain as write');
  assert.equal(p.data.user!.permissions!.maintain, true);
  gh.byHand(issue.data.number, 'tim', 'closed');
  gh.byHand(issue.data.number, 'tim', 'open');
  const events = await octokit.rest.issues.listEvents({ ...repo, issue_number: issue.data.number });
  assert.deepEqual(
    events.data.map((e) => [e.event, 'actor' in e ? e.actor.login : '']),
    [
      ['closed', 'tim'],
      ['reopened', 'tim'],
    ],
  );
  assert.deepEqual(gh.violations, []);
});
