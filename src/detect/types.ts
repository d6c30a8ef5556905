// The Detector seam: where evidence that a node needs a reboot comes from. The `detectors`
// setting picks the sources (src/plan/inspect.ts asks them); the pure planner reads only what
// they found, so a source that is switched off contributes nothing.
import type * as k8s from '@kubernetes/client-node';
import type { DETECTORS } from '../settings.ts';
import type { Evidence } from '../plan/types.ts';
import type { ProbeOutcome } from './probe.ts';

export type DetectorName = (typeof DETECTORS)[number];

/** What the detectors found, by node name. */
export interface Findings {
  /** Host probe outcomes; a node missing here was not probed. */
  probes: Map<string, ProbeOutcome>;
  /** Evidence read from the node objects (kured's annotations); nodes without any are absent. */
  evidence: Map<string, Evidence[]>;
}

export interface Candidates {
  /** Every node the plan considers (node selector applied). */
  considered: k8s.V1Node[];
  /** The Ready Linux nodes among them, by name: where a host probe can run. */
  probe: string[];
}

export interface Detector {
  readonly name: DetectorName;
  /** Looks at the candidates; may read the cluster (the probe runs pods). */
  detect(candidates: Candidates, log: (line: string) => void): Promise<Partial<Findings>>;
}
