// A loopback fake of GitHub's REST API that keeps state (issues, comments, reactions,
// collaborator permissions, team memberships) and validates every request it receives and every
// response it sends against GitHub's published OpenAPI description (@octokit/openapi). Anything
// that does not match the description is recorded in `violations`; tests assert there are none.
// Point @actions/github at it with GITHUB_API_URL.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
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
  op: Json;
}

let loaded: { ajv: Ajv; ops: Operation[]; spec: Json } | undefined;

/** GitHub's description, loaded and indexed once per process (13 MB). */
function description() {
  if (loaded) return loaded;
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as { paths: Record<string, Record<string, Json>>; components: Json };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, discriminator: false });
  addFormats(ajv);
  for (const f of ['uri-template', 'repo.nwo', 'ssh-key', 'ssh-key fingerprint', 'int32', 'int64', 'binary', 'byte']) ajv.addFormat(f, true);
  ajv.addSchema({ $id: 'gh.json', components: rewriteRefs(spec.components) });
  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries(spec.paths)) {
    const params: string[] = [];
    const regex = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_m, p: string) => (params.push(p), '([^/]+)'))}$`);
    for (const [method, op] of Object.entries(methods)) if (['get', 'post', 'patch', 'put', 'delete'].includes(method)) ops.push({ method: method.toUpperCase(), template, regex, params: [...params], op });
  }
  // Literal segments before templated ones: /issues/comments/{id} before /issues/{issue_number}.
  ops.sort((a, b) => a.params.length - b.params.length);
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
    for (const [k, x] of Object.entries(v as Json)) out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/') ? `gh.json${x}` : rewriteRefs(x);
    // Ajv wants null in a nullable enum; GitHub's description leaves it implicit.
    if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
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

/** The JSON schema GitHub documents for a response of `op` with `status`, if any. */
function responseSchema(op: Operation, status: number): unknown {
  let r = (op.op.responses as Json | undefined)?.[String(status)] as Json | undefined;
  if (r && typeof r.$ref === "string") r = ((description().spec.components as Json).responses as Record<string, Json>)[(r.$ref as string).split("/").pop()!];
  return ((r?.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema;
}

export interface FakeUser {
  login: string;
  type?: 'User' | 'Bot';
  /** role_name on the repository: admin, maintain, write, triage, read (none: not a collaborator). */
  role?: 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';
}

export class FakeGitHub {
  readonly owner: string;
  readonly repo: string;
  readonly violations: string[] = [];
  readonly requests: { method: string; path: string; status: number }[] = [];
  url = '';
  private server: Server | undefined;
  private nextId = 1000;
  private readonly users = new Map<string, FakeUser & { id: number }>();
  readonly issues = new Map<number, Json>();
  readonly comments = new Map<number, Json & { issue: number }>();
  readonly reactions: { subject: number; content: string; user: string }[] = [];
  readonly teams = new Map<string, Set<string>>();
  /** The login the token belongs to (the action's identity). */
  readonly actor: string;

  constructor(o: { owner?: string; repo?: string; actor?: string; users?: FakeUser[] } = {}) {
    this.owner = o.owner ?? 'contoso';
    this.repo = o.repo ?? 'platform';
    this.actor = o.actor ?? 'github-actions[bot]';
    this.addUser({ login: this.actor, type: 'Bot', role: 'write' });
    for (const u of o.users ?? []) this.addUser(u);
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

  private newIssue(title: string, body: string, author: string, labels: string[]): Json {
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
      labels: labels.map((name, i) => ({ id: i + 1, node_id: `LA_${i + 1}`, url: `${this.repoUrl()}/labels/${encodeURIComponent(name)}`, name, description: null, color: 'ededed', default: false })),
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
  comment(number: number, login: string, body: string): Json {
    const id = this.nextId++;
    const now = new Date().toISOString();
    const c = {
      issue: number,
      id,
      node_id: `IC_${id}`,
      url: `${this.repoUrl()}/issues/comments/${id}`,
      html_url: `https://github.example/${this.owner}/${this.repo}/issues/${number}#issuecomment-${id}`,
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

  // ---------- routing ----------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const op = description().ops.find((o) => o.method === method && o.regex.test(u.pathname));
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (op && status < 300 && body !== undefined) {
        const schema = responseSchema(op, status);
        if (!schema) this.violations.push(`${method} ${op.template}: GitHub documents no JSON response for status ${status}`);
        else {
          const v = validator(`res ${method} ${op.template} ${status}`, schema);
          if (!v(body)) this.violations.push(`${method} ${op.template} → ${status}: response does not match the description: ${v.errors!.slice(0, 5).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
        }
      }
      this.requests.push({ method, path: u.pathname, status });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ratelimit-remaining': '4999', 'x-ratelimit-limit': '5000', ...headers });
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
          this.violations.push(`${method} ${op.template}: request body does not match the description: ${v.errors!.slice(0, 5).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
          return send(422, { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest' });
        }
      }
    } else if ((op.op.requestBody as Json | undefined)?.required) {
      this.violations.push(`${method} ${op.template}: the request body is required`);
    }
    const m = u.pathname.match(op.regex)!;
    const p = Object.fromEntries(op.params.map((name, i) => [name, decodeURIComponent(m[i + 1]!)]));
    if ((p.owner && p.owner !== this.owner) || (p.repo && p.repo !== this.repo)) return send(404, { message: 'Not Found', documentation_url: '' });
    return this.route(method, op.template, p, body, u, send);
  }

  private route(method: string, t: string, p: Record<string, string>, body: Json, u: URL, send: (s: number, b?: unknown, h?: Record<string, string>) => void): void {
    const key = `${method} ${t}`;
    const q = u.searchParams;
    switch (key) {
      case 'GET /repos/{owner}/{repo}/issues': {
        const state = q.get('state') ?? 'open';
        const labels = (q.get('labels') ?? '').split(',').filter(Boolean);
        const all = [...this.issues.values()].filter((i) => (state === 'all' || i.state === state) && labels.every((l) => (i.labels as Json[]).some((x) => x.name === l)));
        return this.page(all.reverse(), u, send);
      }
      case 'POST /repos/{owner}/{repo}/issues':
        return send(201, this.newIssue(body.title as string, (body.body as string) ?? '', this.actor, (body.labels as string[]) ?? []));
      case 'GET /repos/{owner}/{repo}/issues/{issue_number}': {
        const i = this.issues.get(Number(p.issue_number));
        return i ? send(200, i) : send(404, { message: 'Not Found', documentation_url: '' });
      }
      case 'PATCH /repos/{owner}/{repo}/issues/{issue_number}': {
        const i = this.issues.get(Number(p.issue_number));
        if (!i) return send(404, { message: 'Not Found', documentation_url: '' });
        for (const k of ['title', 'body', 'state', 'state_reason'] as const) if (k in body) i[k] = body[k];
        if (body.state === 'closed') i.closed_at = new Date().toISOString();
        if (body.state === 'open') i.closed_at = null;
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
        const existing = this.reactions.find((r) => r.subject === id && r.content === content && r.user === this.actor);
        if (!existing) this.reactions.push({ subject: id, content, user: this.actor });
        return send(existing ? 200 : 201, { id: this.nextId++, node_id: 'REA_x', user: this.user(this.actor), content, created_at: new Date().toISOString() });
      }
      case 'GET /repos/{owner}/{repo}/collaborators/{username}/permission': {
        const u = this.users.get(p.username!.toLowerCase());
        if (!u) return send(404, { message: 'Not Found', documentation_url: '' });
        const role = u.role ?? 'none';
        const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
        const user = { ...this.user(u.login), permissions: { admin: role === 'admin', maintain: role === 'admin' || role === 'maintain', push: ['admin', 'maintain', 'write'].includes(role), triage: role !== 'read' && role !== 'none', pull: role !== 'none' }, role_name: role };
        return send(200, { permission, role_name: role, user });
      }
      case 'GET /orgs/{org}/teams/{team_slug}/memberships/{username}': {
        const members = this.teams.get(p.team_slug!);
        if (!members?.has(p.username!.toLowerCase())) return send(404, { message: 'Not Found', documentation_url: '' });
        return send(200, { url: `${this.url}/orgs/${p.org}/teams/${p.team_slug}/memberships/${p.username}`, role: 'member', state: 'active' });
      }
      default:
        this.violations.push(`${key}: documented by GitHub but not implemented by the fake`);
        return send(501, { message: 'not implemented by the fake' });
    }
  }

  /** GitHub's pagination: per_page (max 100), page, and a Link header with next and last. */
  private page(all: unknown[], u: URL, send: (s: number, b?: unknown, h?: Record<string, string>) => void): void {
    const q = u.searchParams;
    const per = Math.min(100, Number(q.get('per_page') ?? 30));
    const page = Number(q.get('page') ?? 1);
    const items = all.slice((page - 1) * per, page * per);
    const last = Math.max(1, Math.ceil(all.length / per));
    const link = (n: number, rel: string) => {
      const next = new URLSearchParams(q);
      next.set('page', String(n));
      next.set('per_page', String(per));
      return `<${this.url}${u.pathname}?${next}>; rel="${rel}"`;
    };
    const links = [page < last ? link(page + 1, 'next') : '', page < last ? link(last, 'last') : ''].filter(Boolean);
    send(200, items, links.length ? { link: links.join(', ') } : {});
  }
}
