// The executor's vocabulary, shared with whoever reports on a run (GitHub, chat, result.json)
// and with the Azure integration that implements its node image upgrade seam. Types only.
import type { PlanNode } from '../plan/types.ts';

/** reimaged: patched by a node image upgrade of its pool (planned, or the fallback of a failed reboot). */
export type NodeOutcome = 'rebooted' | 'reimaged' | 'already-done' | 'skipped' | 'failed' | 'not-started';
export type RunState = 'completed' | 'paused' | 'cancelled' | 'stale' | 'failed';

/**
 * Milliseconds per phase: drain, reboot (request to Ready), workloads, soak; total from
 * re-verification to done.
 */
export type NodeTimings = Partial<Record<'drain' | 'reboot' | 'workloads' | 'soak' | 'total', number>>;

export interface NodeReport {
  name: string;
  outcome: NodeOutcome;
  kernelBefore: string;
  kernelAfter?: string;
  /** Reimaged nodes: the node image before and after (AKS's node-image-version label). */
  nodeImageBefore?: string;
  nodeImageAfter?: string;
  bootIdBefore: string;
  bootIdAfter?: string;
  startedAt?: string;
  finishedAt?: string;
  timings: NodeTimings;
  detail?: string;
}

export interface ExecutionResult {
  planId: string;
  state: RunState;
  message: string;
  nodes: NodeReport[];
  /** Nodes this run (or an earlier run of the plan) cordoned and left cordoned. */
  leftCordoned: string[];
}

/** Progress events for live reporting (GitHub body, terminal, chat). */
export type ExecEvent =
  | { type: 'node-start'; node: string; order: number }
  | { type: 'step'; node: string; step: string; detail?: string }
  | { type: 'node-end'; report: NodeReport }
  | { type: 'waiting'; node: string; what: string; sinceMs: number };

export interface Interruption {
  action: 'pause' | 'cancel' | 'skip';
  reason: string;
}

/** Why a node image upgrade is asked for, and how it may wait. */
export interface NodeImageRequest {
  /** A line for the log: "planned node image upgrade", or why the in-place reboot failed. */
  reason: string;
  /** True when asked because the node's in-place reboot failed (it did not come back). */
  failedReboot: boolean;
  /** Throws when the run lock was lost; long waits call it between polls. */
  checkLock?: () => void;
}

/**
 * What a node image upgrade did: 'handled' (the node's pool got a new node image), 'up-to-date'
 * (nothing newer to install: nothing done), 'unavailable' (cannot be done here); with a line for
 * the report.
 */
export interface NodeImageResult {
  result: 'handled' | 'unavailable' | 'up-to-date';
  detail?: string;
}

/**
 * The node image upgrade of a node's pool (AKS): the planned update of node-image-upgrade nodes
 * and the fallback when a node's in-place reboot fails. Implemented in src/azure/nodeimage.ts.
 */
export interface NodeImageUpgrade {
  upgrade(planned: PlanNode, request: NodeImageRequest): Promise<NodeImageResult>;
}
