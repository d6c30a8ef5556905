// kubectl drain's pod filters (k8s.io/kubectl/pkg/drain/filters.go), as pure functions so the
// plan's pre-flight and the drain itself decide the same way. Order and meaning follow kubectl:
// finished pods are always deletable; DaemonSet pods are skipped (a node reboot restarts them);
// mirror (static) pods are skipped; emptyDir pods need deleteEmptyDirData; pods without a
// controller need force. Any refusal stops a drain before it evicts anything.
import type { V1Pod } from '@kubernetes/client-node';
import { MIRROR_ANNOTATION } from '../kube/labels.ts';

export interface DrainOptions {
  /** kubectl --delete-emptydir-data */
  deleteEmptyDirData: boolean;
  /** kubectl --force: evict pods that no controller will recreate */
  force: boolean;
}

export type PodVerdict =
  | { action: 'skip'; reason: 'daemonset' | 'mirror' }
  | { action: 'evict'; warnings: ('emptydir' | 'unreplicated' | 'finished')[] }
  | { action: 'refuse'; reason: 'emptydir' | 'unreplicated' };

export function isFinished(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function controllerOf(pod: V1Pod) {
  return pod.metadata?.ownerReferences?.find((o) => o.controller);
}

export function hasEmptyDir(pod: V1Pod): boolean {
  // `!= null`: an emptyDir may be absent, or null in JSON written by hand.
  return pod.spec?.volumes?.some((v) => v.emptyDir != null) ?? false;
}

export function classifyPod(pod: V1Pod, options: DrainOptions): PodVerdict {
  if (isFinished(pod)) return { action: 'evict', warnings: ['finished'] };
  const ctl = controllerOf(pod);
  if (ctl?.kind === 'DaemonSet') return { action: 'skip', reason: 'daemonset' };
  if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined)
    return { action: 'skip', reason: 'mirror' };
  const warnings: ('emptydir' | 'unreplicated')[] = [];
  if (hasEmptyDir(pod)) {
    if (!options.deleteEmptyDirData) return { action: 'refuse', reason: 'emptydir' };
    warnings.push('emptydir');
  }
  if (!ctl) {
    if (!options.force) return { action: 'refuse', reason: 'unreplicated' };
    warnings.push('unreplicated');
  }
  return { action: 'evict', warnings };
}
