// What a kubelet does and KWOK's pod stages do not: report a running pod Ready again. When the
// node lifecycle controller runs late on a loaded machine it can mark a node's pods NotReady
// after the node is back (a pod just scheduled there included); KWOK's pod-ready stage only
// readies Pending pods, so such a pod would stay NotReady for good and its PDB would hold every
// later drain. This loop re-readies Running workload pods on nodes that are Ready and powered
// on, as their kubelet would. Used by the taint benchmark and tests (10-node rollouts).
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './controlplane.ts';
import { SIM_POWER_LABEL, PRODUCT_ROLE_LABEL } from './stages.ts';
import { isReady } from './nodes.ts';
import { listAll } from '../../src/cluster/snapshot.ts';

/** Starts the loop; the function returned stops it and says how many pods it re-readied. */
export function keepPodsReady(cluster: Cluster, namespace: string, everyMs = 1000): () => number {
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  let stopped = false;
  let readied = 0;
  const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
  const round = async () => {
    const nodes = await listAll((page) => core.listNode(page));
    const up = new Set(
      nodes.filter((n) => isReady(n) && !n.metadata?.labels?.[SIM_POWER_LABEL]).map((n) => n.metadata!.name!),
    );
    const pods = await core.listNamespacedPod({ namespace, fieldSelector: 'status.phase=Running' });
    for (const p of pods.items) {
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (
        ready ||
        p.metadata?.deletionTimestamp ||
        p.metadata?.labels?.[PRODUCT_ROLE_LABEL] ||
        !up.has(p.spec?.nodeName ?? '')
      )
        continue;
      const now = new Date();
      await core
        .patchNamespacedPodStatus(
          {
            name: p.metadata!.name!,
            namespace,
            body: {
              status: {
                conditions: [
                  { type: 'Ready', status: 'True', lastTransitionTime: now },
                  { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
                ],
              },
            },
          },
          MERGE,
        )
        .then(() => readied++)
        .catch(() => undefined);
    }
  };
  const loop = async () => {
    while (!stopped) {
      await round().catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  void loop();
  return () => {
    stopped = true;
    return readied;
  };
}
