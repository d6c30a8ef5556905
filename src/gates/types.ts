// A gate answers one question before each node: may the next node start now? A closed gate
// pauses the run between nodes (never in the middle of one) and says why.
import type * as k8s from '@kubernetes/client-node';

export type GateResult = { open: true } | { open: false; reason: string };

export interface GateContext {
  node: k8s.V1Node;
  now: Date;
  /** Nodes this run has already patched. */
  done: number;
}

export interface Gate {
  readonly name: string;
  check(ctx: GateContext): Promise<GateResult>;
}

export const OPEN: GateResult = { open: true };
