// One cluster's GitHub session: answer the commands on its tracking issue or PR, then do what the
// mode and the ledger call for: execute the approved plan, or inspect the cluster and open,
// refresh, revise or close the tracking item. The ledger in the cluster (src/ledger/) is the
// record: the item it names, the plan revision, accepted approvals and commands, the execution.
// Bodies are views of it; nothing in a body is read back for a decision.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { UserError, type KubeClients } from '../kube/client.ts';
import type { PlanSettings, ExecuteSettings } from '../settings.ts';
import { inspectCluster } from '../plan/inspect.ts';
import { canonicalJson, shortId } from '../plan/canonical.ts';
import type { AksFacts, Plan } from '../plan/types.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { estimateOptions } from '../estimate/options.ts';
import type { EstimateOptions } from '../report/estimate.ts';
import { md } from '../report/escape.ts';
import type { RunOptions } from '../execute/run.ts';
import { parseComment } from './commands.ts';
import type { Authorization } from './decide.ts';
import { renderBody, replyMarker, type ProgressLine } from './body.ts';
import { authorize } from './authorize.ts';
import type { GitHubSettings } from './options.ts';
import type { ActionState } from '../states.ts';
import type { Octokit, Repo } from './octokit.ts';
import type { Tracker, TrackedItem, Comment } from './tracker.ts';
import { LedgerStore, type LedgerSnapshot } from '../ledger/store.ts';
import { LEDGER_NAME, currentApprovals, emptyLedger, runFinished, type Ledger } from '../ledger/record.ts';
import { judge, type Notice } from '../ledger/judge.ts';
import { auditLines } from '../ledger/audit.ts';
import { executePlan } from './execution.ts';
import { claimOpening, releaseOpening } from '../ledger/claim.ts';

export type SessionMode = 'plan' | 'decide' | 'execute';

export interface SessionEvent {
  name: string;
  /** The workflow_dispatch actor: asked for the plan (prevent-self-approval). */
  actor?: string;
  /** issue_comment: the issue or PR commented on. */
  issueNumber?: number;
  /** issue_comment: the comment that triggered this run. */
  commentId?: number;
}

export interface SessionDeps {
  tracker: Tracker;
  octokit: Octokit;
  repo: Repo;
  clients: KubeClients;
  settings: { plan: PlanSettings; execute: ExecuteSettings; github: GitHubSettings };
  event: SessionEvent;
  /** Where plan.json, report.md and result.md are written (RUNNER_TEMP). */
  outDir: string;
  log: (line: string) => void;
  /** A failure the job must show as one (an error annotation), though the run goes on; default: log. */
  error?: (line: string) => void;
  now?: () => Date;
  runUrl?: string;
  /** AKS facts for the planner, when the Azure integration is configured. */
  aksFacts?: () => Promise<AksFacts | undefined>;
  /** The Azure integration's rebooter, fallback and gates, when configured (asked only to execute). */
  extras?: () => Promise<Pick<RunOptions, 'rebooter' | 'gates' | 'fallback'>>;
}

export interface SessionResult {
  /** What happened to the tracking item. */
  outcome: 'ignored' | 'answered' | 'opened' | 'refreshed' | 'revised' | 'closed' | 'none' | 'executed';
  state: ActionState;
  planId?: string;
  number?: number;
  nodesPending: number;
  nodesRebooted: number;
  /** Nodes patched by a node image upgrade of their pool (counted apart from nodesRebooted). */
  nodesReimaged?: number;
  nodesFailed: number;
  planFile?: string;
  reportFile?: string;
  /** Markdown for the job summary. */
  summary: string;
  /** Writes to the tracking item that failed while the work went on: the job fails after it, naming them. */
  unrecorded?: string[];
}

/** What every step of a session shares: the deps, the cluster, the ledger and where it is. */
export interface Ctx {
  d: SessionDeps;
  cluster: string;
  store: LedgerStore;
  where: string;
  snap: LedgerSnapshot | undefined;
}

export const COMMANDS_HELP =
  'Other commands: `/reject [reason]`, `/replan`, `/skip <node>`, `/pause`, `/resume`, `/cancel`, `/status`.';
const TITLE_LIMIT = 256;

export function clusterName(c: KubeClients, s: PlanSettings): string {
  return s['cluster-name'] || c.kc.getCurrentCluster()?.name || c.context;
}

export const now = (d: SessionDeps) => (d.now ?? (() => new Date()))();
const zero = { nodesPending: 0, nodesRebooted: 0, nodesFailed: 0 };
const kindOf = (t: Tracker) => (t.kind === 'issue' ? 'issue' : 'pull request');

export async function runSession(mode: SessionMode, d: SessionDeps): Promise<SessionResult> {
  const store = new LedgerStore(d.clients, d.settings.plan.namespace);
  try {
    return await session(mode, d, store);
  } finally {
    d.log(
      `ledger ${d.settings.plan.namespace}/${LEDGER_NAME}: ${store.reads + store.writes} Kubernetes requests (${store.reads} reads, ${store.writes} writes)`,
    );
  }
}

async function session(mode: SessionMode, d: SessionDeps, store: LedgerStore): Promise<SessionResult> {
  const cluster = clusterName(d.clients, d.settings.plan);
  const ctx: Ctx = {
    d,
    cluster,
    store,
    where: `${d.settings.plan.namespace}/${LEDGER_NAME}`,
    snap: await store.read(),
  };
  const repository = `${d.repo.owner}/${d.repo.repo}`;
  const own = ctx.snap?.ledger;
  if (own && (own.repository !== repository || own.cluster !== cluster || own.tracking !== d.tracker.kind)) {
    throw new UserError(
      `the ledger ${ctx.where} belongs to cluster ${own.cluster} tracked by ${own.repository} (${own.tracking}), not ${cluster} in ${repository} (${d.tracker.kind}); use another namespace for a second setup`,
    );
  }
  const item = await currentItem(ctx);
  if (d.event.issueNumber !== undefined && d.event.issueNumber !== item?.number)
    return elsewhere(ctx, d.event.issueNumber);
  if (!item) {
    if (mode !== 'plan')
      return {
        outcome: 'none',
        state: 'none',
        ...zero,
        summary: `Reboot Pilot: no open tracking ${kindOf(d.tracker)} for ${md(cluster)}.\n`,
      };
    // An item made before the ledger existed is adopted (with a new revision: no approval carries over).
    const legacy = ctx.snap ? undefined : await d.tracker.find(cluster);
    return planAndSync(ctx, legacy, dispatcher(d), false);
  }
  await answer(ctx, item, mode === 'decide' && ctx.snap?.ledger.run?.state === 'executing');
  return afterAnswers(ctx, item, mode);
}

const dispatcher = (d: SessionDeps) => (d.event.name === 'workflow_dispatch' ? d.event.actor : undefined);

/** What the answered ledger calls for in this mode. */
async function afterAnswers(ctx: Ctx, item: TrackedItem, mode: SessionMode): Promise<SessionResult> {
  const { d } = ctx;
  const l = ctx.snap!.ledger;
  const plan = l.plan!;
  // decide (beside a possibly live execution) only answers; closing and re-planning are left to the jobs in its group.
  if (mode !== 'decide' && l.state === 'replan-requested') return planAndSync(ctx, item, l.replanBy, true);
  if (mode !== 'decide' && (l.state === 'rejected' || l.state === 'cancelled'))
    return closeItem(ctx, item, l.state);
  const started = !!l.run && !runFinished(l.run);
  const lapsed = l.state === 'approved' && !l.run && now(d).getTime() > Date.parse(plan.expiresAt);
  const expected = d.settings.github['expect-plan-id'].toLowerCase();
  if (mode === 'execute' && expected && expected !== plan.id) {
    // The environment reviewer approved a job for one plan (its full ID); anything else is not it.
    const why =
      expected.length !== 64
        ? `expect-plan-id must be the full 64-digit plan ID, not ${expected.length} digits`
        : `the plan is now \`${shortId(plan.id)}\`, not the \`${shortId(expected)}\` this job was approved for`;
    d.log(`${why}: not executing`);
    return {
      outcome: 'ignored',
      state: 'ignored',
      planId: plan.id,
      number: item.number,
      ...counts(l),
      summary: `Reboot Pilot: ${why}; nothing executed.\n`,
    };
  }
  // Executions start only on purpose: the comment that completed the approvals or resumed (the
  // ledger names it), or a schedule continuing an execution the ledger shows under way.
  const go = l.go && l.go.revision === plan.revision ? l.go : undefined;
  const onPurpose = !!go && d.event.commentId === go.commentId;
  const runnable = l.state === 'approved' && !lapsed && !runFinished(l.run);
  // A job started by no comment (schedule, dispatch) may continue what the ledger shows under way.
  const continuation = started && !!go && d.event.commentId === undefined;
  if (runnable && mode === 'execute' && (onPurpose || continuation)) return executePlan(ctx, item);
  if (runnable && mode === 'plan' && continuation) {
    // A schedule whose identity cannot reboot (the environment setup's plan workflow) hands the
    // continuation to a job that can (state executing starts the environment's execute job),
    // instead of failing the execution on the first cordon.
    const missing = await cannotReboot(d.clients);
    if (!missing) return executePlan(ctx, item);
    const why =
      `this job's Kubernetes identity cannot ${missing}, so it does not continue the execution: ` +
      `it is left to a job that can (the environment's execute job, started by the state output ` +
      `executing), or to /resume`;
    d.log(why);
    return {
      outcome: 'answered',
      state: 'executing',
      planId: plan.id,
      number: item.number,
      ...counts(l),
      summary: `Reboot Pilot: ${md(why)}.\n`,
    };
  }
  if (runnable && mode === 'execute')
    d.log(
      'the plan is approved, but this comment did not start it (only the completing approval or /resume does): not executing',
    );
  if (runnable && mode === 'plan' && !started)
    d.log(
      'the plan is approved but its execution never started: a schedule only continues an execution the ledger shows under way, so nothing is executed',
    );
  if (lapsed && mode === 'execute' && onPurpose)
    await d.tracker.comment(
      item,
      `Plan \`${shortId(plan.id)}\` expired at ${plan.expiresAt} before its execution started; comment \`/replan\` for a fresh plan.`,
    );
  if (mode === 'plan' && !started && (l.state !== 'approved' || lapsed))
    return planAndSync(ctx, item, dispatcher(d), false);
  let state: ActionState = runFinished(l.run)
    ? l.run!.state
    : lapsed
      ? 'expired'
      : l.run?.state === 'executing'
        ? 'executing'
        : l.state;
  // decide's "approved" starts the environment's execute job: only for the comment that approved.
  if (mode === 'decide' && state === 'approved' && !onPurpose) state = 'answered';
  return {
    outcome: 'answered',
    state,
    planId: plan.id,
    number: item.number,
    ...counts(l),
    summary: statusText(ctx.cluster, l, d.settings.github['required-approvals']) + '\n',
  };
}

/** What this identity may not do of what an execution needs (SelfSubjectAccessReview), or undefined. */
async function cannotReboot(clients: KubeClients): Promise<string | undefined> {
  const api = clients.kc.makeApiClient(k8s.AuthorizationV1Api);
  const needs: [string, k8s.V1ResourceAttributes][] = [
    ['patch (cordon) nodes', { verb: 'patch', resource: 'nodes' }],
    ['evict pods', { verb: 'create', resource: 'pods', subresource: 'eviction' }],
  ];
  for (const [what, resourceAttributes] of needs) {
    try {
      const r = await api.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes } } });
      if (!r.status?.allowed) return what;
    } catch {
      return undefined; // Unknown: try, as before; the execution names any denial itself.
    }
  }
  return undefined;
}

/** The ledger's open item as GitHub has it now; a closing by hand (even one undone since) is recorded. */
async function currentItem(ctx: Ctx): Promise<TrackedItem | undefined> {
  const it = ctx.snap?.ledger.item;
  if (!it || it.closed) return undefined;
  const got = await ctx.d.tracker.get(it.number).catch((e: unknown) => {
    // Deleted (admins can delete issues): as closed as it gets.
    if ((e as { status?: number }).status === 404)
      return { open: false, closings: [] as { at: string; by: string }[] };
    throw e;
  });
  const closing = got.closings.find((c) => Date.parse(c.at) >= Date.parse(it.openedAt));
  if (got.open && !closing && 'number' in got) return got;
  const at = closing?.at ?? now(ctx.d).toISOString();
  const by = closing?.by ?? 'someone';
  ctx.d.log(
    `#${it.number} was closed by ${by} at ${at}${got.open ? ' and reopened since' : ''}: the ledger records it closed`,
  );
  await update(ctx, (l) => ({
    ...closedLedger(l, { at, by, how: 'closed by hand' }),
    ...(l.run && !runFinished(l.run)
      ? { run: { ...l.run, state: 'cancelled' as const, message: `the tracking item was closed by ${by}` } }
      : {}),
  }));
  return undefined;
}

function closedLedger(l: Ledger, closed: { at: string; by: string; how: string }): Ledger {
  const { go: _, ...rest } = l;
  return { ...rest, state: 'closed', item: { ...l.item!, closed } };
}

/** Applies a change to the ledger (re-applied on a write conflict) and keeps the snapshot. */
export async function update(ctx: Ctx, change: (l: Ledger) => Ledger, planFile?: string): Promise<Ledger> {
  const r = await ctx.store.update(
    (s) => (s ? { ledger: change(s.ledger), ...(planFile ? { planFile } : {}), out: true } : undefined),
    ctx.snap,
  );
  ctx.snap = r.snapshot;
  if (!ctx.snap)
    throw new UserError(`the ledger ${ctx.where} disappeared during the run; nothing more is done`);
  return ctx.snap.ledger;
}

/** A comment on another issue or PR: a former tracking item (closed, maybe reopened) gets an answer. */
async function elsewhere(ctx: Ctx, number: number): Promise<SessionResult> {
  const { d } = ctx;
  const l = ctx.snap?.ledger;
  const former =
    l?.former.find((f) => f.number === number) ??
    (l?.item?.number === number && l.item.closed
      ? {
          number,
          closedAt: l.item.closed.at,
          by: l.item.closed.by,
          how: l.item.closed.how,
          lastCommentId: l.lastCommentId,
        }
      : undefined);
  const kind = kindOf(d.tracker);
  if (!former) {
    const why = `#${number} is not the open tracking ${kind} of cluster ${ctx.cluster}; nothing to do`;
    d.log(why);
    return { outcome: 'ignored', state: 'ignored', ...zero, summary: `Reboot Pilot: ${md(why)}.\n` };
  }
  const item = { number, body: '', url: '' };
  const comments = (await d.tracker.comments(item)).filter(
    (c) => c.id > former.lastCommentId && c.userType !== 'Bot' && parseComment(c.body).kind !== 'none',
  );
  const last = Math.max(former.lastCommentId, ...comments.map((c) => c.id));
  await update(ctx, (x) =>
    x.item?.number === number
      ? { ...x, lastCommentId: Math.max(x.lastCommentId, last) }
      : { ...x, former: x.former.map((f) => (f.number === number ? { ...f, lastCommentId: last } : f)) },
  );
  const why = `#${number} was closed (${former.how}, by ${former.by} at ${former.closedAt}); Reboot Pilot's record keeps it closed, so nothing on it is executed, even if it was reopened. The next scheduled run plans in a new tracking ${kind}.`;
  for (const c of comments) {
    await d.tracker.react(c.id, 'confused');
    await d.tracker.comment(item, `@${c.login}: ${why}\n\n${replyMarker(String(c.id), true)}`);
  }
  return { outcome: 'ignored', state: 'closed', ...zero, summary: `Reboot Pilot: ${md(why)}\n` };
}

export function counts(l: Ledger) {
  const nodes = l.run?.nodes ?? [];
  const ok = nodes.filter((n) => n.outcome === 'rebooted' || n.outcome === 'already-done').length;
  const reimaged = nodes.filter((n) => n.outcome === 'reimaged').length;
  const failed = nodes.filter((n) => n.outcome === 'failed').length;
  const skipped = nodes.filter((n) => n.outcome === 'skipped').length;
  return {
    nodesPending: (l.plan?.nodes.length ?? 0) - ok - reimaged - failed - skipped,
    nodesRebooted: ok,
    nodesReimaged: reimaged,
    nodesFailed: failed,
  };
}

/** Judges the comments not judged yet, records the outcome in the ledger, then reacts and replies. */
export async function answer(ctx: Ctx, item: TrackedItem, executing: boolean): Promise<Ledger> {
  const { d } = ctx;
  const g = d.settings.github;
  const comments = await d.tracker.comments(item);
  const self = item.author ?? 'github-actions[bot]';
  const auths = await authorizations(d, comments, ctx.snap!.ledger.lastCommentId);
  const options = {
    minPermission: g['min-permission'],
    allowUsers: g['allow-users'],
    allowTeams: g['allow-teams'],
    requiredApprovals: g['required-approvals'],
    preventSelfApproval: g['prevent-self-approval'],
    selfLogin: self,
    now: now(d),
    executing,
  };
  let notices: Notice[] = [];
  const r = await ctx.store.update((s) => {
    if (!s) return undefined;
    const j = judge(
      s.ledger,
      comments,
      (login) => auths.get(login.toLowerCase()) ?? { permission: 'none', teams: [] },
      options,
    );
    notices = j.notices;
    return JSON.stringify(j.ledger) === JSON.stringify(s.ledger)
      ? undefined
      : { ledger: j.ledger, out: true };
  }, ctx.snap);
  ctx.snap = r.snapshot;
  const l = ctx.snap!.ledger;
  for (const n of notices) {
    if (n.commentId) await d.tracker.react(n.commentId, n.reaction);
    const reply = n.status ? statusText('', l, g['required-approvals']) : n.reply;
    await d.tracker.comment(item, `${reply}\n\n${replyMarker(n.key, n.reaction === 'confused')}`);
    d.log(`comment ${n.commentId || n.key}: ${n.reaction}`);
  }
  return l;
}

async function authorizations(
  d: SessionDeps,
  comments: Comment[],
  after: number,
): Promise<Map<string, Authorization>> {
  const auths = new Map<string, Authorization>();
  for (const c of comments) {
    const login = c.login.toLowerCase();
    if (c.id <= after || c.userType === 'Bot' || auths.has(login) || parseComment(c.body).kind === 'none')
      continue;
    auths.set(login, await authorize(d.octokit, d.repo, c.login, d.settings.github['allow-teams']));
  }
  return auths;
}

export function statusText(cluster: string, l: Ledger, required: number): string {
  const p = l.plan!;
  const approvals = currentApprovals(l);
  const parts = [
    `Plan \`${shortId(p.id)}\` (revision ${p.revision}${cluster ? `, cluster ${md(cluster)}` : ''}): ${l.state}`,
  ];
  parts.push(
    `approvals ${approvals.length} of ${required}${approvals.length ? ` (${approvals.map((a) => `@${a.login}`).join(', ')})` : ''}`,
  );
  parts.push(`expires ${p.expiresAt}`);
  if (l.skipped.length) parts.push(`skipped: ${l.skipped.map(md).join(', ')}`);
  const held = l.commands
    .filter(
      (c) => c.revision === p.revision && (c.kind === 'pause' || c.kind === 'cancel' || c.kind === 'reject'),
    )
    .pop();
  if (held && l.state !== 'approved')
    parts.push(`/${held.kind} by @${held.login} (comment ${held.commentId}) holds`);
  if (l.run) parts.push(`execution ${l.run.state}: ${md(l.run.message)}`);
  return parts.join('; ') + '.';
}

const METHOD_TEXT = { reboot: 'reboot', 'node-image-upgrade': 'node image upgrade (pool-wide)' } as const;

/** The checklist: the plan's nodes, marked from the execution's per-node results. */
export function progressLines(l: Ledger, plan?: Plan): ProgressLine[] {
  const byName = new Map((l.run?.nodes ?? []).map((n) => [n.name, n]));
  const methods = new Map((plan?.nodes ?? []).map((p) => [p.name, p.method]));
  return (l.plan?.nodes ?? []).map((name) => {
    const n = byName.get(name);
    const method = methods.get(name);
    if (!n || n.outcome === 'not-started')
      return { node: name, mark: 'pending', text: method ? METHOD_TEXT[method] : 'pending' };
    if (n.outcome === 'reimaged') {
      const images = `${n.nodeImageBefore || '?'} → ${n.nodeImageAfter || '?'}`;
      return { node: name, mark: 'done', text: `reimaged: node image ${images}` };
    }
    if (n.outcome === 'rebooted' || n.outcome === 'already-done')
      return {
        node: name,
        mark: 'done',
        text:
          n.kernelAfter && n.kernelAfter !== n.kernelBefore
            ? `${n.kernelBefore} → ${n.kernelAfter}`
            : (n.detail ?? n.outcome),
      };
    if (n.outcome === 'skipped') return { node: name, mark: 'skipped', text: n.detail ?? 'skipped' };
    return { node: name, mark: 'failed', text: n.detail ?? 'failed' };
  });
}

/** The body of the item for the ledger as it is. */
export function bodyFor(
  ctx: Ctx,
  report: string,
  plan?: Plan,
  footer?: string,
  progress?: ProgressLine[],
): string {
  return renderBody({
    cluster: ctx.cluster,
    ledger: ctx.snap!.ledger,
    where: ctx.where,
    report,
    progress: progress ?? progressLines(ctx.snap!.ledger, plan),
    ...(footer ? { footer } : {}),
  });
}

export function preambleFor(ctx: Ctx): string {
  const p = ctx.snap!.ledger.plan!;
  const g = ctx.d.settings.github;
  return `To approve, comment \`/approve ${shortId(p.id)}\` (revision ${p.revision}, expires ${p.expiresAt}${g['required-approvals'] > 1 ? `, ${g['required-approvals']} approvals needed` : ''}). ${COMMANDS_HELP}`;
}

/** The item is closed: recorded in the ledger first, so a crash in between never leaves it open there. */
async function closeItem(
  ctx: Ctx,
  item: TrackedItem,
  ending: 'rejected' | 'cancelled',
): Promise<SessionResult> {
  const { d } = ctx;
  const at = now(d).toISOString();
  const l = await update(ctx, (x) =>
    closedLedger(
      {
        ...x,
        ...(x.run && !runFinished(x.run)
          ? { run: { ...x.run, state: 'cancelled' as const, at, message: `${ending} by a comment` } }
          : {}),
      },
      { at, by: 'reboot-pilot', how: ending },
    ),
  );
  const id = shortId(l.plan!.id);
  const audit = auditLines(l).join('\n');
  await d.tracker.finish(
    ctx.cluster,
    item,
    ending,
    `Plan \`${id}\` ${ending}: nothing more will be done for it. The next scheduled run makes a new plan.\n\n${audit}`,
    {},
    `Reboot plan ${id} ${ending}\n\n${audit}`,
  );
  return {
    outcome: 'closed',
    state: ending,
    planId: l.plan!.id,
    number: item.number,
    ...counts(l),
    summary: `Reboot Pilot: plan \`${id}\` for ${md(ctx.cluster)} ${ending}.\n`,
  };
}

/** A fresh ledger for a new item, keeping the record of the items before it. */
function newItemLedger(ctx: Ctx, number: number, at: string): Ledger {
  const d = ctx.d;
  const prev = ctx.snap?.ledger;
  const fresh = emptyLedger(`${d.repo.owner}/${d.repo.repo}`, ctx.cluster, d.tracker.kind, now(d));
  const closed = prev?.item?.closed
    ? [
        {
          number: prev.item.number,
          closedAt: prev.item.closed.at,
          by: prev.item.closed.by,
          how: prev.item.closed.how,
          lastCommentId: prev.lastCommentId,
        },
      ]
    : [];
  return {
    ...fresh,
    former: [...(prev?.former ?? []), ...closed].slice(-20),
    item: { number, openedAt: at },
  };
}

async function planAndSync(
  ctx: Ctx,
  item: TrackedItem | undefined,
  requestedBy: string | undefined,
  force: boolean,
): Promise<SessionResult> {
  const { d, cluster } = ctx;
  const g = d.settings.github;
  const aks = await d.aksFacts?.();
  const { plan, id } = await inspectCluster(d.clients, d.settings.plan, d.log, aks);
  const estimate = estimateOptions(d.settings.execute, aks);
  const at = now(d);
  const { base, files, planText, reportRef } = writeArtifacts(d, plan, id, at, estimate);
  const adopted = !!item && !(ctx.snap?.ledger.item?.number === item.number && !ctx.snap.ledger.item.closed);

  if (!plan.nodes.length) {
    if (!item) return { ...base, outcome: 'none', state: 'up-to-date' };
    if (!adopted)
      await update(ctx, (l) =>
        closedLedger(l, { at: at.toISOString(), by: 'reboot-pilot', how: 'nothing to do' }),
      );
    await d.tracker.finish(
      cluster,
      item,
      'nothing-to-do',
      `Nothing needs a reboot any more: all ${plan.upToDate.length} inspected node(s) are up to date. Closing.`,
      files,
      `Cluster ${cluster} is up to date`,
    );
    return { ...base, outcome: 'closed', state: 'up-to-date', number: item.number };
  }
  const prev = adopted ? undefined : ctx.snap?.ledger;
  const before = item && prev?.plan ? prev.plan : undefined;
  const expired = !!before && at.getTime() > Date.parse(before.expiresAt);
  const same = !!before && before.id === id && !prev!.run && !expired && !force;
  const revision = {
    id,
    revision: (before?.revision ?? 0) + 1,
    createdAt: at.toISOString(),
    expiresAt: new Date(at.getTime() + g['plan-ttl-hours'] * 3_600_000).toISOString(),
    ...(requestedBy ? { requestedBy } : {}),
    afterCommentId: prev?.lastCommentId ?? 0,
    nodes: plan.nodes.map((n) => n.name),
  };
  const title = `Reboot plan for ${cluster}: ${plan.nodes.length} node(s)`.slice(0, TITLE_LIMIT);
  const message = `Reboot plan ${shortId(id)} for ${cluster} (revision ${same ? before.revision : revision.revision})`;
  const state = 'awaiting-approval';
  const render = () =>
    bodyFor(
      ctx,
      renderMarkdown(plan, id, { estimate, now: at, preamble: preambleFor(ctx), fullReportRef: reportRef }),
      plan,
    );
  if (same) {
    const body = render();
    if (body !== item!.body || title !== item!.title) await d.tracker.update(item!, body, title);
    return { ...base, outcome: 'refreshed', state, number: item!.number };
  }
  const fresh = (l: Ledger): Ledger => {
    const { go: _g, run: _r, pausedFrom: _p, replanBy: _b, ...rest } = l;
    return {
      ...rest,
      plan: revision,
      state: 'awaiting-approval',
      skipped: [],
      approvals: l.approvals.filter((a) => a.revision === revision.revision),
    };
  };
  if (!item) {
    // Claimed in the ledger first: of two jobs planning at once, one opens the item.
    const by = randomUUID();
    const claim = await claimOpening(ctx.store, ctx.snap, {
      by,
      now: at,
      kind: kindOf(d.tracker),
      cluster,
      fresh: () => emptyLedger(`${d.repo.owner}/${d.repo.repo}`, cluster, d.tracker.kind, at),
    });
    ctx.snap = claim.snapshot;
    if (!claim.granted) {
      d.log(`${claim.why}: this run opens nothing`);
      return { ...base, outcome: 'none', state: 'ignored', summary: `Reboot Pilot: ${md(claim.why)}.\n` };
    }
    // The body shows the ledger about to be written (it names no item number); a crash between
    // opening and the ledger write leaves an item the ledger never trusts.
    const shown = { ...ctx, snap: { ledger: fresh(newItemLedger(ctx, 1, at.toISOString())) } };
    const created = await d.tracker
      .open(
        cluster,
        title,
        bodyFor(
          shown,
          renderMarkdown(plan, id, {
            estimate,
            now: at,
            preamble: preambleFor(shown),
            fullReportRef: reportRef,
          }),
          plan,
        ),
        files,
        message,
      )
      .catch(async (e: unknown) => {
        // Nothing was opened: the next run need not wait for the claim to lapse.
        await releaseOpening(ctx.store, by).catch(() => undefined);
        throw e;
      });
    await writeNew(ctx, created.number, at, fresh, planText);
    d.log(`opened tracking ${d.tracker.kind} #${created.number} for plan ${shortId(id)}`);
    return { ...base, outcome: 'opened', state, number: created.number };
  }
  if (adopted) await writeNew(ctx, item.number, at, fresh, planText);
  else await update(ctx, fresh, planText);
  await d.tracker.revise(cluster, item, title, render(), files, message);
  await d.tracker.comment(
    item,
    revisionNote(id, revision.revision, prev, before, force ? (requestedBy ?? '') : undefined, adopted),
  );
  return { ...base, outcome: 'revised', state, number: item.number };
}

/** plan.json and the full report under RUNNER_TEMP (the artifact), and what every outcome reports. */
function writeArtifacts(d: SessionDeps, plan: Plan, id: string, at: Date, estimate: EstimateOptions) {
  const dir = join(d.outDir, shortId(id));
  mkdirSync(dir, { recursive: true });
  const planText =
    JSON.stringify({ planId: id, plan: JSON.parse(canonicalJson(plan)) as unknown }, null, 2) + '\n';
  const fullReport = renderMarkdown(plan, id, { estimate, now: at, limit: Number.MAX_SAFE_INTEGER });
  const planFile = join(dir, 'plan.json');
  const reportFile = join(dir, 'report.md');
  writeFileSync(planFile, planText);
  writeFileSync(reportFile, fullReport);
  const reportRef =
    d.tracker.kind === 'pull-request'
      ? 'report.md in this pull request'
      : 'report.md in the reboot-pilot artifact';
  const summary = renderMarkdown(plan, id, { estimate, now: at, fullReportRef: reportRef });
  const base = {
    planId: id,
    planFile,
    reportFile,
    nodesPending: plan.nodes.length,
    nodesRebooted: 0,
    nodesFailed: 0,
    summary,
  };
  return { base, files: { 'plan.json': planText, 'report.md': fullReport }, planText, reportRef };
}

/** The comment that announces a new revision: why, what it replaces, what is still cordoned. */
function revisionNote(
  id: string,
  revision: number,
  prev: Ledger | undefined,
  before: Ledger['plan'],
  replanFor: string | undefined,
  adopted: boolean,
): string {
  const why = adopted
    ? 'Reboot Pilot now keeps its record in the cluster'
    : replanFor !== undefined
      ? `Re-planned${replanFor ? ` for @${replanFor}` : ''}`
      : before && before.id === id
        ? prev?.run
          ? `The execution of the previous revision ended (${prev.run.state}); a new revision of the same plan`
          : 'The previous revision expired; a new revision of the same plan'
        : 'The cluster changed';
  const cordoned = prev?.run?.leftCordoned ?? [];
  const left = cordoned.length
    ? ` Still cordoned by the previous revision's execution: ${cordoned.map(md).join(', ')} (this plan's run uncordons them after their reboot, or \`kubectl uncordon\` them).`
    : '';
  const replaced = before ? shortId(before.id) : 'none';
  return `${why}: plan \`${shortId(id)}\` (revision ${revision}) replaces \`${replaced}\` (revision ${before?.revision ?? 0}). Earlier approvals are discarded.${left}`;
}

async function writeNew(
  ctx: Ctx,
  number: number,
  at: Date,
  fresh: (l: Ledger) => Ledger,
  planText: string,
): Promise<void> {
  const first = fresh(newItemLedger(ctx, number, at.toISOString()));
  const r = await ctx.store.update(
    (s) => ({
      ledger: s ? fresh(newItemLedger({ ...ctx, snap: s }, number, at.toISOString())) : first,
      planFile: planText,
      out: true,
    }),
    ctx.snap ?? 'none',
  );
  ctx.snap = r.snapshot;
}
