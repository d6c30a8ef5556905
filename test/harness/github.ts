// A loopback fake of GitHub's REST API that keeps state (issues, comments, reactions,
// collaborator permissions, team memberships, and a small git model behind branches, contents,
// pull requests and reviews) and validates every request it receives and every
// response it sends against GitHub's published OpenAPI description (@octokit/openapi). Anything
// that does not match the description is recorded in `violations`; tests assert there are none.
// Point @actions/github at it with GITHUB_API_URL.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const require = createRequire(import.meta.url);
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

type Json = Record<string, unknown>;
interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  params: string[];
  /** The last parameter spans several segments (a file path, a ref like heads/feature/x). */
  greedy: boolean;
  op: Json;
}

let loaded: { ajv: Ajv; ops: Operation[]; spec: Json } | undefined;

/** GitHub's description, loaded and indexed once per process (13 MB). */
function description() {
  if (loaded) return loaded;
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as {
    paths: Record<string, Record<string, Json>>;
    components: Json;
  };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, discriminator: false });
  addFormats(ajv);
  for (const f of [
    'uri-template',
    'repo.nwo',
    'ssh-key',
    'ssh-key fingerprint',
    'int32',
    'int64',
    'binary',
    'byte',
  ])
    ajv.addFormat(f, true);
  ajv.addSchema({ $id: 'gh.json', components: rewriteRefs(spec.components) });
  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries(spec.paths)) {
    const params: string[] = [];
    // GitHub takes a trailing {path} or {ref} with its slashes, raw or as %2F (Octokit sends %2F).
    const greedy = /\{(path|ref)\}$/.test(template);
    const count = (template.match(/\{/g) ?? []).length;
    const regex = new RegExp(
      `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_m, p: string) => (params.push(p), greedy && params.length === count ? '(.+)' : '([^/]+)'))}$`,
    );
    for (const [method, op] of Object.entries(methods))
      if (['get', 'post', 'patch', 'put', 'delete'].includes(method))
        ops.push({ method: method.toUpperCase(), template, regex, params: [...params], greedy, op });
  }
  // Literal segments before templated ones: /issues/comments/{id} before /issues/{issue_number};
  // multi-segment parameters last, so they cannot swallow /commits/{ref}/status and the like.
  ops.sort((a, b) => Number(a.greedy) - Number(b.greedy) || a.params.length - b.params.length);
  loaded = { ajv, ops, spec: spec as unknown as Json };
  return loaded;
}

/**
 * Makes the description's schemas compile in Ajv: $refs point into the registered document, and
 * OpenAPI 3.0's `nullable` without a `type` (next to allOf/anyOf) becomes "or null".
 */
function rewriteRefs<T>(v: T): T {
  if (Array.isArray(v)) return v.map(rewriteRefs) as T;
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, x] of Object.entries(v as Json))
      out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/') ? `gh.json${x}` : rewriteRefs(x);
    // Ajv wants null in a nullable enum; GitHub's description leaves it implicit.
    if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null))
      out.enum = [...(out.enum as unknown[]), null];
    if (out.nullable === true && out.type === undefined) {
      const { nullable: _n, ...rest } = out;
      return { anyOf: [rest, { type: 'null' }] } as T;
    }
    return out as T;
  }
  return v;
}

const compiled = new Map<string, ValidateFunction>();
function validator(key: string, schema: unknown): ValidateFunction {
  let v = compiled.get(key);
  if (!v) {
    v = description().ajv.compile(rewriteRefs(schema as Json));
    compiled.set(key, v);
  }
  return v;
}

/**
 * An error schema whose top-level oneOf becomes anyOf: GitHub's error alternatives (basic-error,
 * repository-rule-violation-error, ...) accept the same objects, so "exactly one" never holds.
 */
function loosened(schema: unknown): unknown {
  const s = schema as Json;
  if (!Array.isArray(s.oneOf)) return s;
  const { oneOf, ...rest } = s;
  return { ...rest, anyOf: oneOf };
}

/** The JSON schema GitHub documents for a response of `op` with `status`, if any. */
function responseSchema(op: Operation, status: number): unknown {
  let r = (op.op.responses as Json | undefined)?.[String(status)] as Json | undefined;
  if (r && typeof r.$ref === 'string')
    r = ((description().spec.components as Json).responses as Record<string, Json>)[r.$ref.split('/').pop()!];
  return ((r?.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema;
}

export interface FakeUser {
  login: string;
  type?: 'User' | 'Bot' | 'Organization';
  /** role_name on the repository: admin, maintain, write, triage, read (none: not a collaborator). */
  role?: 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';
  /** A custom repository role: GitHub reports its name as role_name and its base role only in user.permissions. */
  customRole?: string;
}

/** GitHub's documented limits: bodies of issues, pull requests and comments, and titles. */
export const BODY_LIMIT = 65_536;
export const TITLE_LIMIT = 256;

export interface GitIdentity {
  name: string;
  email: string;
  date: string;
}

/** A commit of the fake's git model: each one holds a full snapshot of the repository's files. */
export interface FakeCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  author: GitIdentity;
  committer: GitIdentity;
  files: ReadonlyMap<string, Buffer>;
}

/** What a pull request adds to its issue (title, body, state and comments live on the issue). */
export interface FakePull {
  number: number;
  id: number;
  head: string;
  base: string;
  /** Branch tips, followed while the pull request is open and frozen when it closes. */
  headSha: string;
  baseSha: string;
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeCommitSha: string | null;
}

export interface FakeReview {
  id: number;
  pull: number;
  user: string;
  body: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'PENDING';
  commitId: string;
  submittedAt: string | null;
}

type Send = (status: number, body?: unknown, headers?: Record<string, string>) => void;

const sha1 = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
/** Git's own blob id, so a sha the fake hands out is the one `git hash-object` would compute. */
const blobSha = (content: Buffer) => sha1(`blob ${content.length}\0`, content);
const sameContent = (a: Buffer | undefined, b: Buffer | undefined) =>
  a === undefined || b === undefined ? a === b : a.equals(b);
/** The branch in a ref parameter, which GitHub documents as heads/<branch>; the fake models no tags. */
const branchOf = (ref: string) => /^heads\/(.+)$/.exec(ref)?.[1];
/** Path segments percent-encoded for URLs, slashes kept. */
const urlPath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

export class FakeGitHub {
  readonly owner: string;
  readonly repo: string;
  readonly violations: string[] = [];
  /** Requests refused for GitHub's limits (422), with the body GitHub answers. */
  readonly rejected: { key: string; status: number; body: Json }[] = [];
  readonly requests: { method: string; path: string; status: number }[] = [];
  /**
   * Every body or title sent to a route GitHub limits (issues, pull requests, comments; created or
   * edited): its sizes and whether it was refused for a limit. `onWrite` sees each with its text.
   */
  readonly writes: {
    key: string;
    number?: number;
    bodyLength?: number;
    titleLength?: number;
    refused: boolean;
  }[] = [];
  /** The body limit enforced; a test lowers it to have GitHub refuse a write that it would take. */
  bodyLimit = BODY_LIMIT;
  onWrite: ((w: FakeGitHub['writes'][number], text: { body?: string; title?: string }) => void) | undefined;
  url = '';
  private server: Server | undefined;
  private nextId = 1000;
  private readonly users = new Map<string, FakeUser & { id: number }>();
  readonly issues = new Map<number, Json>();
  readonly comments = new Map<number, Json & { issue: number }>();
  readonly reactions: { subject: number; content: string; user: string }[] = [];
  /** Issue events (closed, reopened) as GET .../issues/{n}/events lists them. */
  readonly events: { issue: number; id: number; event: string; actor: string; at: string }[] = [];
  readonly teams = new Map<string, Set<string>>();
  /** The login the token belongs to (the action's identity). */
  readonly actor: string;
  readonly defaultBranch = 'main';
  /** Branch name → commit sha. */
  readonly branches = new Map<string, string>();
  readonly commits = new Map<string, FakeCommit>();
  /** Pull requests by number; each is also in `issues`, as on GitHub. */
  readonly pulls = new Map<number, FakePull>();
  readonly reviews: FakeReview[] = [];
  private readonly createdAt = new Date().toISOString();

  constructor(o: { owner?: string; repo?: string; actor?: string; users?: FakeUser[] } = {}) {
    this.owner = o.owner ?? 'contoso';
    this.repo = o.repo ?? 'platform';
    this.actor = o.actor ?? 'github-actions[bot]';
    // The owner is an organization (head.user, repository.owner); id 1 leaves the ids of the others as they were.
    this.users.set(this.owner.toLowerCase(), {
      login: this.owner,
      type: 'Organization',
      role: 'none',
      id: 1,
    });
    this.addUser({ login: this.actor, type: 'Bot', role: 'write' });
    for (const u of o.users ?? []) this.addUser(u);
    const initial = this.newCommit(
      [],
      new Map([['README.md', Buffer.from(`# ${this.repo}\n`)]]),
      'Initial commit',
      this.identity(this.owner),
    );
    this.branches.set(this.defaultBranch, initial.sha);
  }

  addUser(u: FakeUser): void {
    this.users.set(u.login.toLowerCase(), { ...u, id: this.nextId++ });
  }

  async start(): Promise<string> {
    description();
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        this.violations.push(`${req.method} ${req.url}: the fake failed: ${(e as Error).message}`);
        if (!res.headersSent) res.writeHead(500).end(JSON.stringify({ message: 'fake failed' }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  // ---------- GitHub's object shapes ----------

  user(login: string): Json {
    const u = this.users.get(login.toLowerCase());
    if (!u) throw new Error(`unknown fake user ${login}`);
    // Logins like github-actions[bot] are percent-encoded in GitHub's URLs.
    const path = encodeURIComponent(u.login);
    const base = `${this.url}/users/${path}`;
    return {
      login: u.login,
      id: u.id,
      node_id: `U_${u.id}`,
      avatar_url: `https://avatars.example/u/${u.id}`,
      gravatar_id: '',
      url: base,
      html_url: `https://github.example/${path}`,
      followers_url: `${base}/followers`,
      following_url: `${base}/following{/other_user}`,
      gists_url: `${base}/gists{/gist_id}`,
      starred_url: `${base}/starred{/owner}{/repo}`,
      subscriptions_url: `${base}/subscriptions`,
      organizations_url: `${base}/orgs`,
      repos_url: `${base}/repos`,
      events_url: `${base}/events{/privacy}`,
      received_events_url: `${base}/received_events`,
      type: u.type ?? 'User',
      site_admin: false,
    };
  }

  private repoUrl(): string {
    return `${this.url}/repos/${this.owner}/${this.repo}`;
  }

  private newIssue(title: string, body: string | null, author: string, labels: string[]): Json {
    const number = this.issues.size + 1;
    const id = this.nextId++;
    const now = new Date().toISOString();
    const url = `${this.repoUrl()}/issues/${number}`;
    const issue: Json = {
      id,
      node_id: `I_${id}`,
      url,
      repository_url: this.repoUrl(),
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `https://github.example/${this.owner}/${this.repo}/issues/${number}`,
      number,
      state: 'open',
      state_reason: null,
      title,
      body,
      user: this.user(author),
      labels: labels.map((name, i) => ({
        id: i + 1,
        node_id: `LA_${i + 1}`,
        url: `${this.repoUrl()}/labels/${encodeURIComponent(name)}`,
        name,
        description: null,
        color: 'ededed',
        default: false,
      })),
      assignee: null,
      assignees: [],
      milestone: null,
      locked: false,
      active_lock_reason: null,
      comments: 0,
      closed_at: null,
      created_at: now,
      updated_at: now,
      author_association: 'NONE',
    };
    this.issues.set(number, issue);
    return issue;
  }

  /** A comment by `login` on issue `number`, as if written in the web UI. */
  /** A user opens an issue (the tests' look-alike tracking issues). */
  openIssue(login: string, title: string, body: string, labels: string[] = []): Json {
    return this.newIssue(title, body, login, labels);
  }

  comment(number: number, login: string, body: string): Json {
    const id = this.nextId++;
    const now = new Date().toISOString();
    const c = {
      issue: number,
      id,
      node_id: `IC_${id}`,
      url: `${this.repoUrl()}/issues/comments/${id}`,
      html_url: `https://github.example/${this.owner}/${this.repo}/${this.pulls.has(number) ? 'pull' : 'issues'}/${number}#issuecomment-${id}`,
      issue_url: `${this.repoUrl()}/issues/${number}`,
      body,
      user: this.user(login),
      created_at: now,
      updated_at: now,
      author_association: 'NONE',
    };
    this.comments.set(id, c);
    const issue = this.issues.get(number);
    if (issue) issue.comments = (issue.comments as number) + 1;
    return c;
  }

  // ---------- the git model ----------

  private identity(login: string): GitIdentity {
    const u = this.users.get(login.toLowerCase());
    if (!u) throw new Error(`unknown fake user ${login}`);
    return {
      name: u.login,
      email: `${u.id}+${u.login}@users.noreply.github.com`,
      date: new Date().toISOString(),
    };
  }

  private commitSeq = 0;
  private newCommit(
    parents: string[],
    files: ReadonlyMap<string, Buffer>,
    message: string,
    author: GitIdentity,
    committer = author,
  ): FakeCommit {
    const tree = sha1(
      'tree',
      ...[...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, c]) => `\n${path}\0${blobSha(c)}`),
    );
    // The sequence number keeps two otherwise identical commits apart, as their timestamps would in git.
    const sha = sha1(
      `commit ${tree} ${parents.join(' ')} ${author.email} ${author.date} ${this.commitSeq++}\n${message}`,
    );
    const c: FakeCommit = { sha, tree, parents, message, author, committer, files };
    this.commits.set(sha, c);
    return c;
  }

  /** A new commit on `branch` whose files are its tip's, changed by `change`. */
  private commitOn(
    branch: string,
    change: (files: Map<string, Buffer>) => void,
    message: string,
    author: GitIdentity,
    committer = author,
  ): FakeCommit {
    const tip = this.commits.get(this.branches.get(branch)!)!;
    const files = new Map(tip.files);
    change(files);
    const c = this.newCommit([tip.sha], files, message, author, committer);
    this.branches.set(branch, c.sha);
    return c;
  }

  /** A branch (also as heads/x or refs/heads/x) or a commit sha, full or abbreviated. */
  private resolve(ref: string): FakeCommit | undefined {
    const sha =
      this.branches.get(ref) ??
      this.branches.get(ref.replace(/^(refs\/)?heads\//, '')) ??
      (/^[0-9a-f]{7,40}$/.test(ref) ? [...this.commits.keys()].find((s) => s.startsWith(ref)) : undefined);
    return sha === undefined ? undefined : this.commits.get(sha);
  }

  /** `sha` and every commit it descends from, newest first along first parents. */
  private ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const todo = [sha];
    while (todo.length) {
      const s = todo.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      todo.push(...[...this.commits.get(s)!.parents].reverse());
    }
    return seen;
  }

  /** The nearest common ancestor, breadth first from `b`: what `git merge-base` finds in histories this simple. */
  private mergeBase(a: string, b: string): FakeCommit | undefined {
    const ofA = this.ancestors(a);
    const queue = [b];
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      if (ofA.has(s)) return this.commits.get(s);
      queue.push(...this.commits.get(s)!.parents);
    }
    return undefined;
  }

  /** The commits on `head` that `base` lacks, oldest first. */
  private ahead(base: string, head: string): FakeCommit[] {
    const inBase = this.ancestors(base);
    return [...this.ancestors(head)]
      .filter((s) => !inBase.has(s))
      .map((s) => this.commits.get(s)!)
      .reverse();
  }

  /** A three-way merge of snapshots by whole files; null when a file changed differently on both sides. */
  private merge3(
    base: ReadonlyMap<string, Buffer>,
    ours: ReadonlyMap<string, Buffer>,
    theirs: ReadonlyMap<string, Buffer>,
  ): Map<string, Buffer> | null {
    const out = new Map<string, Buffer>();
    for (const path of new Set([...base.keys(), ...ours.keys(), ...theirs.keys()])) {
      const [o, a, b] = [base.get(path), ours.get(path), theirs.get(path)];
      let merged: Buffer | undefined;
      if (sameContent(a, b) || sameContent(b, o)) merged = a;
      else if (sameContent(a, o)) merged = b;
      else return null;
      if (merged) out.set(path, merged);
    }
    return out;
  }

  /** Brings an open pull request's tips up to date with its branches; a closed one keeps those it closed with. */
  private tips(pr: FakePull): FakePull {
    if (this.issues.get(pr.number)!.state === 'open') {
      pr.headSha = this.branches.get(pr.head) ?? pr.headSha;
      pr.baseSha = this.branches.get(pr.base) ?? pr.baseSha;
    }
    return pr;
  }

  private mergeable(pr: FakePull): boolean {
    const [base, head] = [this.commits.get(pr.baseSha)!, this.commits.get(pr.headSha)!];
    return (
      this.merge3(this.mergeBase(base.sha, head.sha)?.files ?? new Map(), base.files, head.files) !== null
    );
  }

  /** The commit that merging with `method` puts on the base branch; null on conflicts. */
  private mergeCommit(pr: FakePull, method: string, title?: string, message?: string): FakeCommit | null {
    const [base, head] = [this.commits.get(pr.baseSha)!, this.commits.get(pr.headSha)!];
    const files = this.merge3(this.mergeBase(base.sha, head.sha)?.files ?? new Map(), base.files, head.files);
    if (!files) return null;
    const me = this.identity(this.actor);
    const issue = this.issues.get(pr.number)!;
    const commits = this.ahead(base.sha, head.sha);
    if (method === 'squash') {
      const text = [
        title ?? `${issue.title as string} (#${pr.number})`,
        message ?? commits.map((c) => `* ${c.message}`).join('\n\n'),
      ]
        .filter(Boolean)
        .join('\n\n');
      return this.newCommit([base.sha], files, text, this.identity((issue.user as Json).login as string), me);
    }
    if (method === 'rebase') {
      let tip = base;
      for (const c of commits) {
        const replayed = this.merge3(this.commits.get(c.parents[0]!)?.files ?? new Map(), tip.files, c.files);
        if (!replayed) return null;
        tip = this.newCommit([tip.sha], replayed, c.message, c.author, me);
      }
      return tip;
    }
    // GitHub's merge method never fast-forwards: there is always a merge commit.
    const text = `${title ?? `Merge pull request #${pr.number} from ${this.owner}/${pr.head}`}\n\n${message ?? (issue.title as string)}`;
    return this.newCommit([base.sha, head.sha], files, text, me);
  }

  /** Opens or closes an issue or pull request; a pull request's tips freeze as it closes. */
  private setState(number: number, state: unknown, actor = this.actor): void {
    const issue = this.issues.get(number)!;
    const pr = this.pulls.get(number);
    if (pr) this.tips(pr);
    if (issue.state !== state)
      this.events.push({
        issue: number,
        id: this.nextId++,
        event: state === 'closed' ? 'closed' : 'reopened',
        actor,
        at: new Date().toISOString(),
      });
    issue.state = state;
    issue.closed_at = state === 'closed' ? new Date().toISOString() : null;
    if (pr) this.tips(pr);
  }

  /** A user closes or reopens an issue or pull request in the web UI (triage can). */
  byHand(number: number, login: string, state: 'open' | 'closed'): void {
    if (!this.users.has(login.toLowerCase())) throw new Error(`unknown fake user ${login}`);
    this.setState(number, state, login);
    this.issues.get(number)!.updated_at = new Date().toISOString();
  }

  /** GitHub's 422 for a body or title over its limit, as the API answers it; undefined when within. */
  private tooLong(resource: string, body: Json): Json | undefined {
    const errors: Json[] = [];
    if (typeof body.body === 'string' && body.body.length > this.bodyLimit)
      errors.push({
        resource,
        code: 'custom',
        field: 'body',
        message: `body is too long (maximum is ${this.bodyLimit} characters)`,
      });
    if (typeof body.title === 'string' && body.title.length > TITLE_LIMIT)
      errors.push({
        resource,
        code: 'custom',
        field: 'title',
        message: `title is too long (maximum is ${TITLE_LIMIT} characters)`,
      });
    return errors.length
      ? { message: 'Validation Failed', errors, documentation_url: 'https://docs.github.com/rest' }
      : undefined;
  }

  /** Why GitHub refuses to reopen pull request `number`, if it does. */
  private cannotReopen(number: number): string | undefined {
    const pr = this.pulls.get(number);
    if (!pr || this.issues.get(number)!.state === 'open') return undefined;
    if (pr.merged) return 'state cannot be changed. The pull request has already been merged.';
    if (!this.branches.has(pr.head) || !this.branches.has(pr.base))
      return 'state cannot be changed. The head or base branch has been deleted.';
    return undefined;
  }

  private addReview(
    number: number,
    login: string,
    event: string | undefined,
    body: string,
    commitId: string,
  ): FakeReview {
    const states: Record<string, FakeReview['state']> = {
      APPROVE: 'APPROVED',
      REQUEST_CHANGES: 'CHANGES_REQUESTED',
      COMMENT: 'COMMENTED',
    };
    const state = states[event ?? ''] ?? 'PENDING';
    const r: FakeReview = {
      id: this.nextId++,
      pull: number,
      user: login,
      body,
      state,
      commitId,
      submittedAt: state === 'PENDING' ? null : new Date().toISOString(),
    };
    this.reviews.push(r);
    return r;
  }

  // ---------- test helpers for the git model ----------

  /** The text of `path` on a branch (or at a commit); undefined when there is no such file. */
  file(ref: string, path: string): string | undefined {
    return this.resolve(ref)?.files.get(path)?.toString('utf8');
  }

  /** A branch's commit messages, newest first, along first parents (`git log --first-parent`). */
  commitMessages(ref: string): string[] {
    const out: string[] = [];
    for (
      let c = this.resolve(ref);
      c;
      c = c.parents[0] === undefined ? undefined : this.commits.get(c.parents[0])
    )
      out.push(c.message);
    return out;
  }

  /**
   * A commit by `login` on `branch` as if pushed from a clone (a null content deletes the file); a
   * missing branch starts from the default branch's tip.
   */
  push(
    branch: string,
    files: Record<string, string | null>,
    message: string,
    login = this.actor,
  ): FakeCommit {
    if (!this.branches.has(branch)) this.branches.set(branch, this.branches.get(this.defaultBranch)!);
    return this.commitOn(
      branch,
      (f) => {
        for (const [path, text] of Object.entries(files)) {
          if (text === null) f.delete(path);
          else f.set(path, Buffer.from(text));
        }
      },
      message,
      this.identity(login),
    );
  }

  isMerged(number: number): boolean {
    return this.pulls.get(number)?.merged ?? false;
  }

  /** A review by `login` on pull request `number`, as if submitted in the web UI. */
  review(
    number: number,
    login: string,
    event: 'APPROVE' | 'REQUEST_CHANGES' | 'COMMENT',
    body = '',
  ): FakeReview {
    const pr = this.pulls.get(number);
    if (!pr) throw new Error(`#${number} is not a pull request`);
    // GitHub lets nobody approve or reject their own pull request; a test doing so would prove nothing.
    if (
      event !== 'COMMENT' &&
      ((this.issues.get(number)!.user as Json).login as string).toLowerCase() === login.toLowerCase()
    )
      throw new Error(`${login} cannot ${event} their own pull request`);
    return this.addReview(number, login, event, body, this.tips(pr).headSha);
  }

  // ---------- shapes of the git model and pull requests ----------

  private permissions(role: string): Json {
    return {
      admin: role === 'admin',
      maintain: role === 'admin' || role === 'maintain',
      push: ['admin', 'maintain', 'write'].includes(role),
      triage: role !== 'read' && role !== 'none',
      pull: role !== 'none',
    };
  }

  /** The repository; `full` adds what GET /repos/{owner}/{repo} says beyond the repository in a pull request's head and base. */
  private repository(full: boolean): Json {
    const [o, r] = [this.owner, this.repo];
    const base = this.repoUrl();
    const html = `https://github.example/${o}/${r}`;
    const open = [...this.issues.values()].filter((i) => i.state === 'open').length;
    const pushed = [...this.commits.values()].reduce(
      (t, c) => (c.committer.date > t ? c.committer.date : t),
      this.createdAt,
    );
    const repo: Json = {
      id: 1,
      node_id: 'R_1',
      name: r,
      full_name: `${o}/${r}`,
      owner: this.user(o),
      private: true,
      html_url: html,
      description: null,
      fork: false,
      url: base,
      archive_url: `${base}/{archive_format}{/ref}`,
      assignees_url: `${base}/assignees{/user}`,
      blobs_url: `${base}/git/blobs{/sha}`,
      branches_url: `${base}/branches{/branch}`,
      collaborators_url: `${base}/collaborators{/collaborator}`,
      comments_url: `${base}/comments{/number}`,
      commits_url: `${base}/commits{/sha}`,
      compare_url: `${base}/compare/{base}...{head}`,
      contents_url: `${base}/contents/{+path}`,
      contributors_url: `${base}/contributors`,
      deployments_url: `${base}/deployments`,
      downloads_url: `${base}/downloads`,
      events_url: `${base}/events`,
      forks_url: `${base}/forks`,
      git_commits_url: `${base}/git/commits{/sha}`,
      git_refs_url: `${base}/git/refs{/sha}`,
      git_tags_url: `${base}/git/tags{/sha}`,
      git_url: `git://github.example/${o}/${r}.git`,
      issue_comment_url: `${base}/issues/comments{/number}`,
      issue_events_url: `${base}/issues/events{/number}`,
      issues_url: `${base}/issues{/number}`,
      keys_url: `${base}/keys{/key_id}`,
      labels_url: `${base}/labels{/name}`,
      languages_url: `${base}/languages`,
      merges_url: `${base}/merges`,
      milestones_url: `${base}/milestones{/number}`,
      notifications_url: `${base}/notifications{?since,all,participating}`,
      pulls_url: `${base}/pulls{/number}`,
      releases_url: `${base}/releases{/id}`,
      ssh_url: `git@github.example:${o}/${r}.git`,
      stargazers_url: `${base}/stargazers`,
      statuses_url: `${base}/statuses/{sha}`,
      subscribers_url: `${base}/subscribers`,
      subscription_url: `${base}/subscription`,
      tags_url: `${base}/tags`,
      teams_url: `${base}/teams`,
      trees_url: `${base}/git/trees{/sha}`,
      clone_url: `${html}.git`,
      mirror_url: null,
      hooks_url: `${base}/hooks`,
      svn_url: html,
      homepage: null,
      language: null,
      forks_count: 0,
      stargazers_count: 0,
      watchers_count: 0,
      size: 1,
      default_branch: this.defaultBranch,
      open_issues_count: open,
      is_template: false,
      topics: [],
      has_issues: true,
      has_projects: false,
      has_wiki: false,
      has_pages: false,
      has_downloads: true,
      has_discussions: false,
      archived: false,
      disabled: false,
      visibility: 'private',
      pushed_at: pushed,
      created_at: this.createdAt,
      updated_at: pushed,
      allow_forking: false,
      web_commit_signoff_required: false,
      license: null,
      forks: 0,
      open_issues: open,
      watchers: 0,
    };
    if (!full) return repo;
    return {
      ...repo,
      permissions: this.permissions(this.users.get(this.actor.toLowerCase())!.role ?? 'none'),
      allow_merge_commit: true,
      allow_squash_merge: true,
      allow_rebase_merge: true,
      allow_auto_merge: false,
      delete_branch_on_merge: false,
      allow_update_branch: false,
      use_squash_pr_title_as_default: false,
      squash_merge_commit_title: 'COMMIT_OR_PR_TITLE',
      squash_merge_commit_message: 'COMMIT_MESSAGES',
      merge_commit_title: 'MERGE_MESSAGE',
      merge_commit_message: 'PR_TITLE',
      organization: this.user(o),
      network_count: 0,
      subscribers_count: 0,
    };
  }

  private refJson(branch: string): Json {
    const sha = this.branches.get(branch)!;
    return {
      ref: `refs/heads/${branch}`,
      node_id: `REF_${Buffer.from(branch).toString('base64url')}`,
      url: `${this.repoUrl()}/git/refs/heads/${urlPath(branch)}`,
      object: { type: 'commit', sha, url: `${this.repoUrl()}/git/commits/${sha}` },
    };
  }

  /** A file as the contents API shows it; GitHub wraps the base64 at 60 characters, each line ending in \n. */
  private contentJson(path: string, content: Buffer, ref: string, withContent = true): Json {
    const sha = blobSha(content);
    const url = `${this.repoUrl()}/contents/${urlPath(path)}?ref=${encodeURIComponent(ref)}`;
    const git = `${this.repoUrl()}/git/blobs/${sha}`;
    const html = `https://github.example/${this.owner}/${this.repo}/blob/${urlPath(ref)}/${urlPath(path)}`;
    const encoded = withContent
      ? {
          encoding: 'base64',
          content: (content.toString('base64').match(/.{1,60}/g) ?? []).map((l) => `${l}\n`).join(''),
        }
      : {};
    return {
      type: 'file',
      ...encoded,
      size: content.length,
      name: path.split('/').pop(),
      path,
      sha,
      url,
      git_url: git,
      html_url: html,
      download_url: `https://raw.github.example/${this.owner}/${this.repo}/${urlPath(ref)}/${urlPath(path)}`,
      _links: { self: url, git, html },
    };
  }

  /** The entries of directory `dir` at commit `c` (empty when there is no such directory). */
  private directory(c: FakeCommit, dir: string, ref: string): Json[] {
    const prefix = dir ? `${dir}/` : '';
    const entries = new Map<string, Json>();
    for (const [path, content] of c.files) {
      if (!path.startsWith(prefix)) continue;
      const [name, ...rest] = path.slice(prefix.length).split('/');
      if (!rest.length) {
        const { content: _c, encoding: _e, ...file } = this.contentJson(path, content, ref);
        entries.set(name!, file);
      } else if (!entries.has(name!)) {
        const sub = `${prefix}${name}`;
        const sha = sha1(
          'tree',
          ...[...c.files].filter(([p]) => p.startsWith(`${sub}/`)).map(([p, x]) => `\n${p}\0${blobSha(x)}`),
        );
        const url = `${this.repoUrl()}/contents/${urlPath(sub)}?ref=${encodeURIComponent(ref)}`;
        const [git, html] = [
          `${this.repoUrl()}/git/trees/${sha}`,
          `https://github.example/${this.owner}/${this.repo}/tree/${urlPath(ref)}/${urlPath(sub)}`,
        ];
        entries.set(name!, {
          type: 'dir',
          size: 0,
          name,
          path: sub,
          sha,
          url,
          git_url: git,
          html_url: html,
          download_url: null,
          _links: { self: url, git, html },
        });
      }
    }
    return [...entries.values()].sort((a, b) => ((a.name as string) < (b.name as string) ? -1 : 1));
  }

  /** A commit as the contents API's file-commit response describes it. */
  private commitJson(c: FakeCommit): Json {
    const link = (sha: string) => ({
      url: `${this.repoUrl()}/git/commits/${sha}`,
      html_url: `https://github.example/${this.owner}/${this.repo}/commit/${sha}`,
      sha,
    });
    return {
      ...link(c.sha),
      node_id: `C_${c.sha}`,
      author: c.author,
      committer: c.committer,
      message: c.message,
      tree: { url: `${this.repoUrl()}/git/trees/${c.tree}`, sha: c.tree },
      parents: c.parents.map(link),
      verification: {
        verified: false,
        reason: 'unsigned',
        signature: null,
        payload: null,
        verified_at: null,
      },
    };
  }

  /** The files a pull request changes, against the merge base, with line counts like GitHub's. */
  private diff(pr: FakePull): Json[] {
    this.tips(pr);
    const from = this.mergeBase(pr.baseSha, pr.headSha)?.files ?? new Map<string, Buffer>();
    const to = this.commits.get(pr.headSha)!.files;
    const out: Json[] = [];
    for (const path of [...new Set([...from.keys(), ...to.keys()])].sort()) {
      const [a, b] = [from.get(path), to.get(path)];
      if (sameContent(a, b)) continue;
      const { additions, deletions } = lineChanges(a, b);
      const at = `${this.owner}/${this.repo}/%s/${pr.headSha}/${urlPath(path)}`;
      out.push({
        sha: blobSha((b ?? a)!),
        filename: path,
        status: !a ? 'added' : !b ? 'removed' : 'modified',
        additions,
        deletions,
        changes: additions + deletions,
        blob_url: `https://github.example/${at.replace('%s', 'blob')}`,
        raw_url: `https://github.example/${at.replace('%s', 'raw')}`,
        contents_url: `${this.repoUrl()}/contents/${urlPath(path)}?ref=${pr.headSha}`,
      });
    }
    return out;
  }

  /** A pull request; `full` is GET /pulls/{n}'s pull-request, otherwise the list's pull-request-simple. */
  private pullJson(number: number, full: boolean): Json {
    const pr = this.tips(this.pulls.get(number)!);
    const issue = this.issues.get(number)!;
    const url = `${this.repoUrl()}/pulls/${number}`;
    const html = issue.html_url as string;
    const side = (ref: string, sha: string) => ({
      label: `${this.owner}:${ref}`,
      ref,
      sha,
      user: this.user(this.owner),
      repo: this.repository(false),
    });
    const links = {
      self: url,
      html,
      issue: issue.url,
      comments: issue.comments_url,
      review_comments: `${url}/comments`,
      review_comment: `${this.repoUrl()}/pulls/comments{/number}`,
      commits: `${url}/commits`,
      statuses: `${this.repoUrl()}/statuses/${pr.headSha}`,
    };
    const simple: Json = {
      url,
      id: pr.id,
      node_id: `PR_${pr.id}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: issue.url,
      commits_url: links.commits,
      review_comments_url: links.review_comments,
      review_comment_url: links.review_comment,
      comments_url: issue.comments_url,
      statuses_url: links.statuses,
      number,
      state: issue.state,
      locked: issue.locked,
      title: issue.title,
      user: issue.user,
      body: issue.body,
      labels: issue.labels,
      milestone: null,
      active_lock_reason: null,
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: issue.closed_at,
      merged_at: pr.mergedAt,
      merge_commit_sha: pr.mergeCommitSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: side(pr.head, pr.headSha),
      base: side(pr.base, pr.baseSha),
      _links: Object.fromEntries(Object.entries(links).map(([k, href]) => [k, { href }])),
      author_association: issue.author_association,
      auto_merge: null,
      draft: pr.draft,
    };
    if (!full) return simple;
    const open = issue.state === 'open';
    const clean = open && this.mergeable(pr);
    const files = this.diff(pr);
    return {
      ...simple,
      merged: pr.merged,
      mergeable: open ? clean : null,
      rebaseable: open ? clean : null,
      mergeable_state: !open ? 'unknown' : !clean ? 'dirty' : pr.draft ? 'draft' : 'clean',
      merged_by: pr.mergedBy ? this.user(pr.mergedBy) : null,
      comments: issue.comments,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: this.ahead(pr.baseSha, pr.headSha).length,
      additions: files.reduce((n, f) => n + (f.additions as number), 0),
      deletions: files.reduce((n, f) => n + (f.deletions as number), 0),
      changed_files: files.length,
    };
  }

  private reviewJson(r: FakeReview): Json {
    const html = `${this.issues.get(r.pull)!.html_url as string}#pullrequestreview-${r.id}`;
    const pull = `${this.repoUrl()}/pulls/${r.pull}`;
    return {
      id: r.id,
      node_id: `PRR_${r.id}`,
      user: this.user(r.user),
      body: r.body,
      state: r.state,
      html_url: html,
      pull_request_url: pull,
      _links: { html: { href: html }, pull_request: { href: pull } },
      ...(r.submittedAt ? { submitted_at: r.submittedAt } : {}),
      commit_id: r.commitId,
      author_association: 'NONE',
    };
  }

  // ---------- routing ----------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const op = description().ops.find((o) => o.method === method && o.regex.test(u.pathname));
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (op && body !== undefined) {
        const schema = responseSchema(op, status);
        // Errors are checked where GitHub documents them; it documents them incompletely.
        if (!schema) {
          if (status < 300)
            this.violations.push(
              `${method} ${op.template}: GitHub documents no JSON response for status ${status}`,
            );
        } else {
          const v = validator(
            `res ${method} ${op.template} ${status}`,
            status < 300 ? schema : loosened(schema),
          );
          if (!v(body))
            this.violations.push(
              `${method} ${op.template} → ${status}: response does not match the description: ${v
                .errors!.slice(0, 5)
                .map((e) => `${e.instancePath} ${e.message}`)
                .join('; ')}`,
            );
        }
      }
      this.requests.push({ method, path: u.pathname, status });
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-ratelimit-remaining': '4999',
        'x-ratelimit-limit': '5000',
        ...headers,
      });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };
    if (!op) {
      this.violations.push(`${method} ${u.pathname}: no such operation in GitHub's REST API`);
      return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    }
    let body: Json = {};
    const rb = (op.op.requestBody as Json | undefined)?.content as Json | undefined;
    if (raw) {
      try {
        body = JSON.parse(raw) as Json;
      } catch {
        this.violations.push(`${method} ${op.template}: request body is not JSON`);
        return send(400, { message: 'Problems parsing JSON' });
      }
      const schema = (rb?.['application/json'] as Json | undefined)?.schema;
      if (!schema) this.violations.push(`${method} ${op.template}: GitHub documents no request body`);
      else {
        const v = validator(`req ${method} ${op.template}`, schema);
        if (!v(body)) {
          this.violations.push(
            `${method} ${op.template}: request body does not match the description: ${v
              .errors!.slice(0, 5)
              .map((e) => `${e.instancePath} ${e.message}`)
              .join('; ')}`,
          );
          return send(422, {
            message: 'Validation Failed',
            documentation_url: 'https://docs.github.com/rest',
          });
        }
      }
    } else if ((op.op.requestBody as Json | undefined)?.required) {
      this.violations.push(`${method} ${op.template}: the request body is required`);
    }
    const m = u.pathname.match(op.regex)!;
    const p = Object.fromEntries(op.params.map((name, i) => [name, decodeURIComponent(m[i + 1]!)]));
    if ((p.owner && p.owner !== this.owner) || (p.repo && p.repo !== this.repo))
      return send(404, { message: 'Not Found', documentation_url: '' });
    return this.route(method, op.template, p, body, u, send);
  }

  private route(method: string, t: string, p: Record<string, string>, body: Json, u: URL, send: Send): void {
    const key = `${method} ${t}`;
    const q = u.searchParams;
    const notFound = () => send(404, { message: 'Not Found', documentation_url: '' });
    const fail = (status: number, message: string, errors?: unknown[]) =>
      send(status, {
        message,
        documentation_url: 'https://docs.github.com/rest',
        ...(errors ? { errors } : {}),
      });
    const unimplemented = (what: string) => {
      this.violations.push(`${key}: ${what} is not implemented by the fake`);
      send(501, { message: 'not implemented by the fake' });
    };
    const limited: Record<string, string> = {
      'POST /repos/{owner}/{repo}/issues': 'Issue',
      'PATCH /repos/{owner}/{repo}/issues/{issue_number}': 'Issue',
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': 'IssueComment',
      'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}': 'IssueComment',
      'POST /repos/{owner}/{repo}/pulls': 'PullRequest',
      'PATCH /repos/{owner}/{repo}/pulls/{pull_number}': 'PullRequest',
    };
    const over = limited[key] ? this.tooLong(limited[key], body) : undefined;
    if (limited[key]) {
      const text = {
        ...(typeof body.body === 'string' ? { body: body.body } : {}),
        ...(typeof body.title === 'string' ? { title: body.title } : {}),
      };
      const number = Number(p.issue_number ?? p.pull_number ?? NaN);
      const w = {
        key,
        ...(Number.isFinite(number) ? { number } : {}),
        ...(text.body !== undefined ? { bodyLength: text.body.length } : {}),
        ...(text.title !== undefined ? { titleLength: text.title.length } : {}),
        refused: !!over,
      };
      this.writes.push(w);
      this.onWrite?.(w, text);
    }
    if (over) {
      this.rejected.push({ key, status: 422, body: over });
      return send(422, over);
    }
    switch (key) {
      case 'GET /repos/{owner}/{repo}/issues/{issue_number}/events': {
        const n = Number(p.issue_number);
        if (!this.issues.has(n)) return notFound();
        const list = this.events
          .filter((e) => e.issue === n)
          .map((e) => ({
            id: e.id,
            node_id: `SCE_${e.id}`,
            url: `${this.repoUrl()}/issues/events/${e.id}`,
            actor: this.user(e.actor),
            event: e.event,
            commit_id: null,
            commit_url: null,
            created_at: e.at,
            performed_via_github_app: null,
            state_reason: null,
          }));
        return this.page(list, u, send);
      }
      case 'GET /repos/{owner}/{repo}/issues': {
        const state = q.get('state') ?? 'open';
        const labels = (q.get('labels') ?? '').split(',').filter(Boolean);
        const all = [...this.issues.values()].filter(
          (i) =>
            (state === 'all' || i.state === state) &&
            labels.every((l) => (i.labels as Json[]).some((x) => x.name === l)),
        );
        return this.page(all.reverse(), u, send);
      }
      case 'POST /repos/{owner}/{repo}/issues':
        return send(
          201,
          this.newIssue(
            body.title as string,
            (body.body as string | undefined) ?? '',
            this.actor,
            (body.labels as string[] | undefined) ?? [],
          ),
        );
      case 'GET /repos/{owner}/{repo}/issues/{issue_number}': {
        const i = this.issues.get(Number(p.issue_number));
        return i ? send(200, i) : send(404, { message: 'Not Found', documentation_url: '' });
      }
      case 'PATCH /repos/{owner}/{repo}/issues/{issue_number}': {
        const i = this.issues.get(Number(p.issue_number));
        if (!i) return send(404, { message: 'Not Found', documentation_url: '' });
        // A pull request is an issue too: closing it here freezes its tips, reopening follows GitHub's rules.
        const pr = this.pulls.get(Number(p.issue_number));
        if (pr && body.state === 'open' && this.cannotReopen(pr.number))
          return fail(422, 'Validation Failed', [
            { resource: 'Issue', field: 'state', code: 'custom', message: this.cannotReopen(pr.number)! },
          ]);
        if (pr) this.tips(pr);
        for (const k of ['title', 'body', 'state_reason'] as const) if (k in body) i[k] = body[k];
        if (body.state !== undefined) this.setState(Number(p.issue_number), body.state);
        i.updated_at = new Date().toISOString();
        return send(200, i);
      }
      case 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const n = Number(p.issue_number);
        const list = [...this.comments.values()].filter((c) => c.issue === n).map(({ issue: _i, ...c }) => c);
        return this.page(list, u, send);
      }
      case 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const n = Number(p.issue_number);
        if (!this.issues.has(n)) return send(404, { message: 'Not Found', documentation_url: '' });
        const { issue: _i, ...c } = this.comment(n, this.actor, body.body as string);
        return send(201, c);
      }
      case 'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}': {
        const c = this.comments.get(Number(p.comment_id));
        if (!c) return send(404, { message: 'Not Found', documentation_url: '' });
        c.body = body.body;
        c.updated_at = new Date().toISOString();
        const { issue: _i, ...out } = c;
        return send(200, out);
      }
      case 'POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions': {
        const id = Number(p.comment_id);
        if (!this.comments.has(id)) return send(404, { message: 'Not Found', documentation_url: '' });
        const content = body.content as string;
        const existing = this.reactions.find(
          (r) => r.subject === id && r.content === content && r.user === this.actor,
        );
        if (!existing) this.reactions.push({ subject: id, content, user: this.actor });
        return send(existing ? 200 : 201, {
          id: this.nextId++,
          node_id: 'REA_x',
          user: this.user(this.actor),
          content,
          created_at: new Date().toISOString(),
        });
      }
      case 'GET /repos/{owner}/{repo}/collaborators/{username}/permission': {
        const u = this.users.get(p.username!.toLowerCase());
        if (!u || u.type === 'Organization')
          return send(404, { message: 'Not Found', documentation_url: '' });
        const role = u.role ?? 'none';
        const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
        const roleName = u.customRole ?? role;
        const user = { ...this.user(u.login), permissions: this.permissions(role), role_name: roleName };
        return send(200, { permission, role_name: roleName, user });
      }
      case 'GET /orgs/{org}/teams/{team_slug}/memberships/{username}': {
        const members = this.teams.get(p.team_slug!);
        if (!members?.has(p.username!.toLowerCase()))
          return send(404, { message: 'Not Found', documentation_url: '' });
        return send(200, {
          url: `${this.url}/orgs/${p.org}/teams/${p.team_slug}/memberships/${p.username}`,
          role: 'member',
          state: 'active',
        });
      }
      case 'GET /repos/{owner}/{repo}':
        return send(200, this.repository(true));
      case 'GET /repos/{owner}/{repo}/git/ref/{ref}': {
        // Exactly one ref; prefixes are GET /git/matching-refs/.
        const branch = branchOf(p.ref!);
        return branch !== undefined && this.branches.has(branch)
          ? send(200, this.refJson(branch))
          : notFound();
      }
      case 'POST /repos/{owner}/{repo}/git/refs': {
        const ref = body.ref as string;
        if (!/^refs\/[^/]+\/./.test(ref)) return fail(422, `${ref} is not a valid ref name.`);
        if (!ref.startsWith('refs/heads/')) return unimplemented('the fake models branches only');
        const branch = ref.slice('refs/heads/'.length);
        if (!this.commits.has(body.sha as string)) return fail(422, 'Object does not exist');
        if (this.branches.has(branch)) return fail(422, 'Reference already exists');
        this.branches.set(branch, body.sha as string);
        return send(201, this.refJson(branch));
      }
      case 'PATCH /repos/{owner}/{repo}/git/refs/{ref}': {
        const branch = branchOf(p.ref!);
        const sha = body.sha as string;
        if (branch === undefined || !this.branches.has(branch)) return fail(422, 'Reference does not exist');
        if (!this.commits.has(sha)) return fail(422, 'Object does not exist');
        if (!body.force && !this.ancestors(sha).has(this.branches.get(branch)!))
          return fail(422, 'Update is not a fast forward');
        this.branches.set(branch, sha);
        return send(200, this.refJson(branch));
      }
      case 'DELETE /repos/{owner}/{repo}/git/refs/{ref}': {
        const branch = branchOf(p.ref!);
        if (branch === undefined || !this.branches.has(branch)) return fail(422, 'Reference does not exist');
        if (branch === this.defaultBranch) return fail(422, 'Cannot delete the default branch');
        // GitHub closes the open pull requests from or into a deleted branch.
        for (const pr of this.pulls.values())
          if ((pr.head === branch || pr.base === branch) && this.issues.get(pr.number)!.state === 'open')
            this.setState(pr.number, 'closed');
        this.branches.delete(branch);
        return send(204);
      }
      case 'GET /repos/{owner}/{repo}/contents/{path}': {
        const ref = q.get('ref') ?? this.defaultBranch;
        const c = this.resolve(ref);
        if (!c) return fail(404, `No commit found for the ref ${ref}`);
        const path = p.path!.replace(/^\/+|\/+$/g, '');
        const content = c.files.get(path);
        if (content) return send(200, this.contentJson(path, content, ref));
        const dir = this.directory(c, path, ref);
        return dir.length ? send(200, dir) : notFound();
      }
      case 'PUT /repos/{owner}/{repo}/contents/{path}':
      case 'DELETE /repos/{owner}/{repo}/contents/{path}': {
        // GitHub checks the branch first, then the blob sha: missing is 422, stale is 409.
        const branch = (body.branch as string | undefined) ?? this.defaultBranch;
        if (!this.branches.has(branch)) return fail(404, `Branch ${branch} not found`);
        const path = p.path!.replace(/^\/+|\/+$/g, '');
        const current = this.commits.get(this.branches.get(branch)!)!.files.get(path);
        if (method === 'DELETE' && !current) return notFound();
        if (current && body.sha === undefined)
          return fail(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
        if (current && body.sha !== blobSha(current))
          return fail(409, `${path} does not match ${body.sha as string}`);
        const content = method === 'PUT' ? (body.content as string) : '';
        if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(content)) return fail(422, 'content is not valid Base64');
        const me = this.identity(this.actor);
        const who = (x: unknown) =>
          x ? { date: me.date, ...(x as { name: string; email: string }) } : undefined;
        const committer = who(body.committer) ?? me;
        const c = this.commitOn(
          branch,
          (f) => (method === 'PUT' ? f.set(path, Buffer.from(content, 'base64')) : f.delete(path)),
          body.message as string,
          who(body.author) ?? committer,
          committer,
        );
        const file = method === 'PUT' ? this.contentJson(path, c.files.get(path)!, branch, false) : null;
        return send(method === 'PUT' && !current ? 201 : 200, { content: file, commit: this.commitJson(c) });
      }
      case 'GET /repos/{owner}/{repo}/pulls': {
        const state = q.get('state') ?? 'open';
        const [base, head] = [q.get('base'), q.get('head')];
        // GitHub silently ignores a head filter without the owner: prefix, and so does the fake.
        const [headOwner, headBranch] = head?.includes(':') ? head.split(':', 2) : [undefined, undefined];
        const sort = q.get('sort') ?? 'created';
        const asc = (q.get('direction') ?? (sort === 'created' ? 'desc' : 'asc')) === 'asc';
        const list = [...this.pulls.values()].filter((pr) => {
          const i = this.issues.get(pr.number)!;
          return (
            (state === 'all' || i.state === state) &&
            (!base || pr.base === base) &&
            (headBranch === undefined ||
              (headOwner!.toLowerCase() === this.owner.toLowerCase() && pr.head === headBranch))
          );
        });
        const key = (pr: FakePull) =>
          sort === 'updated'
            ? (this.issues.get(pr.number)!.updated_at as string)
            : String(pr.number).padStart(9, '0');
        list.sort(
          (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.number - b.number) * (asc ? 1 : -1),
        );
        return this.page(
          list.map((pr) => this.pullJson(pr.number, false)),
          u,
          send,
        );
      }
      case 'POST /repos/{owner}/{repo}/pulls': {
        const spec = body.head as string;
        const [headOwner, head] = spec.includes(':')
          ? (spec.split(':', 2) as [string, string])
          : [this.owner, spec];
        const base = body.base as string;
        const invalid = (field: string) =>
          fail(422, 'Validation Failed', [{ resource: 'PullRequest', field, code: 'invalid' }]);
        const custom = (message: string) =>
          fail(422, 'Validation Failed', [{ resource: 'PullRequest', code: 'custom', message }]);
        if (body.issue !== undefined) return unimplemented('turning an issue into a pull request');
        if (headOwner.toLowerCase() !== this.owner.toLowerCase() || !this.branches.has(head))
          return invalid('head');
        if (!this.branches.has(base)) return invalid('base');
        if (!body.title)
          return fail(422, 'Validation Failed', [
            { resource: 'Issue', field: 'title', code: 'missing_field' },
          ]);
        if (
          [...this.pulls.values()].some(
            (pr) => pr.head === head && pr.base === base && this.issues.get(pr.number)!.state === 'open',
          )
        )
          return custom(`A pull request already exists for ${this.owner}:${head}.`);
        if (!this.ahead(this.branches.get(base)!, this.branches.get(head)!).length)
          return custom(`No commits between ${base} and ${head}`);
        const issue = this.newIssue(
          body.title as string,
          (body.body as string | undefined) ?? null,
          this.actor,
          [],
        );
        const number = issue.number as number;
        const html = `https://github.example/${this.owner}/${this.repo}/pull/${number}`;
        issue.html_url = html;
        issue.draft = body.draft === true;
        issue.pull_request = {
          url: `${this.repoUrl()}/pulls/${number}`,
          html_url: html,
          diff_url: `${html}.diff`,
          patch_url: `${html}.patch`,
          merged_at: null,
        };
        this.pulls.set(number, {
          number,
          id: this.nextId++,
          head,
          base,
          headSha: this.branches.get(head)!,
          baseSha: this.branches.get(base)!,
          draft: body.draft === true,
          merged: false,
          mergedAt: null,
          mergedBy: null,
          mergeCommitSha: null,
        });
        return send(201, this.pullJson(number, true));
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}':
        return this.pulls.has(Number(p.pull_number))
          ? send(200, this.pullJson(Number(p.pull_number), true))
          : notFound();
      case 'PATCH /repos/{owner}/{repo}/pulls/{pull_number}': {
        const n = Number(p.pull_number);
        const pr = this.pulls.get(n);
        if (!pr) return notFound();
        const issue = this.issues.get(n)!;
        if (body.state === 'open' && this.cannotReopen(n))
          return fail(422, 'Validation Failed', [
            { resource: 'PullRequest', field: 'state', code: 'custom', message: this.cannotReopen(n)! },
          ]);
        if (body.base !== undefined) {
          if (!this.branches.has(body.base as string))
            return fail(422, 'Validation Failed', [
              { resource: 'PullRequest', field: 'base', code: 'invalid' },
            ]);
          pr.base = body.base as string;
          this.tips(pr);
        }
        for (const k of ['title', 'body'] as const) if (k in body) issue[k] = body[k];
        if (body.state !== undefined && body.state !== issue.state) this.setState(n, body.state);
        issue.updated_at = new Date().toISOString();
        return send(200, this.pullJson(n, true));
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}/merge':
        return this.pulls.get(Number(p.pull_number))?.merged ? send(204) : send(404);
      case 'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge': {
        const n = Number(p.pull_number);
        const pr = this.pulls.get(n);
        if (!pr) return notFound();
        const issue = this.issues.get(n)!;
        this.tips(pr);
        if (issue.state !== 'open' || pr.draft)
          return fail(405, pr.draft ? 'Pull Request is still a draft' : 'Pull Request is not mergeable');
        if (body.sha !== undefined && body.sha !== pr.headSha)
          return fail(409, 'Head branch was modified. Review and try the merge again.');
        const c = this.mergeCommit(
          pr,
          (body.merge_method as string | undefined) ?? 'merge',
          body.commit_title as string | undefined,
          body.commit_message as string | undefined,
        );
        if (!c) return fail(405, 'Pull Request is not mergeable');
        this.setState(n, 'closed');
        this.branches.set(pr.base, c.sha);
        Object.assign(pr, {
          merged: true,
          mergedAt: issue.closed_at,
          mergedBy: this.actor,
          mergeCommitSha: c.sha,
        });
        (issue.pull_request as Json).merged_at = issue.closed_at;
        issue.updated_at = issue.closed_at;
        return send(200, { sha: c.sha, merged: true, message: 'Pull Request successfully merged' });
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}/files': {
        const pr = this.pulls.get(Number(p.pull_number));
        return pr ? this.page(this.diff(pr), u, send) : notFound();
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews': {
        const n = Number(p.pull_number);
        if (!this.pulls.has(n)) return notFound();
        // Pending reviews are visible to their author only.
        return this.page(
          this.reviews
            .filter((r) => r.pull === n && (r.state !== 'PENDING' || r.user === this.actor))
            .map((r) => this.reviewJson(r)),
          u,
          send,
        );
      }
      case 'POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews': {
        const n = Number(p.pull_number);
        const pr = this.pulls.get(n);
        if (!pr) return notFound();
        const event = body.event as string | undefined;
        const mine =
          ((this.issues.get(n)!.user as Json).login as string).toLowerCase() === this.actor.toLowerCase();
        if (mine && event === 'APPROVE')
          return fail(422, 'Unprocessable Entity', ['Can not approve your own pull request']);
        if (mine && event === 'REQUEST_CHANGES')
          return fail(422, 'Unprocessable Entity', ['Can not request changes on your own pull request']);
        if ((event === 'REQUEST_CHANGES' || event === 'COMMENT') && !body.body)
          return fail(422, 'Unprocessable Entity', [`Body is required for ${event} event`]);
        if (body.comments !== undefined) return unimplemented('review comments on lines');
        return send(
          200,
          this.reviewJson(
            this.addReview(
              n,
              this.actor,
              event,
              (body.body as string | undefined) ?? '',
              (body.commit_id as string | undefined) ?? this.tips(pr).headSha,
            ),
          ),
        );
      }
      default:
        this.violations.push(`${key}: documented by GitHub but not implemented by the fake`);
        return send(501, { message: 'not implemented by the fake' });
    }
  }

  /** GitHub's pagination: per_page (max 100), page, and a Link header with next and last. */
  private page(all: unknown[], u: URL, send: Send): void {
    const q = u.searchParams;
    const per = Math.min(100, Number(q.get('per_page') ?? 30));
    const page = Number(q.get('page') ?? 1);
    const items = all.slice((page - 1) * per, page * per);
    const last = Math.max(1, Math.ceil(all.length / per));
    const link = (n: number, rel: string) => {
      const next = new URLSearchParams(q);
      next.set('page', String(n));
      next.set('per_page', String(per));
      return `<${this.url}${u.pathname}?${next.toString()}>; rel="${rel}"`;
    };
    const links = [page < last ? link(page + 1, 'next') : '', page < last ? link(last, 'last') : ''].filter(
      Boolean,
    );
    send(200, items, links.length ? { link: links.join(', ') } : {});
  }
}

/** Lines added and removed between two versions of a file, from their longest common subsequence. */
function lineChanges(a: Buffer | undefined, b: Buffer | undefined): { additions: number; deletions: number } {
  const lines = (x: Buffer | undefined) =>
    x?.length ? x.toString('utf8').replace(/\n$/, '').split('\n') : [];
  const [x, y] = [lines(a), lines(b)];
  // Beyond test-sized files, count every line as changed rather than spend quadratic time.
  if (x.length * y.length > 4_000_000) return { additions: y.length, deletions: x.length };
  let prev = new Array<number>(y.length + 1).fill(0);
  for (const line of x) {
    const cur = [0];
    for (let j = 0; j < y.length; j++)
      cur.push(line === y[j] ? prev[j]! + 1 : Math.max(prev[j + 1]!, cur[j]!));
    prev = cur;
  }
  const common = prev[y.length]!;
  return { additions: y.length - common, deletions: x.length - common };
}
