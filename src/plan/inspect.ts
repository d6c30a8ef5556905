// Inspection: the I/O half of planning. Reads the cluster, asks the configured detectors (the
// `detectors` setting: host probes, kured's annotations) about the candidate nodes, and hands
// everything to the pure planner.
import type { KubeClients } from '../kube/client.ts';
import { readSnapshot } from '../cluster/snapshot.ts';
import type { Log } from '../detect/probe.ts';
import { probeDetector, probeOptions } from '../detect/probe-detector.ts';
import { kuredDetector } from '../detect/kured.ts';
import type { Candidates, Detector, Findings } from '../detect/types.ts';
import type { PlanSettings } from '../settings.ts';
import { buildPlan, candidateNodes, type PlanOptions } from './build.ts';
import { planId } from './canonical.ts';
import type { AksFacts, Plan } from './types.ts';

export interface Inspection {
  plan: Plan;
  planId: string;
  probed: number;
}

export function planOptions(settings: PlanSettings): PlanOptions {
  return {
    order: settings.order,
    drain: { deleteEmptyDirData: settings.deleteEmptydirData, force: settings.force },
    blockingPodSelector: settings.blockingPodSelector,
    nodeSelector: settings.nodeSelector,
    rebootOnNewerKernel: settings.rebootOnNewerKernel,
    probeEnabled: settings.detectors.includes('probe'),
  };
}

/** The detectors the settings name, in the order they are listed. */
export function detectorsFor(settings: PlanSettings, kube: KubeClients): Detector[] {
  return settings.detectors.map((name) =>
    name === 'probe' ? probeDetector(kube, probeOptions(settings)) : kuredDetector,
  );
}

/** Asks each detector in turn; a source that is not asked contributes nothing. */
export async function detect(detectors: Detector[], candidates: Candidates, log: Log): Promise<Findings> {
  const findings: Findings = { probes: new Map(), evidence: new Map() };
  for (const detector of detectors) {
    const found = await detector.detect(candidates, log);
    for (const [node, outcome] of found.probes ?? []) findings.probes.set(node, outcome);
    for (const [node, evidence] of found.evidence ?? []) {
      findings.evidence.set(node, [...(findings.evidence.get(node) ?? []), ...evidence]);
    }
  }
  return findings;
}

/** `aks`: AKS facts read at the edge (src/azure/facts.ts) when the Azure integration is on. */
export async function inspectCluster(
  kube: KubeClients,
  settings: PlanSettings,
  log: Log,
  aks?: AksFacts,
): Promise<Inspection> {
  const clusterName = settings.clusterName || kube.kc.getCurrentCluster()?.name || kube.context;
  log(`reading cluster ${clusterName} (${kube.server})`);
  const snapshot = await readSnapshot(kube, clusterName);
  const options = planOptions(settings);
  const candidates = candidateNodes(snapshot, options);
  const { nodes, pods, pdbs } = snapshot;
  const considered = candidates.considered.length;
  log(`${nodes.length} nodes, ${considered} considered, ${pods.length} pods, ${pdbs.length} PDBs`);
  const findings = await detect(detectorsFor(settings, kube), candidates, log);
  const plan = buildPlan(snapshot, findings, options, aks);
  return { plan, planId: planId(plan), probed: findings.probes.size };
}
