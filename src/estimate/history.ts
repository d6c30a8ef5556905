// How long a node took last time: its drain, reboot and workload times, recorded in the node's
// own annotation when the executor finishes it (so a past rollout, or a benchmark, supplies the
// next plan's estimate), and read back when planning.
import type * as k8s from '@kubernetes/client-node';
import { patchNode } from '../execute/progress.ts';
import type { KubeClients } from '../kube/client.ts';
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
    const d = JSON.parse(raw) as Partial<Durations>;
    const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x < 7 * 86_400;
    if (!ok(d.drain) || !ok(d.reboot) || !ok(d.workloads)) return undefined;
    const r = Math.round;
    return { drain: r(d.drain!), reboot: r(d.reboot!), workloads: r(d.workloads!) };
  } catch {
    // Someone else's edit; no history rather than a wrong one.
    return undefined;
  }
}

/** Records a finished node's phases (milliseconds in, whole seconds stored). */
export async function recordDurations(
  c: KubeClients,
  name: string,
  t: { drain?: number; reboot?: number; workloads?: number },
): Promise<void> {
  const s = (ms: number | undefined) => Math.round((ms ?? 0) / 1000);
  const value: Durations = { drain: s(t.drain), reboot: s(t.reboot), workloads: s(t.workloads) };
  await patchNode(c, name, { [DURATIONS_ANNOTATION]: JSON.stringify(value) });
}
