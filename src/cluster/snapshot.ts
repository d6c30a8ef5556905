// One consistent read of what planning needs: nodes, pods, PDBs and the cluster's identity.
// Every collection is a paginated list (requests grow with pages, never with nodes).
import type * as k8s from '@kubernetes/client-node';
import { call, type KubeClients } from '../kube/client.ts';
import { AKS_CLUSTER_LABEL } from '../kube/labels.ts';

export interface ClusterIdentity {
  uid: string;
  name: string;
  server: string;
  provider: 'aks' | 'generic';
}

export interface ClusterSnapshot {
  identity: ClusterIdentity;
  nodes: k8s.V1Node[];
  pods: k8s.V1Pod[];
  pdbs: k8s.V1PodDisruptionBudget[];
}

export const PAGE_SIZE = 500;

interface Page<T> {
  items: T[];
  metadata?: { _continue?: string };
}

/** Follows `continue` tokens until the list is complete; fetchPage gets limit and _continue. */
export async function listAll<T>(
  fetchPage: (page: { limit: number; _continue?: string }) => Promise<Page<T>>,
): Promise<T[]> {
  const items: T[] = [];
  let cont: string | undefined;
  do {
    const page = await fetchPage({ limit: PAGE_SIZE, ...(cont ? { _continue: cont } : {}) });
    items.push(...page.items);
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return items;
}

export function isAksNode(node: k8s.V1Node): boolean {
  return (
    (node.spec?.providerID ?? '').startsWith('azure://') ||
    node.metadata?.labels?.[AKS_CLUSTER_LABEL] !== undefined
  );
}

export async function readSnapshot(kube: KubeClients, clusterName: string): Promise<ClusterSnapshot> {
  const [kubeSystem, nodes, pods, pdbs] = await Promise.all([
    call('get', 'namespaces (kube-system, for the cluster identity)', kube.server, () =>
      kube.core.readNamespace({ name: 'kube-system' }),
    ),
    call('list', 'nodes', kube.server, () => listAll((page) => kube.core.listNode(page))),
    call('list', 'pods (all namespaces)', kube.server, () =>
      listAll((page) => kube.core.listPodForAllNamespaces(page)),
    ),
    call('list', 'poddisruptionbudgets.policy (all namespaces)', kube.server, () =>
      listAll((page) => kube.policy.listPodDisruptionBudgetForAllNamespaces(page)),
    ),
  ]);
  return {
    identity: {
      uid: kubeSystem.metadata?.uid ?? '',
      name: clusterName,
      server: kube.server,
      provider: nodes.some(isAksNode) ? 'aks' : 'generic',
    },
    nodes,
    pods,
    pdbs,
  };
}
