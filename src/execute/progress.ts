// Per-node progress, durable in the node's own annotations: a run killed at any moment and
// started again reads where it stopped, and the invariant watcher (and people) can tell a node
// made unavailable by Reboot Pilot from anything else.
import * as k8s from '@kubernetes/client-node';
import { MERGE_PATCH, explainApiError, type KubeClients } from '../kube/client.ts';
import { ANN } from '../kube/labels.ts';

/** The steps of one node, in order. "done" nodes are never touched again for that plan. */
export const STEPS = ['cordoned', 'drained', 'rebooting', 'rebooted', 'uncordoned', 'done'] as const;
export type Step = (typeof STEPS)[number];

/** Steps during which the node is unavailable because of us. */
export const UNAVAILABLE_STEPS: readonly Step[] = ['cordoned', 'drained', 'rebooting', 'rebooted'];

export interface Workload {
  namespace: string;
  kind: string;
  name: string;
}

export interface NodeProgress {
  planId?: string;
  step?: Step;
  cordonedByUs: boolean;
  bootIdBefore?: string;
  kernelBefore?: string;
  rebootRequestedAt?: Date;
  evicted: Workload[];
  error?: string;
}

function readEvicted(value: string | undefined): Workload[] {
  try {
    return value ? (JSON.parse(value) as Workload[]) : [];
  } catch {
    return [];
  }
}

export function readProgress(node: k8s.V1Node): NodeProgress {
  const record = node.metadata?.annotations ?? {};
  const step = record[ANN.step] as Step | undefined;
  const requestedAt = record[ANN.rebootRequestedAt];
  return {
    ...(record[ANN.planId] ? { planId: record[ANN.planId] } : {}),
    ...(step && (STEPS as readonly string[]).includes(step) ? { step } : {}),
    cordonedByUs: record[ANN.cordonedByUs] === 'true',
    ...(record[ANN.bootIdBefore] ? { bootIdBefore: record[ANN.bootIdBefore] } : {}),
    ...(record[ANN.kernelBefore] ? { kernelBefore: record[ANN.kernelBefore] } : {}),
    ...(requestedAt ? { rebootRequestedAt: new Date(requestedAt) } : {}),
    evicted: readEvicted(record[ANN.evicted]),
    ...(record[ANN.error] ? { error: record[ANN.error] } : {}),
  };
}

/** One merge patch: annotations (null deletes) and optionally spec.unschedulable. */
export async function patchNode(
  kube: KubeClients,
  node: string,
  annotations: Record<string, string | null>,
  unschedulable?: boolean,
): Promise<k8s.V1Node> {
  try {
    return await kube.core.patchNode(
      {
        name: node,
        body: {
          metadata: { annotations },
          ...(unschedulable === undefined ? {} : { spec: { unschedulable } }),
        },
      },
      MERGE_PATCH,
    );
  } catch (error) {
    throw explainApiError(error, 'patch', `nodes/${node}`, kube.server);
  }
}

export function stepPatch(
  step: Step,
  extra: Record<string, string | null> = {},
): Record<string, string | null> {
  return { [ANN.step]: step, [ANN.stepAt]: new Date().toISOString(), ...extra };
}

/** Every annotation of ours, removed once a node is done and available again. */
export function clearProgress(keepDone: { planId: string }): Record<string, string | null> {
  return {
    [ANN.step]: 'done',
    [ANN.planId]: keepDone.planId,
    [ANN.stepAt]: new Date().toISOString(),
    [ANN.cordonedByUs]: null,
    [ANN.bootIdBefore]: null,
    [ANN.kernelBefore]: null,
    [ANN.rebootRequestedAt]: null,
    [ANN.evicted]: null,
    [ANN.error]: null,
    [ANN.scaleDownBefore]: null,
  };
}
