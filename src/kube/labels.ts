// The annotations, labels and taint keys Reboot Pilot reads or writes, in one place: its own
// (reboot-pilot.io/*, the durable per-node record a killed run resumes from) and other tools'
// (kured's, AKS's, the cluster autoscaler's, the well-known Kubernetes ones). Names only: this
// module imports nothing, so every layer may use it.

/** The prefix of Reboot Pilot's own keys. */
export const PREFIX = 'reboot-pilot.io/';

/** Per-node progress of a run, on the node object (src/execute/progress.ts reads and writes it). */
export const ANN = {
  planId: `${PREFIX}plan-id`,
  step: `${PREFIX}step`,
  /** "true" when this run cordoned the node; "false" when it was cordoned before (it stays so). */
  cordonedByUs: `${PREFIX}cordoned-by-us`,
  bootIdBefore: `${PREFIX}boot-id-before`,
  kernelBefore: `${PREFIX}kernel-before`,
  rebootRequestedAt: `${PREFIX}reboot-requested-at`,
  stepAt: `${PREFIX}step-at`,
  evicted: `${PREFIX}evicted-workloads`,
  error: `${PREFIX}error`,
  scaleDownBefore: `${PREFIX}scale-down-disabled-before`,
} as const;

/** Node annotation: the measured durations of the node's last run (src/estimate/history.ts). */
export const DURATIONS_ANNOTATION = `${PREFIX}last-durations`;
/** Node annotation: the plan whose VMSS instance restart was requested (src/reboot/vmss.ts). */
export const RESTART_ANNOTATION = `${PREFIX}azure-restart-requested`;

/**
 * The node lifecycle controller's taints that keep pods off a node that is back. It lifts them
 * a moment after the node is Ready and uncordoned; a busy controller takes longer, and until
 * then the node takes no pods: another node must not start meanwhile (src/execute/wait.ts).
 */
export const CONDITION_TAINTS = [
  'node.kubernetes.io/not-ready',
  'node.kubernetes.io/unreachable',
  'node.kubernetes.io/unschedulable',
];

/** Taint key that marks a node as waiting for its reboot (src/execute/taints.ts). */
export const PENDING_TAINT_KEY = `${PREFIX}pending-reboot`;

/** Pod labels of the probe and reboot pods: their role ("probe", "reboot") and probe run. */
export const ROLE_LABEL = `${PREFIX}role`;
export const RUN_LABEL = `${PREFIX}run`;
/** Pod annotations: the node a probe or reboot pod is for, and the plan a reboot pod belongs to. */
export const NODE_ANNOTATION = `${PREFIX}node`;
export const PLAN_ANNOTATION = `${PREFIX}plan`;
/** The standard label on everything Reboot Pilot creates. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'reboot-pilot' };

/** kured's node annotations (kured --annotate-nodes), read as evidence (src/detect/kured.ts). */
export const KURED_IN_PROGRESS = 'weave.works/kured-reboot-in-progress';
export const KURED_MOST_RECENT = 'weave.works/kured-most-recent-reboot-needed';
/** kured's lock, an annotation on its DaemonSet (src/lock/kured.ts). */
export const KURED_LOCK_ANNOTATION = 'weave.works/kured-node-lock';

/** AKS's node labels: the node image a node runs, and the cluster it belongs to. */
export const NODE_IMAGE_LABEL = 'kubernetes.azure.com/node-image-version';
export const AKS_CLUSTER_LABEL = 'kubernetes.azure.com/cluster';
/** Pool labels, most specific first: AKS, older AKS, and the generic one. */
export const POOL_LABELS = ['kubernetes.azure.com/agentpool', 'agentpool', 'node.kubernetes.io/pool'];

/** Well-known Kubernetes node labels. */
export const OS_LABEL = 'kubernetes.io/os';
export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
/** Control-plane role labels, current and legacy. */
export const CONTROL_PLANE_LABELS = [CONTROL_PLANE_LABEL, 'node-role.kubernetes.io/master'];

/** Pod annotation of a static pod's mirror (the drain leaves mirror pods alone). */
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
/** Pod label a Deployment's ReplicaSet sets: the suffix of the ReplicaSet's name. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** The cluster autoscaler's node annotation; set while a node is ours, restored afterwards. */
export const SCALE_DOWN_DISABLED = 'cluster-autoscaler.kubernetes.io/scale-down-disabled';
