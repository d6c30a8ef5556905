// The invariant watcher: runs beside every execution test and records a violation the moment
// more than one node is unavailable (NotReady or cordoned, whoever caused it) while one of
// Reboot Pilot's nodes is in a step, or a PodDisruptionBudget's healthy count drops below what
// it requires; and, when it stops, one if a node still carries our PreferNoSchedule taint
// (nothing left behind). Its watches are started again when they end (an API server restart).
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './controlplane.ts';
import { ANN } from '../../src/kube/labels.ts';
import { STEPS, type Step } from '../../src/execute/progress.ts';
import { hasPendingTaint } from '../../src/execute/taints.ts';

/** The library's watch callback: each caller names the type of object its path delivers. */
type WatchCallback = Parameters<k8s.Watch['watch']>[2];

interface NodeState {
  /** NotReady or cordoned. */
  unavailable: boolean;
  /** Held by Reboot Pilot in a step (any step before "done"). */
  inStep: boolean;
}

export class InvariantWatcher {
  readonly violations: string[] = [];
  /** The most nodes unavailable at one moment while one of ours was in a step. */
  maxUnavailable = 0;
  private readonly nodes = new Map<string, NodeState>();
  private readonly ctls = new Set<AbortController>();
  private readonly cluster: Cluster;
  private stopped = false;

  constructor(cluster: Cluster) {
    this.cluster = cluster;
  }

  async start(): Promise<void> {
    await Promise.all([
      this.keepWatching('/api/v1/nodes', (type, n: k8s.V1Node) => this.node(type, n)),
      this.keepWatching('/apis/policy/v1/poddisruptionbudgets', (_t, p: k8s.V1PodDisruptionBudget) =>
        this.pdb(p),
      ),
    ]);
  }

  /** A watch that is started again (with a fresh list of ADDED events) whenever it ends. */
  private async keepWatching(path: string, on: WatchCallback): Promise<void> {
    const w = new k8s.Watch(this.cluster.kc);
    const again = () => {
      if (this.stopped) return;
      setTimeout(() => void this.keepWatching(path, on).catch(again), 250);
    };
    const ctl = await w.watch(path, {}, on, (err) => {
      this.ctls.delete(ctl);
      if (err !== null && err !== undefined && this.stopped) return;
      again();
    });
    if (this.stopped) ctl.abort();
    else this.ctls.add(ctl);
  }

  private node(type: string, n: k8s.V1Node): void {
    const name = n.metadata!.name!;
    if (type !== 'DELETED' && hasPendingTaint(n)) this.tainted.add(name);
    else this.tainted.delete(name);
    if (type === 'DELETED') this.nodes.delete(name);
    else {
      const step = n.metadata?.annotations?.[ANN.step] as Step | undefined;
      const notReady = !n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      const inStep = step !== undefined && step !== 'done' && STEPS.includes(step);
      this.nodes.set(name, { unavailable: notReady || n.spec?.unschedulable === true, inStep });
    }
    const states = [...this.nodes.entries()];
    if (!states.some(([, s]) => s.inStep)) return;
    const down = states.filter(([, s]) => s.unavailable).map(([k]) => k);
    this.maxUnavailable = Math.max(this.maxUnavailable, down.length);
    if (down.length > 1) {
      const ours = states.filter(([, s]) => s.inStep).map(([k]) => k);
      this.violations.push(
        `${new Date().toISOString()} ${down.length} nodes unavailable while ${ours.join(', ')} ${ours.length === 1 ? 'is' : 'are'} in a Reboot Pilot step: ${down.join(', ')}`,
      );
    }
  }

  /** PDBs seen satisfied: only a drop from there counts (a new PDB starts below its minimum). */
  private readonly satisfied = new Set<string>();

  private pdb(p: k8s.V1PodDisruptionBudget): void {
    const s = p.status;
    const key = p.metadata?.uid ?? '';
    if (!s || s.observedGeneration !== p.metadata?.generation) return;
    if ((s.currentHealthy ?? 0) >= (s.desiredHealthy ?? 0)) {
      this.satisfied.add(key);
    } else if (this.satisfied.has(key)) {
      this.violations.push(
        `${new Date().toISOString()} PDB ${p.metadata?.namespace}/${p.metadata?.name}: ${s.currentHealthy} healthy, ${s.desiredHealthy} required`,
      );
    }
  }

  /** Nodes carrying our PreferNoSchedule taint, as last seen. */
  readonly tainted = new Set<string>();

  stop(): string[] {
    this.stopped = true;
    for (const c of this.ctls) c.abort();
    this.ctls.clear();
    if (this.tainted.size)
      this.violations.push(
        `${new Date().toISOString()} left with Reboot Pilot's PreferNoSchedule taint: ${[...this.tainted].sort().join(', ')}`,
      );
    return this.violations;
  }
}
