// One cluster's GitHub session: answer the commands on its tracking issue or PR, then do what the
// mode and the plan's state call for: execute the approved plan, or inspect the cluster and open,
// refresh, revise or close the tracking item. Approvals are recomputed from the comments every
// time (foldComments); the body only names the plan under review and the execution's progress.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, type KubeClients } from '../kube/client.ts';
import type { PlanSettings, ExecuteSettings } from '../settings.ts';
import { inspectCluster } from '../plan/inspect.ts';
import { canonicalJson, shortId } from '../plan/canonical.ts';
import type { AksFacts, Plan } from '../plan/types.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { renderResultMarkdown } from '../report/result.ts';
import { md } from '../report/escape.ts';
import { readPlanFile, runPlan, type RunOptions } from '../execute/run.ts';
import type { ExecEvent, ExecutionResult, Interruption } from '../execute/executor.ts';
import { parseComment } from './commands.ts';
import type { Authorization, PlanRecord } from './decide.ts';
import { answeredKeys, foldComments, isFinished, readTrackedPlan, renderBody, replyMarker, reportOf, stateFits, type FoldResult, type ProgressLine, type TrackedPlan, type TrackedRun } from './body.ts';
import { authorize } from './authorize.ts';
import type { GitHubSettings } from './options.ts';
import type { ActionState } from '../states.ts';
import type { Octokit, Repo } from './octokit.ts';
import type { Tracker, TrackedItem } from './tracker.ts';

export type SessionMode = 'plan' | 'decide' | 'execute';

export interface SessionEvent {
  name: string;
  /** The workflow_dispatch actor: asked for the plan (prevent-self-approval). */
  actor?: string;
  /** issue_comment: the issue or PR commented on. */
  issueNumber?: number;
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
  nodesFailed: number;
  planFile?: string;
  reportFile?: string;
  /** Markdown for the job summary. */
  summary: string;
}

const COMMANDS_HELP = 'Other commands: `/reject [reason]`, `/replan`, `/skip <node>`, `/pause`, `/resume`, `/cancel`, `/status`.';

export function clusterName(c: KubeClients, s: PlanSettings): string {
  return s['cluster-name'] || c.kc.getCurrentCluster()?.name || c.context;
}

export async function runSession(mode: SessionMode, d: SessionDeps): Promise<SessionResult> {
  const cluster = clusterName(d.clients, d.settings.plan);
  const kind = d.tracker.kind === 'issue' ? 'issue' : 'pull request';
  const item = await d.tracker.find(cluster);
  if (d.event.issueNumber !== undefined && item?.number !== d.event.issueNumber) {
    const why = `#${d.event.issueNumber} is not the open tracking ${kind} of cluster ${cluster}; nothing to do`;
    d.log(why);
    return { outcome: 'ignored', state: 'ignored', nodesPending: 0, nodesRebooted: 0, nodesFailed: 0, summary: `Reboot Pilot: ${md(why)}.\n` };
  }
  if (!item) {
    if (mode !== 'plan') return { outcome: 'none', state: 'none', nodesPending: 0, nodesRebooted: 0, nodesFailed: 0, summary: `Reboot Pilot: no open tracking ${kind} for ${md(cluster)}.\n` };
    return planAndSync(d, cluster, undefined, undefined, d.event.name === 'workflow_dispatch' ? d.event.actor : undefined);
  }
  const key = d.settings.github['state-key'] || undefined;
  const tracked = readTrackedPlan(item.body, key);
  if (!tracked) throw new UserError(`#${item.number} carries the tracking marker of ${cluster} but no ${key ? 'validly signed' : 'readable'} plan state (was its body edited?); close it and the next plan run opens a new one`);

  // In the jobs that share the executions' concurrency group, an "executing" state is a job that
  // died (a live one would hold the group); only decide (an environment's first job) runs beside one.
  const executing = tracked.run?.state === 'executing' && mode === 'decide';
  const auths = new Map<string, Authorization>();
  const { fold, lastCommentId } = await answerComments(d, item, tracked, auths, executing);
  const r = fold.record;
  // decide (beside a possibly live execution, outside its concurrency group) only answers; the
  // closing and re-planning are left to the jobs in that group (execute, the schedule).
  if (mode !== 'decide' && r.state === 'replan-requested') return planAndSync(d, cluster, item, tracked, r.replanBy, true, lastCommentId);
  if (mode !== 'decide' && (r.state === 'rejected' || (r.state === 'cancelled' && !isFinished(tracked.run)))) {
    const ending = r.state === 'rejected' ? 'rejected' : 'cancelled';
    const run = tracked.run ? { ...tracked.run, state: 'cancelled' as const, at: now(d).toISOString(), message: `${ending} by a comment` } : undefined;
    const next = { ...tracked, ...(run ? { run } : {}) };
    await d.tracker.update(item, renderBody(cluster, next, reportOf(item.body), progressLines(next), '', key));
    await d.tracker.finish(cluster, item, ending, `Plan \`${shortId(tracked.planId)}\` ${ending}: nothing more will be done for it. The next scheduled run makes a new plan.`, {}, `Reboot plan ${shortId(tracked.planId)} ${ending}`);
    return { outcome: 'closed', state: ending, planId: tracked.planId, number: item.number, ...counts(next), summary: `Reboot Pilot: plan \`${shortId(tracked.planId)}\` for ${md(cluster)} ${ending}.\n` };
  }
  const started = !!tracked.run && !isFinished(tracked.run);
  // An approval is for starting before the plan expires; a started execution may continue after.
  const lapsed = r.state === 'approved' && !tracked.run && now(d).getTime() > Date.parse(tracked.expiresAt);
  const expected = d.settings.github['expect-plan-id'].toLowerCase();
  if (mode === 'execute' && expected && !tracked.planId.startsWith(expected)) {
    // The environment reviewer approved a job for one plan; a re-plan meanwhile is not it.
    d.log(`the tracked plan is now ${shortId(tracked.planId)}, not ${expected.slice(0, 12)} (expect-plan-id): not executing`);
    return { outcome: 'ignored', state: 'ignored', planId: tracked.planId, number: item.number, ...counts(tracked), summary: `Reboot Pilot: the plan changed to \`${shortId(tracked.planId)}\` since this job was approved; nothing executed.\n` };
  }
  if (r.state === 'approved' && !lapsed && !isFinished(tracked.run)) {
    // execute runs approved plans; plan (the schedule) only continues one an execute job started,
    // so an environment gate in front of the execute job is never bypassed.
    if (mode === 'execute' || (mode === 'plan' && started)) return execute(d, cluster, item, tracked, auths);
  }
  if (lapsed && mode === 'execute') await d.tracker.comment(item, `Plan \`${shortId(tracked.planId)}\` expired at ${tracked.expiresAt} before its execution started; comment \`/replan\` for a fresh plan.`);
  // A schedule makes a new plan unless this one is approved (and not lapsed) or its execution is under way.
  if (mode === 'plan' && !started && (r.state !== 'approved' || lapsed)) return planAndSync(d, cluster, item, tracked, d.event.actor && d.event.name === 'workflow_dispatch' ? d.event.actor : undefined, false, lastCommentId);
  const state = isFinished(tracked.run) ? tracked.run!.state : lapsed ? 'expired' : tracked.run?.state === 'executing' ? 'executing' : r.state;
  return { outcome: 'answered', state, planId: tracked.planId, number: item.number, ...counts(tracked), summary: statusText(cluster, tracked, r, d.settings.github['required-approvals']) + '\n' };
}

const now = (d: SessionDeps) => (d.now ?? (() => new Date()))();

function counts(t: TrackedPlan) {
  const nodes = t.run?.nodes ?? [];
  const ok = nodes.filter((n) => n.outcome === 'rebooted' || n.outcome === 'already-done').length;
  const failed = nodes.filter((n) => n.outcome === 'failed').length;
  const skipped = nodes.filter((n) => n.outcome === 'skipped').length;
  return { nodesPending: t.nodes.length - ok - failed - skipped, nodesRebooted: ok, nodesFailed: failed };
}

/** Replays the comments, reacts to and answers the new ones; returns the recomputed record. */
async function answerComments(d: SessionDeps, item: TrackedItem, tracked: TrackedPlan, auths: Map<string, Authorization>, executing: boolean): Promise<{ fold: FoldResult; lastCommentId: number }> {
  const g = d.settings.github;
  const comments = await d.tracker.comments(item);
  const self = item.author ?? 'github-actions[bot]';
  for (const c of comments) {
    const login = c.login.toLowerCase();
    if (c.userType === 'Bot' || auths.has(login) || parseComment(c.body).kind === 'none') continue;
    auths.set(login, await authorize(d.octokit, d.repo, c.login, g['allow-teams']));
  }
  const fold = foldComments(
    tracked,
    comments,
    (login) => auths.get(login.toLowerCase()) ?? { permission: 'none', teams: [] },
    {
      minPermission: g['min-permission'],
      allowUsers: g['allow-users'],
      allowTeams: g['allow-teams'],
      requiredApprovals: g['required-approvals'],
      preventSelfApproval: g['prevent-self-approval'],
      selfLogin: self,
      now: now(d),
      ...(isFinished(tracked.run) ? { finished: tracked.run!.state } : {}),
      executing,
    },
    answeredKeys(comments, self),
  );
  for (const { commentId, key, decision } of fold.decisions) {
    await d.tracker.react(commentId, decision.reaction);
    const reply = decision.next === 'status' ? statusText('', tracked, decision.record, g['required-approvals']) : decision.reply!;
    await d.tracker.comment(item, `${reply}\n\n${replyMarker(key, decision.reaction === 'confused')}`);
    d.log(`comment ${commentId}: ${decision.reaction}${decision.next !== 'none' ? ` (${decision.next})` : ''}`);
  }
  return { fold, lastCommentId: comments.reduce((m, c) => Math.max(m, c.id), 0) };
}

function statusText(cluster: string, t: TrackedPlan, r: PlanRecord, required: number): string {
  const parts = [`Plan \`${shortId(t.planId)}\` (revision ${t.revision}${cluster ? `, cluster ${md(cluster)}` : ''}): ${r.state}`];
  parts.push(`approvals ${r.approvals.length} of ${required}${r.approvals.length ? ` (${r.approvals.map((a) => `@${a.login}`).join(', ')})` : ''}`);
  parts.push(`expires ${t.expiresAt}`);
  if (r.skipped.length) parts.push(`skipped: ${r.skipped.map(md).join(', ')}`);
  if (t.run) parts.push(`execution ${t.run.state}: ${md(t.run.message)}`);
  return parts.join('; ') + '.';
}

const METHOD_TEXT = { reboot: 'reboot', 'node-image-upgrade': 'node image upgrade (pool-wide)' } as const;

/** The checklist: the plan's nodes, marked from the execution's per-node results. */
function progressLines(t: TrackedPlan, plan?: Plan): ProgressLine[] {
  const byName = new Map((t.run?.nodes ?? []).map((n) => [n.name, n]));
  return t.nodes.map((name) => {
    const n = byName.get(name);
    const planned = plan?.nodes.find((p) => p.name === name);
    if (!n || n.outcome === 'not-started') return { node: name, mark: 'pending', text: planned ? METHOD_TEXT[planned.method] : 'pending' };
    if (n.outcome === 'rebooted' || n.outcome === 'already-done') return { node: name, mark: 'done', text: n.kernelAfter && n.kernelAfter !== n.kernelBefore ? `${n.kernelBefore} → ${n.kernelAfter}` : (n.detail ?? n.outcome) };
    if (n.outcome === 'skipped') return { node: name, mark: 'skipped', text: n.detail ?? 'skipped' };
    return { node: name, mark: 'failed', text: n.detail ?? 'failed' };
  });
}

async function planAndSync(d: SessionDeps, cluster: string, item: TrackedItem | undefined, before: TrackedPlan | undefined, requestedBy?: string, force = false, afterCommentId = 0): Promise<SessionResult> {
  const key = d.settings.github['state-key'] || undefined;
  const g = d.settings.github;
  const { plan, id } = await inspectCluster(d.clients, d.settings.plan, d.log, await d.aksFacts?.());
  const at = now(d);
  const dir = join(d.outDir, shortId(id));
  mkdirSync(dir, { recursive: true });
  const planText = JSON.stringify({ planId: id, plan: JSON.parse(canonicalJson(plan)) }, null, 2) + '\n';
  const fullReport = renderMarkdown(plan, id, { now: at, limit: Number.MAX_SAFE_INTEGER });
  const planFile = join(dir, 'plan.json');
  const reportFile = join(dir, 'report.md');
  writeFileSync(planFile, planText);
  writeFileSync(reportFile, fullReport);
  const reportRef = d.tracker.kind === 'pull-request' ? 'report.md in this pull request' : 'report.md in the reboot-pilot artifact';
  const base = { planId: id, planFile, reportFile, nodesPending: plan.nodes.length, nodesRebooted: 0, nodesFailed: 0, summary: renderMarkdown(plan, id, { now: at, fullReportRef: reportRef }) };
  const files = { 'plan.json': planText, 'report.md': fullReport };

  if (!plan.nodes.length) {
    if (!item) return { ...base, outcome: 'none', state: 'up-to-date' };
    await d.tracker.finish(cluster, item, 'nothing-to-do', `Nothing needs a reboot any more: all ${plan.upToDate.length} inspected node(s) are up to date. Closing.`, files, `Cluster ${cluster} is up to date`);
    return { ...base, outcome: 'closed', state: 'up-to-date', number: item.number };
  }
  const expired = !!before && at.getTime() > Date.parse(before.expiresAt);
  const same = !!before && before.planId === id && !before.run && !expired && !force;
  const tracked: TrackedPlan = same
    ? before!
    : {
        v: 1,
        planId: id,
        revision: (before?.revision ?? 0) + 1,
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + g['plan-ttl-hours'] * 3_600_000).toISOString(),
        ...(requestedBy ? { requestedBy } : {}),
        ...(afterCommentId ? { afterCommentId } : {}),
        nodes: plan.nodes.map((n) => n.name),
        ...(d.tracker.kind === 'issue' ? { planFile: planText } : { planPath: d.tracker.planPath(cluster)! }),
      };
  if (!stateFits(tracked)) {
    throw new UserError(`the plan for ${cluster} (${plan.nodes.length} nodes) is too large to keep in an issue body; use tracking: pull-request (the plan is committed to a branch) or narrow it with node-selector`);
  }
  const preamble = `To approve, comment \`/approve ${shortId(id)}\` (revision ${tracked.revision}, expires ${tracked.expiresAt}${g['required-approvals'] > 1 ? `, ${g['required-approvals']} approvals needed` : ''}). ${COMMANDS_HELP}`;
  const body = renderBody(cluster, tracked, renderMarkdown(plan, id, { now: at, preamble, fullReportRef: reportRef }), progressLines(tracked, plan), '', key);
  const title = `Reboot plan for ${cluster}: ${plan.nodes.length} node(s)`;
  const message = `Reboot plan ${shortId(id)} for ${cluster} (revision ${tracked.revision})`;
  const state = 'awaiting-approval';
  if (!item) {
    const created = await d.tracker.open(cluster, title, body, files, message);
    d.log(`opened tracking ${d.tracker.kind} #${created.number} for plan ${shortId(id)}`);
    return { ...base, outcome: 'opened', state, number: created.number };
  }
  if (same) {
    // An identical body costs no write (it still changes as the report's "pending since" ages grow).
    if (body !== item.body || title !== item.title) await d.tracker.update(item, body, title);
    return { ...base, outcome: 'refreshed', state, number: item.number };
  }
  await d.tracker.revise(cluster, item, title, body, files, message);
  const why = force
    ? `Re-planned${requestedBy ? ` for @${requestedBy}` : ''}`
    : before && before.planId === id
      ? before.run
        ? `The execution of the previous revision ended (${before.run.state}); a new revision of the same plan`
        : 'The previous revision expired; a new revision of the same plan'
      : 'The cluster changed';
  // Nodes an earlier execution left cordoned are not forgotten with the revision that left them.
  const cordoned = before?.run?.leftCordoned ?? [];
  const left = cordoned.length ? ` Still cordoned by the previous revision's execution: ${cordoned.map(md).join(', ')} (this plan's run uncordons them after their reboot, or \`kubectl uncordon\` them).` : '';
  await d.tracker.comment(item, `${why}: plan \`${shortId(id)}\` (revision ${tracked.revision}) replaces \`${before ? shortId(before.planId) : 'none'}\` (revision ${before?.revision ?? 0}). Earlier approvals are discarded.${left}`);
  return { ...base, outcome: 'revised', state, number: item.number };
}

/** Keeps the per-node results of earlier runs of this plan where this run only saw "done earlier". */
function mergeRuns(prev: TrackedRun['nodes'], now: ExecutionResult['nodes']): TrackedRun['nodes'] {
  return now.map((n) => {
    const old = prev.find((p) => p.name === n.name);
    const { bootIdBefore: _b, bootIdAfter: _a, ...rest } = n;
    if (old && (n.outcome === 'already-done' || n.outcome === 'not-started')) return old;
    return { ...rest, timings: rest.timings as Record<string, number> };
  });
}

async function execute(d: SessionDeps, cluster: string, item: TrackedItem, tracked: TrackedPlan, auths: Map<string, Authorization>): Promise<SessionResult> {
  // The approved plan and nothing else: its content must hash to the ID the approvals named.
  const source = tracked.planPath ? `${tracked.planPath} on the plan branch` : `the plan kept in #${item.number}`;
  const text = tracked.planPath ? await d.tracker.readFile(cluster, tracked.planPath) : tracked.planFile;
  if (!text) throw new UserError(`#${item.number} keeps no plan file for plan ${shortId(tracked.planId)}; comment /replan`);
  const pf = readPlanFile(text, source);
  if (pf.planId !== tracked.planId) throw new UserError(`${source} is plan ${shortId(pf.planId)}, not the approved plan ${shortId(tracked.planId)}; comment /replan`);

  const report = reportOf(item.body);
  const live: TrackedPlan = { ...tracked, run: { state: 'executing', at: now(d).toISOString(), message: `executing${d.runUrl ? ` in ${d.runUrl}` : ''}`, nodes: tracked.run?.nodes ?? [], leftCordoned: tracked.run?.leftCordoned ?? [] } };
  const lines = new Map(progressLines(live, pf.plan).map((l) => [l.node, l]));
  // Body writes are serialized and throttled; node ends and the final state always go out.
  let chain = Promise.resolve();
  let last = 0;
  let dirty = false;
  const write = (force: boolean) => {
    dirty = true;
    if (!force && Date.now() - last < d.settings.github['progress-interval'] * 1000) return chain;
    last = Date.now();
    chain = chain
      .then(async () => {
        if (!dirty) return;
        dirty = false;
        await d.tracker.update(item, renderBody(cluster, live, report, [...lines.values()], `_Execution: ${md(live.run!.message)}_`, d.settings.github['state-key'] || undefined));
      })
      .catch((e: unknown) => d.log(`could not update #${item.number}: ${(e as Error).message}`));
    return chain;
  };
  const onEvent = (e: ExecEvent) => {
    const name = e.type === 'node-end' ? e.report.name : e.node;
    if (e.type === 'node-start') lines.set(name, { node: name, mark: 'running', text: 'started' });
    else if (e.type === 'step') lines.set(name, { node: name, mark: 'running', text: `${e.step}${e.detail ? `: ${e.detail}` : ''}` });
    else if (e.type === 'waiting') {
      lines.set(name, { node: name, mark: 'running', text: `waiting for ${e.what} (${Math.round(e.sinceMs / 1000)}s)` });
      d.log(`waiting for ${e.what} (${Math.round(e.sinceMs / 1000)}s so far)`);
    }
    else {
      live.run!.nodes = mergeRuns(live.run!.nodes, [e.report]).concat(live.run!.nodes.filter((n) => n.name !== name));
      const [l] = progressLines({ ...live, nodes: [name] }, pf.plan);
      lines.set(name, l!);
    }
    void write(e.type === 'node-end');
  };
  // Between nodes, the comments are read again: /pause, /cancel, /skip and withdrawn approvals take effect there.
  const interrupt = async (node: string): Promise<Interruption | undefined> => {
    const r = (await answerComments(d, item, live, auths, true)).fold.record;
    if (r.state === 'cancelled') return { action: 'cancel', reason: 'cancelled by a /cancel comment' };
    if (r.state === 'paused') return { action: 'pause', reason: 'paused by a /pause comment; /resume continues' };
    if (r.state !== 'approved') return { action: 'pause', reason: `the plan is no longer approved (${r.state}: an approval was withdrawn or expired)` };
    if (r.skipped.includes(node)) return { action: 'skip', reason: 'skipped by a /skip comment' };
    return undefined;
  };
  // The body says "executing" from the first event on: a run that cannot start (the lock is held,
  // another cluster) leaves the plan's state as it was.
  let result: ExecutionResult;
  try {
    result = await runPlan(d.clients, pf, { plan: d.settings.plan, execute: d.settings.execute, log: d.log, onEvent, interrupt, ...(await d.extras?.()) });
  } catch (e) {
    // It could not start or continue (the lock is held, another cluster): the plan stays approved
    // and says why; the body is left to whoever holds the lock.
    await d.tracker.comment(item, `Execution of plan \`${shortId(tracked.planId)}\` could not run: ${md((e as Error).message)}`);
    throw e;
  }
  live.run = { state: result.state, at: now(d).toISOString(), message: result.message, nodes: mergeRuns(live.run!.nodes, result.nodes), leftCordoned: result.leftCordoned };
  for (const l of progressLines(live, pf.plan)) lines.set(l.node, l);
  await write(true);
  const table = renderResultMarkdown(cluster, { planId: result.planId, state: result.state, message: result.message, leftCordoned: result.leftCordoned, nodes: live.run.nodes });
  const files = { 'result.md': table, 'result.json': JSON.stringify({ planId: result.planId, ...live.run }, null, 2) + '\n' };
  const message = `Reboot plan ${shortId(tracked.planId)} for ${cluster}: ${result.state}`;
  if (result.state === 'completed') await d.tracker.finish(cluster, item, 'completed', `${table}\nAll done. Closing.`, files, message);
  else if (result.state === 'cancelled') await d.tracker.finish(cluster, item, 'cancelled', `${table}\nCancelled. Closing.`, files, message);
  else if (result.state === 'paused') await d.tracker.comment(item, `${table}\nPaused: ${md(result.message)}. ${/comment/.test(result.message) ? 'Comment `/resume` to continue.' : 'The next scheduled run continues, or comment `/resume`.'}`);
  else await d.tracker.comment(item, `${table}\nStopped. Look at the node named above; \`/replan\` makes a new plan from the cluster as it is now.`);
  return { outcome: 'executed', state: result.state, planId: tracked.planId, number: item.number, ...counts(live), summary: table };
}
