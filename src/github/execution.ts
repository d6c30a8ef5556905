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
import { otherExecution } from '../ledger/claim.ts';
import { LockHeldError } from '../lock/lease.ts';
import {
  answer,
  bodyFor,
  counts,
  now,
  preambleFor,
  progressLines,
  update,
  type Ctx,
  type SessionResult,
} from './session.ts';
import type { ProgressLine } from './body.ts';

/** Keeps the per-node results of earlier runs of this plan where this run only saw "done earlier". */
function mergeRuns(prev: LedgerRun['nodes'], next: ExecutionResult['nodes']): LedgerRun['nodes'] {
  return next.map((n) => {
    const old = prev.find((p) => p.name === n.name);
    const { bootIdBefore: _b, bootIdAfter: _a, ...rest } = n;
    if (old && (n.outcome === 'already-done' || n.outcome === 'not-started')) return old;
    return { ...rest, timings: rest.timings };
  });
}

function approvedPlan(ctx: Ctx, item: TrackedItem): PlanFile {
  const l = ctx.snap!.ledger;
  const source = `the plan kept in the ledger ${ctx.where}`;
  if (!ctx.snap!.planFile)
    throw new UserError(
      `the ledger ${ctx.where} keeps no plan file for plan ${shortId(l.plan!.id)} (#${item.number}); comment /replan`,
    );
  const pf = readPlanFile(ctx.snap!.planFile, source);
  if (pf.planId !== l.plan!.id)
    throw new UserError(
      `${source} is plan ${shortId(pf.planId)}, not the approved plan ${shortId(l.plan!.id)}; comment /replan`,
    );
  return pf;
}

/**
 * The execution's progress: per-node results into the ledger (at the first event and each node's
 * end), the body re-rendered from it (throttled to progress-interval; node ends always go out).
 * Writes are serialized; a failed write is reported as an error of the job (an annotation, and a
 * line in the job summary), and the execution goes on: the ledger, not the body, is the record.
 */
class ProgressRecorder {
  run: LedgerRun;
  /** Nodes in progress, shown over the ledger's per-node results. */
  private readonly running = new Map<string, ProgressLine>();
  chain = Promise.resolve();
  private last = 0;
  private announced = false;
  /** Progress writes that failed (a body GitHub refused, a ledger write that failed). */
  readonly failed: string[] = [];
  private readonly ctx: Ctx;
  private readonly item: TrackedItem;
  private readonly report: string;
  private readonly pf: PlanFile;

  constructor(ctx: Ctx, item: TrackedItem, report: string, pf: PlanFile) {
    this.ctx = ctx;
    this.item = item;
    this.report = report;
    this.pf = pf;
    const prior = ctx.snap!.ledger.run;
    const url = ctx.d.runUrl ? ` in ${ctx.d.runUrl}` : '';
    const at = now(ctx.d).toISOString();
    this.run = {
      state: 'executing',
      at,
      message: `executing${url}`,
      nodes: prior?.nodes ?? [],
      leftCordoned: prior?.leftCordoned ?? [],
    };
  }

  private progress(): ProgressLine[] {
    const lines = progressLines({ ...this.ctx.snap!.ledger, run: this.run }, this.pf.plan);
    return lines.map((l) => this.running.get(l.node) ?? l);
  }

  persist(ledger: boolean, force: boolean): Promise<void> {
    const { d } = this.ctx;
    const body = force || Date.now() - this.last >= d.settings.github['progress-interval'] * 1000;
    if (!ledger && !body) return this.chain;
    if (body) this.last = Date.now();
    const run = this.run;
    const footer = `_Execution: ${md(run.message)}_`;
    this.chain = this.chain
      .then(async () => {
        // Only this job writes runs (decide jobs write commands): the run is replaced, the rest kept.
        if (ledger) await update(this.ctx, (l) => ({ ...l, run }));
        if (body)
          await d.tracker.update(
            this.item,
            bodyFor(this.ctx, this.report, this.pf.plan, footer, this.progress()),
          );
      })
      .catch((e: unknown) => {
        const why = `could not record progress for #${this.item.number}: ${(e as Error).message}`;
        this.failed.push(why);
        (d.error ?? d.log)(why);
      });
    return this.chain;
  }

  readonly onEvent = (e: ExecEvent): void => {
    const name = e.type === 'node-end' ? e.report.name : e.node;
    const show = (text: string) => this.running.set(name, { node: name, mark: 'running', text });
    if (e.type === 'node-start') show('started');
    else if (e.type === 'step') show(`${e.step}${e.detail ? `: ${e.detail}` : ''}`);
    else if (e.type === 'waiting') {
      show(`waiting for ${e.what} (${Math.round(e.sinceMs / 1000)}s)`);
      this.ctx.d.log(`waiting for ${e.what} (${Math.round(e.sinceMs / 1000)}s so far)`);
    } else {
      this.running.delete(name);
      const others = this.run.nodes.filter((n) => n.name !== name);
      this.run = { ...this.run, nodes: mergeRuns(this.run.nodes, [e.report]).concat(others) };
    }
    // The ledger says "executing" from the first event on: a run that cannot start leaves it as it was.
    const first = !this.announced;
    this.announced = true;
    void this.persist(first || e.type === 'node-end', e.type === 'node-end');
  };
}

/** Between nodes, comments are judged again: /pause, /cancel, /skip and withdrawn approvals take effect there. */
function interruptions(ctx: Ctx, item: TrackedItem, recorder: ProgressRecorder) {
  return async (node: string): Promise<Interruption | undefined> => {
    await recorder.chain;
    const l = await answer(ctx, item, true);
    if (l.state === 'cancelled' || l.state === 'rejected') {
      return {
        action: 'cancel',
        reason: `cancelled by a /${l.state === 'rejected' ? 'reject' : 'cancel'} comment`,
      };
    }
    if (l.state === 'paused')
      return { action: 'pause', reason: 'paused by a /pause comment; /resume continues' };
    if (l.state !== 'approved') {
      return {
        action: 'pause',
        reason: `the plan is no longer approved (${l.state}: an approval was withdrawn)`,
      };
    }
    if (l.skipped.includes(node)) return { action: 'skip', reason: 'skipped by a /skip comment' };
    return undefined;
  };
}

/**
 * Refused the run lock while the ledger shows another job executing this plan (two runs started
 * together: a re-run, a schedule beside the approving comment's run): this one leaves it to that
 * job, says so, and ends without failing; nothing is written to the tracking item.
 */
async function executedElsewhere(
  ctx: Ctx,
  item: TrackedItem,
  since: Date,
): Promise<SessionResult | undefined> {
  const plan = ctx.snap!.ledger.plan!;
  // The holder writes "executing" at its first step, seconds after it took the lock: a loaded
  // runner gets half a minute; a holder that never does (another plan) is named after at most 65 s.
  const waitMs = Math.max(30, Math.min(ctx.d.settings.execute['lock-ttl'], 60) + 5) * 1000;
  const run = await otherExecution(ctx.store, { planId: plan.id, revision: plan.revision, since, waitMs });
  if (!run) return undefined;
  const l = (await ctx.store.read())?.ledger ?? ctx.snap!.ledger;
  const why = `another run ${run.state === 'executing' ? 'executes' : 'executed'} plan ${shortId(plan.id)} (${run.message}); this run leaves it to that one`;
  ctx.d.log(why);
  return {
    outcome: 'answered',
    state: run.state,
    planId: plan.id,
    number: item.number,
    ...counts(l),
    summary: `Reboot Pilot: ${md(why)}.\n`,
  };
}

export async function executePlan(ctx: Ctx, item: TrackedItem): Promise<SessionResult> {
  const { d } = ctx;
  const pf = approvedPlan(ctx, item);
  const fullReportRef =
    d.tracker.kind === 'pull-request'
      ? 'report.md in this pull request'
      : 'report.md in the reboot-pilot artifact';
  const report = renderMarkdown(pf.plan, pf.planId, {
    now: now(d),
    preamble: preambleFor(ctx),
    fullReportRef,
  });
  const started = now(d);
  const recorder = new ProgressRecorder(ctx, item, report, pf);
  const interrupt = interruptions(ctx, item, recorder);
  let result: ExecutionResult;
  try {
    const options = {
      plan: d.settings.plan,
      execute: d.settings.execute,
      log: d.log,
      onEvent: recorder.onEvent,
      interrupt,
    };
    result = await runPlan(d.clients, pf, { ...options, ...(await d.extras?.()) });
  } catch (e) {
    await recorder.chain;
    const other = e instanceof LockHeldError ? await executedElsewhere(ctx, item, started) : undefined;
    if (other) return other;
    // It could not start or continue (the lock is held, another cluster): the ledger stays as it was and says why.
    const why = md((e as Error).message);
    await d.tracker.comment(item, `Execution of plan \`${shortId(pf.planId)}\` could not run: ${why}`);
    throw e;
  }
  await recorder.chain;
  const nodes = mergeRuns(recorder.run.nodes, result.nodes);
  const run: LedgerRun = {
    state: result.state,
    at: now(d).toISOString(),
    message: result.message,
    nodes,
    leftCordoned: result.leftCordoned,
  };
  const done = await finishExecution(ctx, item, result, run, report, pf, recorder.failed);
  if (!recorder.failed.length) return done;
  const failed = `${recorder.failed.length} update(s) of #${item.number} could not be written; the first: ${md(recorder.failed[0]!)}`;
  return { ...done, summary: `${done.summary}\n\n**${failed}**\n`, unrecorded: recorder.failed };
}

async function finishExecution(
  ctx: Ctx,
  item: TrackedItem,
  result: ExecutionResult,
  run: LedgerRun,
  report: string,
  pf: PlanFile,
  failed: string[],
): Promise<SessionResult> {
  const { d, cluster } = ctx;
  const at = now(d).toISOString();
  const ending = result.state === 'completed' || result.state === 'cancelled' ? result.state : undefined;
  const l = await update(ctx, (x): Ledger => {
    const next: Ledger = { ...x, run };
    if (!ending) return next;
    const { go: _, ...rest } = next;
    return {
      ...rest,
      state: 'closed',
      item: { ...x.item!, closed: { at, by: 'reboot-pilot', how: ending } },
    };
  });
  // A refused body must not keep the final comment and the closing from going out: reported, not thrown.
  await d.tracker
    .update(item, bodyFor(ctx, report, pf.plan, `_Execution: ${md(run.message)}_`))
    .catch((e: unknown) => {
      const why = `could not write the final body of #${item.number}: ${(e as Error).message}`;
      failed.push(why);
      (d.error ?? d.log)(why);
    });
  const audit = auditLines(l);
  const table = renderResultMarkdown(
    cluster,
    {
      planId: result.planId,
      state: result.state,
      message: result.message,
      leftCordoned: result.leftCordoned,
      nodes: run.nodes,
    },
    { plan: pf.plan, soakSeconds: d.settings.execute.soak },
  );
  // Who decided first: a comment cut to GitHub's limit (1,000 nodes) keeps the audit, loses table rows.
  const record = `${audit.join('\n')}\n\n${table}`;
  const files = {
    'result.md': record,
    'result.json': JSON.stringify({ planId: result.planId, ...run, ...auditJson(l) }, null, 2) + '\n',
  };
  // The artifact holds them in both modes (PR mode also commits them).
  const dir = join(d.outDir, shortId(result.planId));
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const message = `Reboot plan ${shortId(result.planId)} for ${cluster}: ${result.state}\n\n${audit.join('\n')}`;
  if (ending === 'completed')
    await d.tracker.finish(cluster, item, 'completed', `${record}\nAll done. Closing.`, files, message);
  else if (ending === 'cancelled')
    await d.tracker.finish(cluster, item, 'cancelled', `${record}\nCancelled. Closing.`, files, message);
  else if (result.state === 'paused')
    await d.tracker.comment(
      item,
      `${record}\nPaused: ${md(result.message)}. ${/comment/.test(result.message) ? 'Comment `/resume` to continue.' : 'The next scheduled run continues, or comment `/resume`.'}`,
    );
  else
    await d.tracker.comment(
      item,
      `${record}\nStopped. Look at the node named above; \`/replan\` makes a new plan from the cluster as it is now.`,
    );
  return {
    outcome: 'executed',
    state: result.state,
    planId: result.planId,
    number: item.number,
    ...counts(l),
    summary: record,
  };
}
