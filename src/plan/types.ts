// The plan: what people approve. Its canonical JSON is hashed into the plan ID, so it holds
// only facts that are stable while the cluster is unchanged (no "now", no pod names that churn).
import { z } from 'zod';

/** 2: a node's `update` (was `method` in 1, a word the reboot-method setting also uses). */
export const PLAN_VERSION = 2;

export const NodeUpdate = z.enum(['reboot', 'node-image-upgrade']);
export type NodeUpdate = z.infer<typeof NodeUpdate>;

export const RiskKind = z.enum([
  'pdb-blocks-eviction',
  'pdb-overlap',
  'api-server-outage',
  'blocking-pod',
  'unreplicated-pod',
  'emptydir-data-loss',
  'insufficient-capacity',
  'already-cordoned',
  'node-not-ready',
  'reimage-data-loss',
  'kernel-unchanged',
]);
export type RiskKind = z.infer<typeof RiskKind>;

export const Risk = z.object({
  kind: RiskKind,
  /** Blocks the node's step under the current options (vs. a warning). */
  blocking: z.boolean(),
  detail: z.string(),
});
export type Risk = z.infer<typeof Risk>;

export const Evidence = z.object({
  source: z.enum(['sentinel', 'sentinel-command', 'installed-kernel', 'kured', 'windows', 'node-image']),
  detail: z.string(),
});
export type Evidence = z.infer<typeof Evidence>;

export const Eviction = z.object({
  namespace: z.string(),
  /** The workload that owns the pods: Deployment, StatefulSet, Job, ReplicaSet, or Pod for bare pods. */
  kind: z.string(),
  name: z.string(),
  pods: z.number().int().positive(),
});
export type Eviction = z.infer<typeof Eviction>;

export const PackageChange = z.object({
  action: z.enum(['upgrade', 'install']),
  name: z.string(),
  from: z.string().optional(),
  to: z.string().optional(),
});

/** A package requiring the reboot and what its Debian changelog says the new version fixes. */
export const PackageFixes = z.object({
  name: z.string(),
  /** False when the node has no Debian changelog for it (RPM distros, images without docs). */
  changelog: z.boolean(),
  /** Changelog entries newer than the running version, their CVE IDs and highest urgency. */
  entries: z.number().int().nonnegative().optional(),
  cves: z.number().int().nonnegative().optional(),
  urgency: z.string().optional(),
  /** The version running now ("" when unknown: then only the newest entry counts) and the new one. */
  from: z.string().optional(),
  to: z.string().optional(),
});
export type PackageFixes = z.infer<typeof PackageFixes>;

/** What the reboot fixes, from the changelogs the probe read on the node. */
export const Fixes = z.object({
  /** Distinct CVE IDs over every package requiring the reboot. */
  cveTotal: z.number().int().nonnegative(),
  /** "CVE-YYYY-N", newest first; may be cut (cveTotal is not). */
  cves: z.array(z.string()),
  /** Highest urgency of the entries read, "" when none was read. */
  urgency: z.string(),
  packages: z.array(PackageFixes),
  packagesTotal: z.number().int().nonnegative(),
});
export type Fixes = z.infer<typeof Fixes>;

export const PlanNode = z.object({
  name: z.string(),
  providerID: z.string(),
  pool: z.string(),
  os: z.enum(['linux', 'windows']),
  bootID: z.string(),
  nodeImageVersion: z.string(),
  osImage: z.string(),
  kernel: z.object({
    running: z.string(),
    /** The kernel the next boot should run; equal to running when the reboot does not change it. */
    next: z.string(),
  }),
  update: NodeUpdate,
  /** Set for control-plane nodes (they go last; while one reboots, its API server is away). */
  role: z.literal('control-plane').optional(),
  order: z.number().int().positive(),
  evidence: z.array(Evidence),
  /** RFC 3339 time the sentinel appeared (stable across runs), when known. */
  pendingSince: z.string().optional(),
  packages: z.object({
    requiringReboot: z.array(z.string()),
    requiringRebootTotal: z.number().int().nonnegative(),
    sinceBoot: z.array(PackageChange),
    sinceBootTotal: z.number().int().nonnegative(),
  }),
  /** Seconds of the node's last reboot by Reboot Pilot (its annotation), for the estimate. */
  history: z.object({ drain: z.number(), reboot: z.number(), workloads: z.number() }).optional(),
  /** Absent when no changelogs were read (node image upgrades, probes without the feature). */
  fixes: Fixes.optional(),
  evictions: z.array(Eviction),
  risks: z.array(Risk),
});
export type PlanNode = z.infer<typeof PlanNode>;

export const UnknownNode = z.object({ name: z.string(), pool: z.string(), reason: z.string() });

export const Plan = z.object({
  version: z.literal(PLAN_VERSION),
  cluster: z.object({
    /** UID of the kube-system namespace: survives renames of contexts and servers. */
    uid: z.string(),
    name: z.string(),
    server: z.string(),
    provider: z.enum(['aks', 'generic']),
  }),
  options: z.object({
    order: z.enum(['pool', 'risk', 'name']),
    deleteEmptyDirData: z.boolean(),
    force: z.boolean(),
    blockingPodSelector: z.string(),
  }),
  /** AKS facts the plan was made with (only when the Azure integration is configured). */
  aks: z
    .object({
      nodeOSUpgradeChannel: z.string(),
      /** The planned maintenance window honoured as a gate, described. */
      maintenance: z.string().optional(),
    })
    .optional(),
  nodes: z.array(PlanNode),
  /** Linux nodes that do not need a reboot (names only, sorted). */
  upToDate: z.array(z.string()),
  /** Nodes whose state could not be determined (probe failed or timed out). */
  unknown: z.array(UnknownNode),
  /**
   * Nodes of the cluster NotReady or cordoned when the plan was made (sorted; absent when none):
   * execution pauses when any other node becomes unavailable.
   */
  unavailable: z.array(z.string()).optional(),
});
export type Plan = z.infer<typeof Plan>;

/** What AKS says about one agent pool (read at the edge, src/azure/facts.ts). */
export interface AksPoolFacts {
  nodeImageVersion: string;
  latestNodeImageVersion: string;
  osType: string;
  /** VirtualMachineScaleSets, VirtualMachines, ... */
  type: string;
  upgradeSettings: {
    maxSurge?: string;
    maxUnavailable?: string;
    drainTimeoutInMinutes?: number;
    nodeSoakDurationInMinutes?: number;
  };
}

/** AKS facts for the planner: the node OS upgrade channel and the pools. */
export interface AksFacts {
  /** None, Unmanaged, SecurityPatch or NodeImage. */
  nodeOSUpgradeChannel: string;
  pools: Record<string, AksPoolFacts>;
  /** Description of the maintenance window the run honours, if any. */
  maintenance?: string;
  /** That window as a predicate (for the estimate's window fit; not part of the plan). */
  maintenanceOpen?: (at: Date) => boolean;
}
