// What a node object says about itself, in the words the rest of the code uses: its pool, its
// OS, whether it is Ready. Pure reads of the node; shared by planning, execution and Azure.
import type * as k8s from '@kubernetes/client-node';
import { CONTROL_PLANE_LABEL, CONTROL_PLANE_LABELS, OS_LABEL, POOL_LABELS } from '../kube/labels.ts';

export function poolOf(node: k8s.V1Node): string {
  const l = node.metadata?.labels ?? {};
  for (const k of POOL_LABELS) if (l[k]) return l[k];
  if (CONTROL_PLANE_LABEL in l) return 'control-plane';
  return 'default';
}

export function osOf(node: k8s.V1Node): 'linux' | 'windows' {
  const os = node.metadata?.labels?.[OS_LABEL] ?? node.status?.nodeInfo?.operatingSystem;
  return os === 'windows' ? 'windows' : 'linux';
}

export function isReady(node: k8s.V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isControlPlane(node: k8s.V1Node): boolean {
  const l = node.metadata?.labels ?? {};
  return CONTROL_PLANE_LABELS.some((k) => k in l);
}
