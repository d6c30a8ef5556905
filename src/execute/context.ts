// What an execution works with: the executor's options and dependencies, the run's shared state
// and one node's context, passed from step to step (src/execute/steps.ts).
import type * as k8s from '@kubernetes/client-node';
import type { KubeClients } from '../kube/client.ts';
import type { Plan, PlanNode } from '../plan/types.ts';
import type { DrainSettings } from '../drain/drain.ts';
import type { Rebooter } from '../reboot/types.ts';
import type { Gate } from '../gates/types.ts';
import type { ProbeOptions } from '../detect/probe.ts';
import type { NodeProgress } from './progress.ts';
import type { Health } from './health.ts';
import type { ExecEvent, Interruption, NodeImageUpgrade, NodeReport, RunState } from './types.ts';

/** The executor's own options, built by run.ts from the parsed settings and the plan. */
export interface ExecutorOptions {
  drain: DrainSettings;
  rebootTimeoutSeconds: number;
  rebootDelaySeconds: number;
  workloadTimeoutSeconds: number;
  soakSeconds: number;
  maxNodes: number;
  preRebootLabels?: Record<string, string>;
  postRebootLabels?: Record<string, string>;
  /** Reboot even when the drain timed out (kured's --force-reboot). */
  forceReboot?: boolean;
  /** Re-probe each node before touching it (is the reboot still needed?). */
  reprobe?: ProbeOptions;
  /** PreferNoSchedule taints on the nodes still pending, so pods move once (default on). */
  preferNoScheduleTaint?: boolean;
}

export interface ExecuteDeps {
  kube: KubeClients;
  rebooter: Rebooter;
  gates: Gate[];
  /** The planned update of node-image-upgrade nodes, and the fallback when an in-place reboot fails. */
  nodeImageUpgrade?: NodeImageUpgrade;
  onEvent?: (event: ExecEvent) => void;
  log?: (line: string) => void;
  /** Checked before every step: throws when the run lock was lost. */
  checkLock?: () => void;
  /** Asked before each node is started: a pause, cancel or skip requested meanwhile (GitHub comments). */
  interrupt?: (node: string) => Promise<Interruption | undefined>;
  now?: () => Date;
}

/** What every node of one run shares. */
export interface Run {
  plan: Plan;
  planId: string;
  options: ExecutorOptions;
  deps: ExecuteDeps;
  kube: KubeClients;
  log: (line: string) => void;
  emit: (event: ExecEvent) => void;
  now: () => Date;
  reports: NodeReport[];
  /** Nodes rebooted or upgraded by this run (for max-nodes and the gates). */
  patched: number;
  /** Pools whose node image this run upgraded (the fallback of a failed reboot) -> the node it was for. */
  upgradedPools: Map<string, string>;
  health: (current: string) => Promise<Health>;
}

/** One node's in-place reboot: its plan entry, its live object and record, its report. */
export interface NodeContext {
  run: Run;
  planned: PlanNode;
  report: NodeReport;
  /** When the node's re-verification started (its total time). */
  startedMs: number;
  /** The live node, as the last read or patch returned it. */
  node: k8s.V1Node;
  progress: NodeProgress;
  /** The boot ID the reboot must replace (recorded at the cordon). */
  bootBefore: string;
}

/** What the executor knows of a node when its reboot starts. */
export type NodeStart = Omit<NodeContext, 'progress' | 'bootBefore'>;

/** Ends the run with a state of its own ('failed' here: without marking the node). */
export class Stop extends Error {
  readonly state: RunState;
  constructor(state: RunState, message: string) {
    super(message);
    this.state = state;
  }
}

/** The run lock check, for a node image upgrade to call between its polls. */
export function lockCheck(run: Run): { checkLock?: () => void } {
  return run.deps.checkLock ? { checkLock: run.deps.checkLock } : {};
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
