// Inspection: the I/O half of planning. Reads the cluster, probes the Linux nodes that are
// candidates, and hands everything to the pure planner.
import type { KubeClients } from '../kube/client.ts';
import { readSnapshot } from '../cluster/snapshot.ts';
import { runProbes, type Log } from '../detect/probe.ts';
import type { PlanSettings } from '../settings.ts';
import { buildPlan, candidateNodes, type PlanOptions } from './build.ts';
import { planId } from './canonical.ts';
import type { AksFacts, Plan } from './types.ts';

export interface Inspection {
  plan: Plan;
  id: string;
  probed: number;
}

export function planOptions(s: PlanSettings): PlanOptions {
  return {
    order: s.order,
    drain: { deleteEmptyDirData: s['delete-emptydir-data'], force: s.force },
    blockingPodSelector: s['blocking-pod-selector'],
    nodeSelector: s['node-selector'],
    rebootOnNewerKernel: s['reboot-on-newer-kernel'],
    probeEnabled: s.detectors.includes('probe'),
  };
}

/** `aks`: AKS facts read at the edge (src/azure/facts.ts) when the Azure integration is on. */
export async function inspectCluster(c: KubeClients, s: PlanSettings, log: Log, aks?: AksFacts): Promise<Inspection> {
  const clusterName = s['cluster-name'] || c.kc.getCurrentCluster()?.name || c.context;
  log(`reading cluster ${clusterName} (${c.server})`);
  const snapshot = await readSnapshot(c, clusterName);
  const opts = planOptions(s);
  const { considered, probe } = candidateNodes(snapshot, opts);
  log(`${snapshot.nodes.length} nodes, ${considered.length} considered, ${snapshot.pods.length} pods, ${snapshot.pdbs.length} PDBs`);
  let probes = new Map();
  if (opts.probeEnabled && probe.length) {
    log(`probing ${probe.length} Linux nodes (${s['probe-parallelism']} at a time, ${s['probe-timeout']}s each, image ${s.image})`);
    probes = await runProbes(
      c,
      probe,
      {
        image: s.image,
        namespace: s.namespace,
        parallelism: s['probe-parallelism'],
        timeoutSeconds: s['probe-timeout'],
        sentinel: s.sentinel,
        sentinelCommand: s['sentinel-command'],
      },
      log,
    );
  }
  const plan = buildPlan(snapshot, probes, opts, aks);
  return { plan, id: planId(plan), probed: probes.size };
}
