// Executing the plan the ledger approved: the plan file kept in the ledger (its content must hash
// to the approved plan ID), per-node outcomes recorded in the ledger as they happen, the body
// re-rendered from the ledger, commands read between nodes, and the audit in every result.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../kube/client.ts';
import { shortId } from '../plan/canonical.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { renderResultMarkdown } from '../report/result.ts';
import { md } from '../report/escape.ts';
import { readPlanFile, runPlan, type PlanFile } from '../execute/run.ts';
import type { ExecEvent, ExecutionResult, Interruption } from '../execute/executor.ts';
import type { TrackedItem } from './tracker.ts';
import type { Ledger, LedgerRun } from '../ledger/record.ts';
import { auditJson, auditLines } from '../ledger/audit.ts';
import { answer, bodyFor, counts, now, preambleFor, progressLines, update, type Ctx, type SessionResult } from './session.ts';
import type { ProgressLine } from './body.ts';

/** Keeps the per-node results of earlier runs of this plan where this run only saw "done earlier". */
function mergeRuns(prev: LedgerRun['nodes'], next: ExecutionResult['nodes']): LedgerRun['nodes'] {
  return next.map((n) => {
    const old = prev.find((p) => p.name === n.name);
    const { bootIdBefore: _b, bootIdAfter: _a, ...rest } = n;
    if (old && (n.outcome === 'already-done' || n.outcome === 'not-started')) return old;
    return { ...rest, timings: rest.timings as Record<string, number> };
  });
}

function approvedPlan(ctx: Ctx, item: TrackedItem): PlanFile {
  const l = ctx.snap!.ledger;
  const source = `the plan kept in the ledger ${ctx.where}`;
  if (!ctx.snap!.planFile) throw new UserError(`the ledger ${ctx.where} keeps no plan file for plan ${shortId(l.plan!.id)} (#${item.number}); comment /replan`);
  const pf = readPlanFile(ctx.snap!.planFile, source);
  if (pf.planId !== l.plan!.id) throw new UserError(`${source} is plan ${shortId(pf.planId)}, not the approved plan ${shortId(l.plan!.id)}; comment /replan`);
  return pf;
}

export async function executePlan(ctx: Ctx, item: TrackedItem): Promise<SessionResult> {
  const { d } = ctx;
  const pf = approvedPlan(ctx, item);
  const planId = pf.planId;
  const report = renderMarkdown(pf.plan, planId, { now: now(d), preamble: preambleFor(ctx), fullReportRef: d.tracker.kind === 'pull-request' ? 'report.md in this pull request' : 'report.md in the reboot-pilot artifact' });
  const prior = ctx.snap!.ledger.run;
  let run: LedgerRun = { state: 'executing', at: now(d).toISOString(), message: `executing${d.runUrl ? ` in ${d.runUrl}` : ''}`, nodes: prior?.nodes ?? [], leftCordoned: prior?.leftCordoned ?? [] };
  /** Nodes in progress, shown over the ledger's per-node results. */
  const running = new Map<string, ProgressLine>();
  const progress = () => progressLines({ ...ctx.snap!.ledger, run }, pf.plan).map((l) => running.get(l.node) ?? l);
  // Ledger and body writes are serialized; the body is throttled, node ends and the end always go out.
  let chain = Promise.resolve();
  let last = 0;
  let announced = false;
  const persist = (ledger: boolean, force: boolean) => {
    const body = force || Date.now() - last >= d.settings.github['progress-interval'] * 1000;
    if (!ledger && !body) return chain;
    if (body) last = Date.now();
    const snapshotRun = run;
    chain = chain
      .then(async () => {
        // Only this job writes runs (decide jobs write commands): the run is replaced, the rest kept.
        if (ledger) await update(ctx, (l) => ({ ...l, run: snapshotRun }));
        if (body) await d.tracker.update(item, bodyFor(ctx, report, pf.plan, `_Execution: ${md(snapshotRun.message)}_`, progress()));
      })
      .catch((e: unknown) => d.log(`could not record progress for #${item.number}: ${(e as Error).message}`));
    return chain;
  };
  const onEvent = (e: ExecEvent) => {
    const name = e.type === 'node-end' ? e.report.name : e.node;
    if (e.type === 'node-start') running.set(name, { node: name, mark: 'running', text: 'started' });
    else if (e.type === 'step') running.set(name, { node: name, mark: 'running', text: `${e.step}${e.detail ? `: ${e.detail}` : ''}` });
    else if (e.type === 'waiting') {
      running.set(name, { node: name, mark: 'running', text: `waiting for ${e.what} (${Math.round(e.sinceMs / 1000)}s)` });
      d.log(`waiting for ${e.what} (${Math.round(e.sinceMs / 1000)}s so far)`);
    } else {
      running.delete(name);
      run = { ...run, nodes: mergeRuns(run.nodes, [e.report]).concat(run.nodes.filter((n) => n.name !== name)) };
    }
    // The ledger says "executing" from the first event on: a run that cannot start leaves it as it was.
    const first = !announced;
    announced = true;
    void persist(first || e.type === 'node-end', e.type === 'node-end');
  };
  // Between nodes, comments are judged again: /pause, /cancel, /skip and withdrawn approvals take effect there.
  const interrupt = async (node: string): Promise<Interruption | undefined> => {
    await chain;
    const l = await answer(ctx, item, true);
    if (l.state === 'cancelled' || l.state === 'rejected') return { action: 'cancel', reason: `cancelled by a /${l.state === 'rejected' ? 'reject' : 'cancel'} comment` };
    if (l.state === 'paused') return { action: 'pause', reason: 'paused by a /pause comment; /resume continues' };
    if (l.state !== 'approved') return { action: 'pause', reason: `the plan is no longer approved (${l.state}: an approval was withdrawn)` };
    if (l.skipped.includes(node)) return { action: 'skip', reason: 'skipped by a /skip comment' };
    return undefined;
  };
  let result: ExecutionResult;
  try {
    result = await runPlan(d.clients, pf, { plan: d.settings.plan, execute: d.settings.execute, log: d.log, onEvent, interrupt, ...(await d.extras?.()) });
  } catch (e) {
    await chain;
    // It could not start or continue (the lock is held, another cluster): the ledger stays as it was and says why.
    await d.tracker.comment(item, `Execution of plan \`${shortId(planId)}\` could not run: ${md((e as Error).message)}`);
    throw e;
  }
  await chain;
  run = { state: result.state, at: now(d).toISOString(), message: result.message, nodes: mergeRuns(run.nodes, result.nodes), leftCordoned: result.leftCordoned };
  return finishExecution(ctx, item, result, run, report, pf);
}

async function finishExecution(ctx: Ctx, item: TrackedItem, result: ExecutionResult, run: LedgerRun, report: string, pf: PlanFile): Promise<SessionResult> {
  const { d, cluster } = ctx;
  const at = now(d).toISOString();
  const ending = result.state === 'completed' || result.state === 'cancelled' ? result.state : undefined;
  const l = await update(ctx, (x): Ledger => {
    const next: Ledger = { ...x, run };
    if (!ending) return next;
    const { go: _, ...rest } = next;
    return { ...rest, state: 'closed', item: { ...x.item!, closed: { at, by: 'reboot-pilot', how: ending } } };
  });
  await d.tracker.update(item, bodyFor(ctx, report, pf.plan, `_Execution: ${md(run.message)}_`));
  const audit = auditLines(l);
  const table = renderResultMarkdown(cluster, { planId: result.planId, state: result.state, message: result.message, leftCordoned: result.leftCordoned, nodes: run.nodes });
  // Who decided first: a comment cut to GitHub's limit (1,000 nodes) keeps the audit, loses table rows.
  const record = `${audit.join('\n')}\n\n${table}`;
  const files = { 'result.md': record, 'result.json': JSON.stringify({ planId: result.planId, ...run, ...auditJson(l) }, null, 2) + '\n' };
  // The artifact holds them in both modes (PR mode also commits them).
  const dir = join(d.outDir, shortId(result.planId));
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const message = `Reboot plan ${shortId(result.planId)} for ${cluster}: ${result.state}\n\n${audit.join('\n')}`;
  if (ending === 'completed') await d.tracker.finish(cluster, item, 'completed', `${record}\nAll done. Closing.`, files, message);
  else if (ending === 'cancelled') await d.tracker.finish(cluster, item, 'cancelled', `${record}\nCancelled. Closing.`, files, message);
  else if (result.state === 'paused') await d.tracker.comment(item, `${record}\nPaused: ${md(result.message)}. ${/comment/.test(result.message) ? 'Comment `/resume` to continue.' : 'The next scheduled run continues, or comment `/resume`.'}`);
  else await d.tracker.comment(item, `${record}\nStopped. Look at the node named above; \`/replan\` makes a new plan from the cluster as it is now.`);
  return { outcome: 'executed', state: result.state, planId: result.planId, number: item.number, ...counts(l), summary: record };
}
