// Pre-flight for one node, pure: which workloads a drain would evict, and what would block or
// hurt it (PDBs at their limit, blocking pods, pods the drain refuses, lost emptyDir data,
// not enough room elsewhere for the evicted pods' requests).
import type * as k8s from '@kubernetes/client-node';
import { isReady } from '../cluster/node.ts';
import { classifyPod, controllerOf, isFinished, type DrainOptions } from '../drain/filters.ts';
import { fromLabelSelector, matches, type Selector } from '../kube/selector.ts';
import type { Eviction, Risk } from './types.ts';
import { ANN, POD_TEMPLATE_HASH_LABEL } from '../kube/labels.ts';

export interface PreflightInput {
  node: k8s.V1Node;
  /** Pods by node name (non-terminal ones matter; terminal ones are ignored here). */
  podsByNode: Map<string, k8s.V1Pod[]>;
  pdbs: k8s.V1PodDisruptionBudget[];
  /** Nodes the evicted pods could move to. */
  otherNodes: k8s.V1Node[];
  drain: DrainOptions;
  blockingPodSelector: Selector;
}

export interface PreflightResult {
  evictions: Eviction[];
  risks: Risk[];
}

const ref = (pod: k8s.V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

/** The workload behind a pod: Deployments are recovered from their ReplicaSet's pod-template-hash. */
export function workloadOf(pod: k8s.V1Pod): { kind: string; name: string } {
  const ctl = controllerOf(pod);
  if (!ctl) return { kind: 'Pod', name: pod.metadata?.name ?? '' };
  const hash = pod.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
  if (ctl.kind === 'ReplicaSet' && hash && ctl.name.endsWith(`-${hash}`)) {
    return { kind: 'Deployment', name: ctl.name.slice(0, -hash.length - 1) };
  }
  return { kind: ctl.kind, name: ctl.name };
}

// Kubernetes quantities to numbers (cpu in millicores, memory in bytes).
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
export function quantity(text: string | undefined): number {
  if (!text) return 0;
  const m = text.match(/^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/);
  if (!m) return 0;
  const mult = SUFFIX[m[2]!];
  return mult === undefined ? 0 : Number(m[1]) * mult;
}

interface Demand {
  cpu: number;
  memory: number;
  pods: number;
}

/** A pod's scheduling request: the larger of its containers' sum and any init container. */
export function podRequests(pod: k8s.V1Pod): Demand {
  const sum = (cs: k8s.V1Container[] | undefined, key: 'cpu' | 'memory') =>
    (cs ?? []).reduce((a, c) => a + quantity(c.resources?.requests?.[key]), 0);
  const maxInit = (key: 'cpu' | 'memory') =>
    Math.max(0, ...(pod.spec?.initContainers ?? []).map((c) => quantity(c.resources?.requests?.[key])));
  return {
    cpu: Math.max(sum(pod.spec?.containers, 'cpu'), maxInit('cpu')),
    memory: Math.max(sum(pod.spec?.containers, 'memory'), maxInit('memory')),
    pods: 1,
  };
}

export function isSchedulableTarget(node: k8s.V1Node): boolean {
  const noSchedule = (node.spec?.taints ?? []).some(
    (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  return isReady(node) && !node.spec?.unschedulable && !noSchedule;
}

function freeOn(node: k8s.V1Node, podsByNode: Map<string, k8s.V1Pod[]>): Demand {
  const alloc = node.status?.allocatable ?? {};
  const used = (podsByNode.get(node.metadata!.name!) ?? []).filter((p) => !isFinished(p)).map(podRequests);
  return {
    cpu: quantity(alloc.cpu) - used.reduce((a, d) => a + d.cpu, 0),
    memory: quantity(alloc.memory) - used.reduce((a, d) => a + d.memory, 0),
    pods: quantity(alloc.pods ?? '110') - used.length,
  };
}

const formatCpu = (cores: number) => `${Math.round(cores * 1000)}m`;
const formatMemory = (bytes: number) => `${Math.round(bytes / 2 ** 20)}Mi`;

export function preflight(input: PreflightInput): PreflightResult {
  const nodeName = input.node.metadata!.name!;
  const pods = (input.podsByNode.get(nodeName) ?? []).filter((p) => !isFinished(p));
  const { evicted, risks } = drainRisks(pods, input.drain);
  risks.push(...blockingPodRisks(pods, input.blockingPodSelector));
  risks.push(...budgetRisks(evicted, input.pdbs));
  risks.push(...capacityRisks(evicted, input.otherNodes, input.podsByNode));
  risks.push(...nodeStateRisks(input.node));
  const evictions = evictionsByWorkload(evicted);
  risks.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.detail, b.detail));
  return { evictions, risks };
}

/** The pods a drain would evict, and the risks of the ones it refuses or loses data of. */
function drainRisks(pods: k8s.V1Pod[], drain: DrainOptions): { evicted: k8s.V1Pod[]; risks: Risk[] } {
  const risks: Risk[] = [];
  const evicted: k8s.V1Pod[] = [];
  for (const pod of pods) {
    const verdict = classifyPod(pod, drain);
    if (verdict.action === 'skip') continue;
    if (verdict.action === 'refuse') {
      risks.push(refusalRisk(pod, verdict.reason));
      continue;
    }
    if (verdict.warnings.includes('emptydir'))
      risks.push({
        kind: 'emptydir-data-loss',
        blocking: false,
        detail: `emptyDir data of ${ref(pod)} will be lost`,
      });
    if (verdict.warnings.includes('unreplicated'))
      risks.push({
        kind: 'unreplicated-pod',
        blocking: false,
        detail: `${ref(pod)} has no controller: it will be deleted and not recreated`,
      });
    evicted.push(pod);
  }
  return { evicted, risks };
}

/** A pod the drain refuses without delete-emptydir-data or force blocks the node. */
function refusalRisk(pod: k8s.V1Pod, reason: string): Risk {
  if (reason === 'emptydir') {
    return {
      kind: 'emptydir-data-loss',
      blocking: true,
      detail:
        `${ref(pod)} uses emptyDir; the drain refuses it unless delete-emptydir-data is set ` +
        '(its data would be lost)',
    };
  }
  return {
    kind: 'unreplicated-pod',
    blocking: true,
    detail:
      `${ref(pod)} has no controller; the drain refuses it unless force is set ` +
      '(it would not be recreated)',
  };
}

/** Blocking pods (kured's --blocking-pod-selector): any match on the node holds its reboot. */
function blockingPodRisks(pods: k8s.V1Pod[], selector: Selector): Risk[] {
  if (!selector.length) return [];
  return pods
    .filter((pod) => matches(selector, pod.metadata?.labels))
    .map((pod) => ({
      kind: 'blocking-pod',
      blocking: true,
      detail: `${ref(pod)} matches the blocking pod selector; the node waits until it is gone`,
    }));
}

const addDemand = (total: Demand, more: Demand): Demand => ({
  cpu: total.cpu + more.cpu,
  memory: total.memory + more.memory,
  pods: total.pods + more.pods,
});
const positive = (demand: Demand): Demand => ({
  cpu: Math.max(0, demand.cpu),
  memory: Math.max(0, demand.memory),
  pods: Math.max(0, demand.pods),
});

/** Capacity: do the evicted pods' requests fit on the nodes that stay schedulable? */
function capacityRisks(
  evicted: k8s.V1Pod[],
  otherNodes: k8s.V1Node[],
  podsByNode: Map<string, k8s.V1Pod[]>,
): Risk[] {
  const demand = evicted.map(podRequests);
  if (!demand.length) return [];
  const targets = otherNodes.filter(isSchedulableTarget).map((n) => freeOn(n, podsByNode));
  const none: Demand = { cpu: 0, memory: 0, pods: 0 };
  const free = targets.map(positive).reduce(addDemand, none);
  const need = demand.reduce(addDemand, none);
  const tooBig = demand.some(
    (d) => !targets.some((f) => f.cpu >= d.cpu && f.memory >= d.memory && f.pods >= 1),
  );
  if (need.cpu <= free.cpu && need.memory <= free.memory && need.pods <= free.pods && !tooBig) return [];
  const largest = tooBig ? ' and no single node fits the largest pod' : '';
  return [
    {
      kind: 'insufficient-capacity',
      blocking: false,
      detail:
        `the ${need.pods} evicted pods request ${formatCpu(need.cpu)} CPU and ${formatMemory(need.memory)} ` +
        `memory; the other schedulable nodes have ${formatCpu(free.cpu)} CPU and ` +
        `${formatMemory(free.memory)} free${largest}: some pods would stay Pending`,
    },
  ];
}

/** Risks from the node's own state: cordoned already, or not Ready. */
function nodeStateRisks(node: k8s.V1Node): Risk[] {
  const risks: Risk[] = [];
  if (node.spec?.unschedulable) {
    risks.push({ kind: 'already-cordoned', blocking: false, detail: alreadyCordonedDetail(node) });
  }
  if (!isReady(node)) {
    risks.push({ kind: 'node-not-ready', blocking: false, detail: 'the node is not Ready now' });
  }
  return risks;
}

/** Whose cordon it is: an unfinished run of ours (uncordoned later) or someone else's (kept). */
function alreadyCordonedDetail(node: k8s.V1Node): string {
  const annotations = node.metadata?.annotations;
  if (annotations?.[ANN.cordonedByUs] !== 'true') {
    return 'the node was cordoned before this plan; it stays cordoned after its reboot';
  }
  const error = annotations[ANN.error] ?? 'no error recorded';
  return (
    `the node is still cordoned by an unfinished Reboot Pilot run (${error}); ` +
    'it is uncordoned after its reboot'
  );
}

/** Workload-level evictions: stable across pod churn, so the plan ID is too. */
function evictionsByWorkload(evicted: k8s.V1Pod[]): Eviction[] {
  const byWorkload = new Map<string, Eviction>();
  for (const pod of evicted) {
    const workload = workloadOf(pod);
    const key = `${pod.metadata?.namespace}\u0000${workload.kind}\u0000${workload.name}`;
    const eviction = byWorkload.get(key) ?? {
      namespace: pod.metadata?.namespace ?? '',
      kind: workload.kind,
      name: workload.name,
      pods: 0,
    };
    eviction.pods++;
    byWorkload.set(key, eviction);
  }
  return [...byWorkload.values()].sort(
    (a, b) => cmp(a.namespace, b.namespace) || cmp(a.kind, b.kind) || cmp(a.name, b.name),
  );
}

/**
 * PDB risks for the pods a drain would evict. A budget that can never allow a disruption
 * (maxUnavailable 0, minAvailable 100 % or all its pods) and a pod under two budgets (the
 * eviction API refuses it with a 500) block the drain; one at its limit now only delays it.
 */
export function budgetRisks(evicted: k8s.V1Pod[], pdbs: k8s.V1PodDisruptionBudget[]): Risk[] {
  const risks: Risk[] = [];
  const budgetsOf = new Map<k8s.V1Pod, string[]>();
  for (const pdb of pdbs) {
    const ns = pdb.metadata?.namespace;
    const name = `${ns}/${pdb.metadata?.name}`;
    const sel = fromLabelSelector(pdb.spec?.selector);
    const hit = evicted.filter((p) => p.metadata?.namespace === ns && matches(sel, p.metadata?.labels));
    if (!hit.length) continue;
    for (const p of hit) budgetsOf.set(p, [...(budgetsOf.get(p) ?? []), name]);
    const never = neverAllows(pdb);
    const allowed = pdb.status?.disruptionsAllowed ?? 0;
    if (never) {
      risks.push({
        kind: 'pdb-blocks-eviction',
        blocking: true,
        detail:
          `PodDisruptionBudget ${name} can never allow a disruption (${never}): the drain would wait until ` +
          'drain-timeout and fail with the node cordoned. Fix: set maxUnavailable to 1 (or minAvailable ' +
          'below the replica count) and run more than one replica, then plan again',
      });
    } else if (hit.length > allowed) {
      risks.push({
        kind: 'pdb-blocks-eviction',
        blocking: false,
        detail:
          `PodDisruptionBudget ${name} allows ${allowed} disruption${allowed === 1 ? '' : 's'} and ` +
          `${hit.length} of its pods run here: the drain waits for healthy replacements` +
          (allowed === 0 ? ' and times out if none appear' : ''),
      });
    }
  }
  const overlaps = new Set<string>();
  for (const [pod, names] of budgetsOf) {
    if (names.length < 2) continue;
    const key = [...names].sort(cmp).join(', ');
    if (overlaps.has(key)) continue;
    overlaps.add(key);
    risks.push({
      kind: 'pdb-overlap',
      blocking: true,
      detail:
        `${ref(pod)} is selected by more than one PodDisruptionBudget (${key}): the eviction API ` +
        "refuses to evict such pods. Fix: change the budgets' selectors so that each pod has at most " +
        'one, then plan again',
    });
  }
  return risks;
}

/** Why a budget can never allow an eviction, or undefined. */
export function neverAllows(pdb: k8s.V1PodDisruptionBudget): string | undefined {
  const max = pdb.spec?.maxUnavailable;
  const min = pdb.spec?.minAvailable;
  if (max !== undefined && (max === 0 || max === '0' || max === '0%')) return `maxUnavailable ${max}`;
  if (min === '100%') return 'minAvailable 100%';
  const expected = pdb.status?.expectedPods ?? 0;
  if (typeof min === 'number' && expected > 0 && min >= expected) {
    return `minAvailable ${min} with ${expected} pod${expected === 1 ? '' : 's'}`;
  }
  return undefined;
}

/** Code-unit order (not locale order), so plans and their IDs are the same on every machine. */
export function cmp(left: string, right: string): number {
  if (left < right) return -1;
  return left > right ? 1 : 0;
}
