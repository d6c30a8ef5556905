// Executing the plan the ledger approved: the plan file kept in the ledger (its content must hash
// to the approved plan ID), per-node outcomes recorded in the ledger as they happen, the body
// re-rendered from the ledger, commands read between nodes, and the audit in every result.
import { UserError } from '../errors.ts';
import { shortId } from '../plan/canonical.ts';
import { readPlanFile, writePlanFiles, type PlanFile } from '../plan/file.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { renderResultMarkdown } from '../report/result.ts';
import { md } from '../report/escape.ts';
import { runPlan } from '../execute/run.ts';
import type { ExecEvent, ExecutionResult, Interruption } from '../execute/types.ts';
import type { Ledger, LedgerRun } from '../ledger/record.ts';
import { auditJson, auditLines } from '../ledger/audit.ts';
import { otherExecution } from '../ledger/claim.ts';
import { LockHeldError } from '../lock/lease.ts';
import type { TrackedItem } from './tracker.ts';
import type { ProgressLine } from './body.ts';
import { bodyFor, fullReportRef, preambleFor, progressLines } from './view.ts';
import { answer } from './answer.ts';
import {
  closedLedger,
  currentTime,
  nodeCounts,
  updateLedger,
  type SessionContext,
  type SessionResult,
} from './context.ts';

/** Keeps the per-node results of earlier runs of this plan where this run only saw "done earlier". */
export function mergeRuns(previous: LedgerRun['nodes'], next: ExecutionResult['nodes']): LedgerRun['nodes'] {
  return next.map((node) => {
    const old = previous.find((earlier) => earlier.name === node.name);
    const { bootIdBefore: _before, bootIdAfter: _after, ...rest } = node;
    if (old && (node.outcome === 'already-done' || node.outcome === 'not-started')) return old;
    return rest;
  });
}

/** The plan file the ledger keeps, checked to be the approved plan. */
export function approvedPlan(context: SessionContext, item: TrackedItem): PlanFile {
  const { snapshot, where } = context;
  const approvedId = snapshot!.ledger.plan!.id;
  const source = `the plan kept in the ledger ${where}`;
  if (!snapshot!.planFile)
    throw new UserError(
      `the ledger ${where} keeps no plan file for plan ${shortId(approvedId)} (#${item.number}); ` +
        'comment /replan',
    );
  const planFile = readPlanFile(snapshot!.planFile, source);
  if (planFile.planId !== approvedId)
    throw new UserError(
      `${source} is plan ${shortId(planFile.planId)}, not the approved plan ${shortId(approvedId)}; ` +
        'comment /replan',
    );
  return planFile;
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
  private readonly context: SessionContext;
  private readonly item: TrackedItem;
  private readonly report: string;
  private readonly planFile: PlanFile;

  constructor(context: SessionContext, item: TrackedItem, report: string, planFile: PlanFile) {
    this.context = context;
    this.item = item;
    this.report = report;
    this.planFile = planFile;
    const prior = context.snapshot!.ledger.run;
    const url = context.deps.runUrl ? ` in ${context.deps.runUrl}` : '';
    this.run = {
      state: 'executing',
      at: currentTime(context.deps).toISOString(),
      message: `executing${url}`,
      nodes: prior?.nodes ?? [],
      leftCordoned: prior?.leftCordoned ?? [],
    };
  }

  private progress(): ProgressLine[] {
    const lines = progressLines({ ...this.context.snapshot!.ledger, run: this.run }, this.planFile.plan);
    return lines.map((line) => this.running.get(line.node) ?? line);
  }

  persist(ledger: boolean, force: boolean): Promise<void> {
    const { deps } = this.context;
    const body = force || Date.now() - this.last >= deps.settings.github.progressInterval * 1000;
    if (!ledger && !body) return this.chain;
    if (body) this.last = Date.now();
    const run = this.run;
    const footer = `_Execution: ${md(run.message)}_`;
    this.chain = this.chain
      .then(async () => {
        // Only this job writes runs (decide jobs write commands): the run is replaced, the rest kept.
        if (ledger) await updateLedger(this.context, (current) => ({ ...current, run }));
        if (body) {
          const text = bodyFor(this.context, this.report, this.planFile.plan, footer, this.progress());
          await deps.tracker.update(this.item, text);
        }
      })
      .catch((error: unknown) => {
        const why = `could not record progress for #${this.item.number}: ${(error as Error).message}`;
        this.failed.push(why);
        (deps.error ?? deps.log)(why);
      });
    return this.chain;
  }

  readonly onEvent = (event: ExecEvent): void => {
    const name = event.type === 'node-end' ? event.report.name : event.node;
    const show = (text: string) => this.running.set(name, { node: name, mark: 'running', text });
    if (event.type === 'node-start') show('started');
    else if (event.type === 'step') show(`${event.step}${event.detail ? `: ${event.detail}` : ''}`);
    else if (event.type === 'waiting') {
      const seconds = Math.round(event.sinceMs / 1000);
      show(`waiting for ${event.what} (${seconds}s)`);
      this.context.deps.log(`waiting for ${event.what} (${seconds}s so far)`);
    } else {
      this.running.delete(name);
      const others = this.run.nodes.filter((node) => node.name !== name);
      this.run = { ...this.run, nodes: mergeRuns(this.run.nodes, [event.report]).concat(others) };
    }
    // The ledger says "executing" from the first event on: a run that cannot start leaves it as it was.
    const first = !this.announced;
    this.announced = true;
    void this.persist(first || event.type === 'node-end', event.type === 'node-end');
  };
}

/** What the ledger's state means between nodes, or undefined to go on with `node`. */
export function interruptionFor(ledger: Ledger, node: string): Interruption | undefined {
  if (ledger.state === 'cancelled' || ledger.state === 'rejected') {
    const command = ledger.state === 'rejected' ? 'reject' : 'cancel';
    return { action: 'cancel', reason: `cancelled by a /${command} comment` };
  }
  if (ledger.state === 'paused')
    return { action: 'pause', reason: 'paused by a /pause comment; /resume continues' };
  if (ledger.state !== 'approved')
    return {
      action: 'pause',
      reason: `the plan is no longer approved (${ledger.state}: an approval was withdrawn)`,
    };
  if (ledger.skipped.includes(node)) return { action: 'skip', reason: 'skipped by a /skip comment' };
  return undefined;
}

/** Between nodes, comments are judged again: /pause, /cancel, /skip and withdrawn approvals apply there. */
function interruptions(context: SessionContext, item: TrackedItem, recorder: ProgressRecorder) {
  return async (node: string): Promise<Interruption | undefined> => {
    await recorder.chain;
    return interruptionFor(await answer(context, item, true), node);
  };
}

/**
 * Refused the run lock while the ledger shows another job executing this plan (two runs started
 * together: a re-run, a schedule beside the approving comment's run): this one leaves it to that
 * job, says so, and ends without failing; nothing is written to the tracking item.
 */
async function executedElsewhere(
  context: SessionContext,
  item: TrackedItem,
  since: Date,
): Promise<SessionResult | undefined> {
  const plan = context.snapshot!.ledger.plan!;
  // The holder writes "executing" at its first step, seconds after it took the lock: a loaded
  // runner gets half a minute; a holder that never does (another plan) is named after at most 65 s.
  const waitMs = Math.max(30, Math.min(context.deps.settings.execute.lockTtl, 60) + 5) * 1000;
  const query = { planId: plan.id, revision: plan.revision, since, waitMs };
  const run = await otherExecution(context.store, query);
  if (!run) return undefined;
  const ledger = (await context.store.read())?.ledger ?? context.snapshot!.ledger;
  const verb = run.state === 'executing' ? 'executes' : 'executed';
  const why = `another run ${verb} plan ${shortId(plan.id)} (${run.message}); this run leaves it to that one`;
  context.deps.log(why);
  return {
    outcome: 'answered',
    state: run.state,
    planId: plan.id,
    number: item.number,
    ...nodeCounts(ledger),
    summary: `Reboot Pilot: ${md(why)}.\n`,
  };
}

/** Runs the approved plan, recording its progress, and reports the result on the item. */
export async function executePlan(context: SessionContext, item: TrackedItem): Promise<SessionResult> {
  const { deps } = context;
  const planFile = approvedPlan(context, item);
  const report = renderMarkdown(planFile.plan, planFile.planId, {
    now: currentTime(deps),
    preamble: preambleFor(context),
    fullReportRef: fullReportRef(deps.tracker),
  });
  const started = currentTime(deps);
  const recorder = new ProgressRecorder(context, item, report, planFile);
  const interrupt = interruptions(context, item, recorder);
  let result: ExecutionResult;
  try {
    const options = {
      plan: deps.settings.plan,
      execute: deps.settings.execute,
      log: deps.log,
      onEvent: recorder.onEvent,
      interrupt,
    };
    result = await runPlan(deps.clients, planFile, { ...options, ...(await deps.extras?.()) });
  } catch (error) {
    await recorder.chain;
    const other =
      error instanceof LockHeldError ? await executedElsewhere(context, item, started) : undefined;
    if (other) return other;
    // It could not start or continue (the lock is held, another cluster): the ledger stays as it was,
    // the item says why.
    const why = md((error as Error).message);
    await deps.tracker.comment(
      item,
      `Execution of plan \`${shortId(planFile.planId)}\` could not run: ${why}`,
    );
    throw error;
  }
  await recorder.chain;
  const run: LedgerRun = {
    state: result.state,
    at: currentTime(deps).toISOString(),
    message: result.message,
    nodes: mergeRuns(recorder.run.nodes, result.nodes),
    leftCordoned: result.leftCordoned,
  };
  const done = await finishExecution(context, item, { result, run, report, planFile }, recorder.failed);
  return withUnrecorded(done, item, recorder.failed);
}

/** Writes to the item that failed: named in the summary, and the job fails after it (main.ts). */
function withUnrecorded(done: SessionResult, item: TrackedItem, failed: string[]): SessionResult {
  if (!failed.length) return done;
  const first = md(failed[0]!);
  const line = `${failed.length} update(s) of #${item.number} could not be written; the first: ${first}`;
  return { ...done, summary: `${done.summary}\n\n**${line}**\n`, unrecorded: failed };
}

interface Finished {
  result: ExecutionResult;
  /** The run as the ledger records it (per-node results merged with earlier runs'). */
  run: LedgerRun;
  report: string;
  planFile: PlanFile;
}

/** The run recorded, the body updated, the result files written and the item told (closed if ended). */
async function finishExecution(
  context: SessionContext,
  item: TrackedItem,
  finished: Finished,
  failed: string[],
): Promise<SessionResult> {
  const { deps, cluster } = context;
  const { result, run } = finished;
  const at = currentTime(deps).toISOString();
  const ending = result.state === 'completed' || result.state === 'cancelled' ? result.state : undefined;
  const ledger = await updateLedger(context, (current): Ledger => {
    const next: Ledger = { ...current, run };
    return ending ? closedLedger(next, { at, by: 'reboot-pilot', how: ending }) : next;
  });
  const footer = `_Execution: ${md(run.message)}_`;
  // A refused body must not keep the final comment and the closing from going out: reported, not thrown.
  await deps.tracker
    .update(item, bodyFor(context, finished.report, finished.planFile.plan, footer))
    .catch((error: unknown) => {
      const why = `could not write the final body of #${item.number}: ${(error as Error).message}`;
      failed.push(why);
      (deps.error ?? deps.log)(why);
    });
  const audit = auditLines(ledger);
  const record = resultRecord(context, finished, audit);
  const files = {
    'result.md': record,
    'result.json': JSON.stringify({ planId: result.planId, ...run, ...auditJson(ledger) }, null, 2) + '\n',
  };
  // The artifact holds them in both modes (PR mode also commits them).
  writePlanFiles(deps.outDir, result.planId, files);
  const title = `Reboot plan ${shortId(result.planId)} for ${cluster}: ${result.state}`;
  const message = `${title}\n\n${audit.join('\n')}`;
  if (ending) {
    const note = `${record}\n${closingLine(ending)}`;
    await deps.tracker.finish(cluster, item, { ending, note, files, message });
  } else await deps.tracker.comment(item, `${record}\n${stoppedLine(result)}`);
  return {
    outcome: 'executed',
    state: result.state,
    planId: result.planId,
    number: item.number,
    ...nodeCounts(ledger),
    summary: record,
  };
}

/** The result comment (and result.md): who decided first, then the per-node table. */
function resultRecord(context: SessionContext, finished: Finished, audit: string[]): string {
  const { result, run, planFile } = finished;
  const table = renderResultMarkdown(
    context.cluster,
    {
      planId: result.planId,
      state: result.state,
      message: result.message,
      leftCordoned: result.leftCordoned,
      nodes: run.nodes,
    },
    { plan: planFile.plan, soakSeconds: context.deps.settings.execute.soak },
  );
  // Who decided first: a comment cut to GitHub's limit (1,000 nodes) keeps the audit, loses table rows.
  return `${audit.join('\n')}\n\n${table}`;
}

const closingLine = (ending: 'completed' | 'cancelled') =>
  ending === 'completed' ? 'All done. Closing.' : 'Cancelled. Closing.';

/** The last line of a result that leaves the item open: how to go on. */
function stoppedLine(result: ExecutionResult): string {
  if (result.state !== 'paused')
    return 'Stopped. Look at the node named above; `/replan` makes a new plan from the cluster as it is now.';
  const howToGoOn = /comment/.test(result.message)
    ? 'Comment `/resume` to continue.'
    : 'The next scheduled run continues, or comment `/resume`.';
  return `Paused: ${md(result.message)}. ${howToGoOn}`;
}
