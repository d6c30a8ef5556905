// How long a node took last time: its drain, reboot and workload times, recorded in the node's
// own annotation when the executor finishes it (so a past rollout, or a benchmark, supplies the
// next plan's estimate), and read back when planning. Pure: the executor writes the annotation.
import type * as k8s from '@kubernetes/client-node';
import { DURATIONS_ANNOTATION } from '../kube/labels.ts';

/** Whole seconds of each phase of the node's last reboot by Reboot Pilot. */
export interface Durations {
  drain: number;
  reboot: number;
  workloads: number;
}

export function readDurations(node: k8s.V1Node): Durations | undefined {
  const raw = node.metadata?.annotations?.[DURATIONS_ANNOTATION];
  if (!raw) return undefined;
  try {
    const stored = JSON.parse(raw) as Partial<Durations>;
    const ok = (value: unknown) =>
      typeof value === 'number' && Number.isFinite(value) && value >= 0 && value < 7 * 86_400;
    const { drain, reboot, workloads } = stored;
    if (!ok(drain) || !ok(reboot) || !ok(workloads)) return undefined;
    return { drain: Math.round(drain!), reboot: Math.round(reboot!), workloads: Math.round(workloads!) };
  } catch {
    // Someone else's edit; no history rather than a wrong one.
    return undefined;
  }
}

/**
 * The annotation that records a finished node's phases (milliseconds in, whole seconds stored);
 * the executor writes it on the node.
 */
export function durationsAnnotation(timings: {
  drain?: number;
  reboot?: number;
  workloads?: number;
}): Record<string, string> {
  const seconds = (ms: number | undefined) => Math.round((ms ?? 0) / 1000);
  const { drain, reboot, workloads } = timings;
  const value: Durations = { drain: seconds(drain), reboot: seconds(reboot), workloads: seconds(workloads) };
  return { [DURATIONS_ANNOTATION]: JSON.stringify(value) };
}
