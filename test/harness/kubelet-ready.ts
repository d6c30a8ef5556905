// What a kubelet does and KWOK's pod stages do not: report a running pod Ready again. When the
// node lifecycle controller runs late on a loaded machine it can mark a node's pods NotReady
// after the node is back (a pod just scheduled there included); KWOK's pod-ready stage only
// readies Pending pods, so such a pod would stay NotReady for good and its PDB would hold every
// later drain (a test then hangs until drain-timeout). This loop re-readies Running workload pods
// on simulated nodes that are Ready and powered on, as their kubelet would. The node simulator
// runs it for every namespace while it runs; real nodes (test/harness/realnode.ts) have their own
// kubelet and are left alone.
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './controlplane.ts';
import { SIM_POWER_LABEL, PRODUCT_ROLE_LABEL } from './stages.ts';
import { REAL_NODE_LABEL } from './realnode.ts';
import { isReady } from './nodes.ts';

const STRATEGIC = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

const unready = (pod: k8s.V1Pod) =>
  pod.status?.conditions?.find((condition) => condition.type === 'Ready')?.status !== 'True' &&
  !pod.metadata?.deletionTimestamp &&
  !pod.metadata?.labels?.[PRODUCT_ROLE_LABEL] &&
  !!pod.spec?.nodeName;

/** Whether a pod on this node would be reported Ready by a simulated kubelet. */
async function kubeletUp(core: k8s.CoreV1Api, name: string): Promise<boolean> {
  const node = await core.readNode({ name }).catch(() => undefined);
  const labels = node?.metadata?.labels ?? {};
  return !!node && isReady(node) && !labels[SIM_POWER_LABEL] && !labels[REAL_NODE_LABEL];
}

async function readyAgain(core: k8s.CoreV1Api, pod: k8s.V1Pod): Promise<boolean> {
  const now = new Date();
  const conditions = [
    { type: 'Ready', status: 'True', lastTransitionTime: now },
    { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
  ];
  const name = pod.metadata!.name!;
  const namespace = pod.metadata!.namespace!;
  const body = { status: { conditions } };
  return core.patchNamespacedPodStatus({ name, namespace, body }, STRATEGIC).then(
    () => true,
    () => false,
  );
}

/** One pass: only the nodes of unready pods are read, so a 1,000-node cluster costs one pod list. */
async function readyRound(core: k8s.CoreV1Api, namespace: string | undefined): Promise<number> {
  const fieldSelector = 'status.phase=Running';
  const pods = namespace
    ? await core.listNamespacedPod({ namespace, fieldSelector })
    : await core.listPodForAllNamespaces({ fieldSelector });
  const candidates = pods.items.filter(unready);
  const up = new Map<string, boolean>();
  let readied = 0;
  for (const pod of candidates) {
    const node = pod.spec!.nodeName!;
    if (!up.has(node)) up.set(node, await kubeletUp(core, node));
    if (up.get(node) && (await readyAgain(core, pod))) readied++;
  }
  return readied;
}

/**
 * Starts the loop over one namespace, or every namespace without one; the function returned
 * stops it and says how many pods it re-readied.
 */
export function keepPodsReady(cluster: Cluster, namespace?: string, everyMs = 1000): () => number {
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  let stopped = false;
  let readied = 0;
  const loop = async () => {
    while (!stopped) {
      readied += await readyRound(core, namespace).catch(() => 0);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  };
  void loop();
  return () => {
    stopped = true;
    return readied;
  };
}
