// What one cluster's GitHub session works with: its dependencies (the tracker, the cluster, the
// settings, the event), what it returns, and the context every phase shares: the ledger snapshot
// and where it is. Changes to the ledger go through updateLedger, which keeps the snapshot current.
import type { KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import type { PlanSettings, ExecuteSettings } from '../settings.ts';
import type { AksFacts } from '../plan/types.ts';
import type { RunOptions } from '../execute/run.ts';
import type { ActionState } from '../states.ts';
import type { LedgerStore, LedgerSnapshot } from '../ledger/store.ts';
import type { Ledger } from '../ledger/record.ts';
import type { GitHubSettings } from './settings.ts';
import type { Tracker } from './tracker.ts';

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
  /** The tracking issue or pull request, and who may command it (its repository's permissions). */
  tracker: Tracker;
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
  /** The Azure integration's rebooter, node image upgrade and gates when configured (only to execute). */
  extras?: () => Promise<Pick<RunOptions, 'rebooter' | 'gates' | 'nodeImageUpgrade'>>;
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

/** What every phase of a session shares: the deps, the cluster, the ledger and where it is. */
export interface SessionContext {
  deps: SessionDeps;
  cluster: string;
  store: LedgerStore;
  /** namespace/name of the ledger ConfigMap, as messages and bodies name it. */
  where: string;
  snapshot: LedgerSnapshot | undefined;
}

export function clusterName(clients: KubeClients, settings: PlanSettings): string {
  return settings.clusterName || clients.kc.getCurrentCluster()?.name || clients.context;
}

export const currentTime = (deps: SessionDeps) => (deps.now ?? (() => new Date()))();

/** "issue" or "pull request", as messages name the tracking item. */
export const itemNoun = (tracker: Tracker) => (tracker.kind === 'issue' ? 'issue' : 'pull request');

export const NO_NODES = { nodesPending: 0, nodesRebooted: 0, nodesFailed: 0 };

/** The node counts of the ledger's plan and execution, as the action outputs them. */
export function nodeCounts(ledger: Ledger) {
  const nodes = ledger.run?.nodes ?? [];
  const ok = nodes.filter((node) => node.outcome === 'rebooted' || node.outcome === 'already-done').length;
  const reimaged = nodes.filter((node) => node.outcome === 'reimaged').length;
  const failed = nodes.filter((node) => node.outcome === 'failed').length;
  const skipped = nodes.filter((node) => node.outcome === 'skipped').length;
  return {
    nodesPending: (ledger.plan?.nodes.length ?? 0) - ok - reimaged - failed - skipped,
    nodesRebooted: ok,
    nodesReimaged: reimaged,
    nodesFailed: failed,
  };
}

/** Applies a change to the ledger (re-applied on a write conflict) and keeps the snapshot. */
export async function updateLedger(
  context: SessionContext,
  change: (ledger: Ledger) => Ledger,
  planFile?: string,
): Promise<Ledger> {
  const result = await context.store.update(
    (snapshot) =>
      snapshot
        ? { ledger: change(snapshot.ledger), ...(planFile ? { planFile } : {}), out: true }
        : undefined,
    context.snapshot,
  );
  context.snapshot = result.snapshot;
  if (!context.snapshot)
    throw new UserError(`the ledger ${context.where} disappeared during the run; nothing more is done`);
  return context.snapshot.ledger;
}

/** The ledger once its item is closed: the go-ahead is dropped with it. */
export function closedLedger(ledger: Ledger, closed: { at: string; by: string; how: string }): Ledger {
  const { go: _go, ...rest } = ledger;
  return { ...rest, state: 'closed', item: { ...ledger.item!, closed } };
}
