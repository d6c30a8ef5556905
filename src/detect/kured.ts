// kured's node annotations (set with kured --annotate-nodes) as evidence. reboot-in-progress
// means kured saw the sentinel and has not finished; most-recent-reboot-needed is never removed
// by kured, so it counts only when newer than the node's last transition to Ready (its boot).
import type * as k8s from '@kubernetes/client-node';
import type { Evidence } from '../plan/types.ts';
import { KURED_IN_PROGRESS, KURED_MOST_RECENT } from '../kube/labels.ts';
import type { Detector } from './types.ts';

export function kuredEvidence(node: k8s.V1Node): Evidence[] {
  const a = node.metadata?.annotations ?? {};
  const out: Evidence[] = [];
  if (a[KURED_IN_PROGRESS])
    out.push({ source: 'kured', detail: `kured marked a reboot in progress at ${a[KURED_IN_PROGRESS]}` });
  const recent = a[KURED_MOST_RECENT];
  if (recent && !a[KURED_IN_PROGRESS]) {
    const readySince = node.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
    const t = Date.parse(recent);
    if (!Number.isNaN(t) && (!readySince || t > new Date(readySince).getTime())) {
      out.push({
        source: 'kured',
        detail: `kured saw a reboot needed at ${recent}, after the node last became Ready`,
      });
    }
  }
  return out;
}

/** kured's annotations behind the Detector seam: reads only the node objects already listed. */
export const kuredDetector: Detector = {
  name: 'kured',
  detect({ considered }) {
    const evidence = new Map<string, Evidence[]>();
    for (const node of considered) {
      const found = kuredEvidence(node);
      if (found.length) evidence.set(node.metadata!.name!, found);
    }
    return Promise.resolve({ evidence });
  },
};
