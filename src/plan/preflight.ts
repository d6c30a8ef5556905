// Pre-flight for one node, pure: which workloads a drain would evict, and what would block or
// hurt it (PDBs at their limit, blocking pods, pods the drain refuses, lost emptyDir data,
// not enough room elsewhere for the evicted pods' requests).
import type * as k8s from '@kubernetes/client-node';
import { isReady } from '../cluster/node.ts';
import { classifyPod, controllerOf, isFinished, type DrainOptions } from '../drain/filters.ts';
import { fromLabelSelector, matches, type Selector } from '../kube/selector.ts';
import type { Eviction, Risk } from './types.ts';
import { ANN } from '../kube/labels.ts';

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

const ref = (p: k8s.V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

/** The workload behind a pod: Deployments are recovered from their ReplicaSet's pod-template-hash. */
export function workloadOf(pod: k8s.V1Pod): { kind: string; name: string } {
  const ctl = controllerOf(pod);
  if (!ctl) return { kind: 'Pod', name: pod.metadata?.name ?? '' };
  const hash = pod.metadata?.labels?.['pod-template-hash'];
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
export function quantity(q: string | undefined): number {
  if (!q) return 0;
  const m = String(q).match(/^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/);
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

export function isSchedulableTarget(n: k8s.V1Node): boolean {
  const noSchedule = (n.spec?.taints ?? []).some(
    (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  return isReady(n) && !n.spec?.unschedulable && !noSchedule;
}

function freeOn(n: k8s.V1Node, podsByNode: Map<string, k8s.V1Pod[]>): Demand {
  const alloc = n.status?.allocatable ?? {};
  const used = (podsByNode.get(n.metadata!.name!) ?? []).filter((p) => !isFinished(p)).map(podRequests);
  return {
    cpu: quantity(alloc.cpu) - used.reduce((a, d) => a + d.cpu, 0),
    memory: quantity(alloc.memory) - used.reduce((a, d) => a + d.memory, 0),
    pods: quantity(alloc.pods ?? '110') - used.length,
  };
}

const fmtCpu = (m: number) => `${Math.round(m * 1000)}m`;
const fmtMem = (b: number) => `${Math.round(b / 2 ** 20)}Mi`;

export function preflight(i: PreflightInput): PreflightResult {
  const nodeName = i.node.metadata!.name!;
  const pods = (i.podsByNode.get(nodeName) ?? []).filter((p) => !isFinished(p));
  const risks: Risk[] = [];
  const evicted: k8s.V1Pod[] = [];
  for (const pod of pods) {
    const v = classifyPod(pod, i.drain);
    if (v.action === 'skip') continue;
    if (v.action === 'refuse') {
      risks.push(
        v.reason === 'emptydir'
          ? {
              kind: 'emptydir-data-loss',
              blocking: true,
              detail: `${ref(pod)} uses emptyDir; the drain refuses it unless delete-emptydir-data is set (its data would be lost)`,
            }
          : {
              kind: 'unreplicated-pod',
              blocking: true,
              detail: `${ref(pod)} has no controller; the drain refuses it unless force is set (it would not be recreated)`,
            },
      );
      continue;
    }
    if (v.warnings.includes('emptydir'))
      risks.push({
        kind: 'emptydir-data-loss',
        blocking: false,
        detail: `emptyDir data of ${ref(pod)} will be lost`,
      });
    if (v.warnings.includes('unreplicated'))
      risks.push({
        kind: 'unreplicated-pod',
        blocking: false,
        detail: `${ref(pod)} has no controller: it will be deleted and not recreated`,
      });
    evicted.push(pod);
  }

  // Blocking pods (kured's --blocking-pod-selector): any match on the node holds its reboot.
  if (i.blockingPodSelector.length) {
    for (const pod of pods) {
      if (matches(i.blockingPodSelector, pod.metadata?.labels)) {
        risks.push({
          kind: 'blocking-pod',
          blocking: true,
          detail: `${ref(pod)} matches the blocking pod selector; the node waits until it is gone`,
        });
      }
    }
  }

  risks.push(...budgetRisks(evicted, i.pdbs));

  // Capacity: do the evicted pods' requests fit on the nodes that stay schedulable?
  const demand = evicted.map(podRequests);
  if (demand.length) {
    const targets = i.otherNodes.filter(isSchedulableTarget).map((n) => freeOn(n, i.podsByNode));
    const free = targets.reduce(
      (a, f) => ({
        cpu: a.cpu + Math.max(0, f.cpu),
        memory: a.memory + Math.max(0, f.memory),
        pods: a.pods + Math.max(0, f.pods),
      }),
      { cpu: 0, memory: 0, pods: 0 },
    );
    const need = demand.reduce(
      (a, d) => ({ cpu: a.cpu + d.cpu, memory: a.memory + d.memory, pods: a.pods + d.pods }),
      { cpu: 0, memory: 0, pods: 0 },
    );
    const tooBig = demand.some(
      (d) => !targets.some((f) => f.cpu >= d.cpu && f.memory >= d.memory && f.pods >= 1),
    );
    if (need.cpu > free.cpu || need.memory > free.memory || need.pods > free.pods || tooBig) {
      risks.push({
        kind: 'insufficient-capacity',
        blocking: false,
        detail: `the ${need.pods} evicted pods request ${fmtCpu(need.cpu)} CPU and ${fmtMem(need.memory)} memory; the other schedulable nodes have ${fmtCpu(free.cpu)} CPU and ${fmtMem(free.memory)} free${tooBig ? ' and no single node fits the largest pod' : ''}: some pods would stay Pending`,
      });
    }
  }

  if (i.node.spec?.unschedulable) {
    const ours = i.node.metadata?.annotations?.[ANN.cordonedByUs] === 'true';
    risks.push({
      kind: 'already-cordoned',
      blocking: false,
      detail: ours
        ? `the node is still cordoned by an unfinished Reboot Pilot run (${i.node.metadata?.annotations?.[ANN.error] ?? 'no error recorded'}); it is uncordoned after its reboot`
        : 'the node was cordoned before this plan; it stays cordoned after its reboot',
    });
  }
  if (!isReady(i.node)) {
    risks.push({ kind: 'node-not-ready', blocking: false, detail: 'the node is not Ready now' });
  }

  // Workload-level evictions: stable across pod churn, so the plan ID is too.
  const byWorkload = new Map<string, Eviction>();
  for (const p of evicted) {
    const w = workloadOf(p);
    const key = `${p.metadata?.namespace}\u0000${w.kind}\u0000${w.name}`;
    const e = byWorkload.get(key) ?? {
      namespace: p.metadata?.namespace ?? '',
      kind: w.kind,
      name: w.name,
      pods: 0,
    };
    e.pods++;
    byWorkload.set(key, e);
  }
  const evictions = [...byWorkload.values()].sort(
    (a, b) => cmp(a.namespace, b.namespace) || cmp(a.kind, b.kind) || cmp(a.name, b.name),
  );
  risks.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.detail, b.detail));
  return { evictions, risks };
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
        `${ref(pod)} is selected by more than one PodDisruptionBudget (${key}): the eviction API refuses ` +
        "to evict such pods. Fix: change the budgets' selectors so that each pod has at most one, then plan again",
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

export const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
