// A fresh plan onto the tracking item: the cluster is inspected, plan.json and the full report go
// to the artifact, and the item is opened, refreshed (the same plan), revised (a new revision:
// approvals never carry over) or closed when nothing needs a reboot any more. The ledger is
// written before a body shows a new revision, except when opening: the body then shows the ledger
// about to be written.
import type { Plan } from '../plan/types.ts';
import { inspectCluster } from '../plan/inspect.ts';
import { shortId } from '../plan/canonical.ts';
import { planFileText, writePlanFiles } from '../plan/file.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { md } from '../report/escape.ts';
import type { EstimateOptions } from '../report/estimate.ts';
import { estimateOptions } from '../estimate/options.ts';
import { randomUUID } from 'node:crypto';
import { emptyLedger, type Ledger } from '../ledger/record.ts';
import { claimOpening, releaseOpening } from '../ledger/claim.ts';
import type { PlanFiles, TrackedItem } from './tracker.ts';
import { bodyFor, fullReportRef, preambleFor } from './view.ts';
import {
  closedLedger,
  currentTime,
  itemNoun,
  updateLedger,
  type SessionContext,
  type SessionResult,
} from './context.ts';

const TITLE_LIMIT = 256;
const HOUR_MS = 3_600_000;

export interface PlanArtifacts {
  planFile: string;
  reportFile: string;
  /** plan.json and report.md by name (PR mode commits them). */
  files: PlanFiles;
  /** The report for the job summary. */
  summary: string;
}

/** plan.json and the full report under `outDir` (the artifact), and the job summary's report. */
export function writePlanArtifacts(
  outDir: string,
  plan: Plan,
  planId: string,
  options: { estimate: EstimateOptions; now: Date; fullReportRef: string },
): PlanArtifacts {
  const { estimate, now } = options;
  const files = {
    'plan.json': planFileText(plan, planId),
    'report.md': renderMarkdown(plan, planId, { estimate, now, limit: Number.MAX_SAFE_INTEGER }),
  };
  const paths = writePlanFiles(outDir, planId, files);
  const summary = renderMarkdown(plan, planId, { estimate, now, fullReportRef: options.fullReportRef });
  return { planFile: paths['plan.json']!, reportFile: paths['report.md']!, files, summary };
}

/** The plan being put on the item, and what it replaces. */
interface Draft {
  plan: Plan;
  planId: string;
  at: Date;
  estimate: EstimateOptions;
  artifacts: PlanArtifacts;
  /** What every outcome reports. */
  result: Omit<SessionResult, 'outcome' | 'state'>;
  /** The item was made before the ledger named it (or named it closed): its record starts afresh. */
  adopted: boolean;
  /** The ledger this plan follows (none for an adopted item). */
  previous: Ledger | undefined;
  /** The revision on the item now. */
  before: Ledger['plan'];
  revision: NonNullable<Ledger['plan']>;
  title: string;
}

/** Inspects the cluster and puts the plan on the item: opened, refreshed, revised, or closed. */
export async function planAndSync(
  context: SessionContext,
  item: TrackedItem | undefined,
  requestedBy: string | undefined,
  force: boolean,
): Promise<SessionResult> {
  const draft = await makeDraft(context, item, requestedBy);
  if (!draft.plan.nodes.length) return closeUpToDate(context, item, draft);
  const expired = !!draft.before && draft.at.getTime() > Date.parse(draft.before.expiresAt);
  const same = !!draft.before && draft.before.id === draft.planId && !draft.previous!.run && !expired;
  if (same && !force) return refresh(context, item!, draft);
  if (!item) return openItem(context, draft);
  return revise(context, item, draft, force ? (requestedBy ?? '') : undefined);
}

async function makeDraft(
  context: SessionContext,
  item: TrackedItem | undefined,
  requestedBy: string | undefined,
): Promise<Draft> {
  const { deps, cluster } = context;
  const aks = await deps.aksFacts?.();
  const { plan, planId } = await inspectCluster(deps.clients, deps.settings.plan, deps.log, aks);
  const estimate = estimateOptions(deps.settings.execute, aks);
  const at = currentTime(deps);
  const artifacts = writePlanArtifacts(deps.outDir, plan, planId, {
    estimate,
    now: at,
    fullReportRef: fullReportRef(deps.tracker),
  });
  const { planFile, reportFile, summary } = artifacts;
  const recorded = context.snapshot?.ledger.item;
  const adopted = !!item && !(recorded?.number === item.number && !recorded.closed);
  const previous = adopted ? undefined : context.snapshot?.ledger;
  const before = item && previous?.plan ? previous.plan : undefined;
  const revision = {
    id: planId,
    revision: (before?.revision ?? 0) + 1,
    createdAt: at.toISOString(),
    expiresAt: new Date(at.getTime() + deps.settings.github.planTtlHours * HOUR_MS).toISOString(),
    ...(requestedBy ? { requestedBy } : {}),
    afterCommentId: previous?.lastCommentId ?? 0,
    nodes: plan.nodes.map((node) => node.name),
  };
  const title = `Reboot plan for ${cluster}: ${plan.nodes.length} node(s)`.slice(0, TITLE_LIMIT);
  const result = { planId, planFile, reportFile, nodesPending: plan.nodes.length, nodesRebooted: 0 };
  return {
    plan,
    planId,
    at,
    estimate,
    artifacts,
    result: { ...result, nodesFailed: 0, summary },
    adopted,
    previous,
    before,
    revision,
    title,
  };
}

/** The commit message of the plan's files (PR mode), naming the revision the item shows. */
const commitMessage = (context: SessionContext, draft: Draft) =>
  `Reboot plan ${shortId(draft.planId)} for ${context.cluster} (revision ${draft.revision.revision})`;

/** The item's body for the ledger as the context has it. */
function itemBody(context: SessionContext, draft: Draft): string {
  const { plan, planId, estimate, at } = draft;
  const preamble = preambleFor(context);
  const fullReport = fullReportRef(context.deps.tracker);
  const report = renderMarkdown(plan, planId, { estimate, now: at, preamble, fullReportRef: fullReport });
  return bodyFor(context, report, plan);
}

/** Nothing needs a reboot any more: the item, if any, closes. */
async function closeUpToDate(
  context: SessionContext,
  item: TrackedItem | undefined,
  draft: Draft,
): Promise<SessionResult> {
  if (!item) return { ...draft.result, outcome: 'none', state: 'up-to-date' };
  if (!draft.adopted) {
    const closed = { at: draft.at.toISOString(), by: 'reboot-pilot', how: 'nothing to do' };
    await updateLedger(context, (ledger) => closedLedger(ledger, closed));
  }
  const inspected = draft.plan.upToDate.length;
  await context.deps.tracker.finish(context.cluster, item, {
    ending: 'nothing-to-do',
    note: `Nothing needs a reboot any more: all ${inspected} inspected node(s) are up to date. Closing.`,
    files: draft.artifacts.files,
    message: `Cluster ${context.cluster} is up to date`,
  });
  return { ...draft.result, outcome: 'closed', state: 'up-to-date', number: item.number };
}

/** The same plan, unexecuted and unexpired: the body is refreshed (estimates, ages), the record kept. */
async function refresh(context: SessionContext, item: TrackedItem, draft: Draft): Promise<SessionResult> {
  const body = itemBody(context, draft);
  if (body !== item.body || draft.title !== item.title)
    await context.deps.tracker.update(item, body, draft.title);
  return { ...draft.result, outcome: 'refreshed', state: 'awaiting-approval', number: item.number };
}

/** The ledger with the draft as its new revision: approvals, the go-ahead and the run start afresh. */
function withRevision(ledger: Ledger, revision: Draft['revision']): Ledger {
  const { go: _go, run: _run, pausedFrom: _pausedFrom, replanBy: _replanBy, ...rest } = ledger;
  return {
    ...rest,
    plan: revision,
    state: 'awaiting-approval',
    skipped: [],
    approvals: ledger.approvals.filter((approval) => approval.revision === revision.revision),
  };
}

/** A new item: the body shows the ledger about to be written (it names no item number). */
async function openItem(context: SessionContext, draft: Draft): Promise<SessionResult> {
  const { deps, cluster } = context;
  // Claimed in the ledger first: of two jobs planning at once, one opens the item.
  const claimedBy = randomUUID();
  const refusal = await claimTheOpening(context, draft, claimedBy);
  if (refusal) return refusal;
  // A crash between opening and the ledger write leaves an item the ledger never trusts.
  const about = newItemLedger(context, 1, draft.at.toISOString());
  const shown = { ...context, snapshot: { ledger: withRevision(about, draft.revision) } };
  const message = commitMessage(context, draft);
  const body = itemBody(shown, draft);
  const created = await deps.tracker
    .open(cluster, { title: draft.title, body, files: draft.artifacts.files, message })
    .catch(async (error: unknown) => {
      // Nothing was opened: the next run need not wait for the claim to lapse.
      await releaseOpening(context.store, claimedBy).catch(() => undefined);
      throw error;
    });
  await writeNewItemLedger(context, created.number, draft);
  deps.log(`opened tracking ${deps.tracker.kind} #${created.number} for plan ${shortId(draft.planId)}`);
  return { ...draft.result, outcome: 'opened', state: 'awaiting-approval', number: created.number };
}

/** Claims the opening in the ledger; another job's claim or item is the answer (state ignored). */
async function claimTheOpening(
  context: SessionContext,
  draft: Draft,
  claimedBy: string,
): Promise<SessionResult | undefined> {
  const { deps, cluster } = context;
  const claim = await claimOpening(context.store, context.snapshot, {
    by: claimedBy,
    now: draft.at,
    kind: itemNoun(deps.tracker),
    cluster,
    fresh: () => emptyLedger(deps.tracker.repository, cluster, deps.tracker.kind, draft.at),
  });
  context.snapshot = claim.snapshot;
  if (claim.granted) return undefined;
  deps.log(`${claim.why}: this run opens nothing`);
  const summary = `Reboot Pilot: ${md(claim.why)}.\n`;
  return { ...draft.result, outcome: 'none', state: 'ignored', summary };
}

/** A new revision on the open item: recorded, shown, and announced in a comment. */
async function revise(
  context: SessionContext,
  item: TrackedItem,
  draft: Draft,
  replanFor: string | undefined,
): Promise<SessionResult> {
  const { deps, cluster } = context;
  const planText = draft.artifacts.files['plan.json']!;
  if (draft.adopted) await writeNewItemLedger(context, item.number, draft);
  else await updateLedger(context, (ledger) => withRevision(ledger, draft.revision), planText);
  const message = commitMessage(context, draft);
  const body = itemBody(context, draft);
  await deps.tracker.revise(cluster, item, {
    title: draft.title,
    body,
    files: draft.artifacts.files,
    message,
  });
  await deps.tracker.comment(item, revisionNote(draft, replanFor));
  return { ...draft.result, outcome: 'revised', state: 'awaiting-approval', number: item.number };
}

/** A fresh ledger for a new item, keeping the record of the items before it. */
function newItemLedger(context: SessionContext, number: number, at: string): Ledger {
  const { deps } = context;
  const previous = context.snapshot?.ledger;
  const fresh = emptyLedger(deps.tracker.repository, context.cluster, deps.tracker.kind, currentTime(deps));
  const item = previous?.item;
  const closed = item?.closed
    ? [
        {
          number: item.number,
          closedAt: item.closed.at,
          by: item.closed.by,
          how: item.closed.how,
          lastCommentId: previous!.lastCommentId,
        },
      ]
    : [];
  return {
    ...fresh,
    former: [...(previous?.former ?? []), ...closed].slice(-20),
    item: { number, openedAt: at },
  };
}

/** Writes the ledger of a new (or adopted) item, with the plan file, over whatever is there. */
async function writeNewItemLedger(context: SessionContext, number: number, draft: Draft): Promise<void> {
  const at = draft.at.toISOString();
  const first = withRevision(newItemLedger(context, number, at), draft.revision);
  const written = await context.store.update(
    (snapshot) => ({
      ledger: snapshot
        ? withRevision(newItemLedger({ ...context, snapshot }, number, at), draft.revision)
        : first,
      planFile: draft.artifacts.files['plan.json']!,
      out: true,
    }),
    context.snapshot ?? 'none',
  );
  context.snapshot = written.snapshot;
}

/** Why a new revision was made. */
function revisionReason(draft: Draft, replanFor: string | undefined): string {
  if (draft.adopted) return 'Reboot Pilot now keeps its record in the cluster';
  if (replanFor !== undefined) return `Re-planned${replanFor ? ` for @${replanFor}` : ''}`;
  if (draft.before?.id !== draft.planId) return 'The cluster changed';
  const ended = draft.previous?.run;
  return ended
    ? `The execution of the previous revision ended (${ended.state}); a new revision of the same plan`
    : 'The previous revision expired; a new revision of the same plan';
}

/** The comment that announces a new revision: why, what it replaces, what is still cordoned. */
function revisionNote(draft: Draft, replanFor: string | undefined): string {
  const { before, planId } = draft;
  const cordoned = draft.previous?.run?.leftCordoned ?? [];
  const left = cordoned.length
    ? ` Still cordoned by the previous revision's execution: ${cordoned.map(md).join(', ')} (this plan's ` +
      `run uncordons them after their reboot, or \`kubectl uncordon\` them).`
    : '';
  const replaced = before ? shortId(before.id) : 'none';
  const revision = draft.revision.revision;
  return (
    `${revisionReason(draft, replanFor)}: plan \`${shortId(planId)}\` (revision ${revision}) ` +
    `replaces \`${replaced}\` (revision ${before?.revision ?? 0}). Earlier approvals are discarded.${left}`
  );
}
