// The invariant watcher: runs beside every execution test and records a violation the moment
// more than one node is unavailable because of Reboot Pilot (cordoned or NotReady while it holds
// the node in a step) or a PodDisruptionBudget's healthy count drops below what it requires; and,
// when it stops, one if a node still carries our PreferNoSchedule taint (nothing left behind).
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './controlplane.ts';
import { ANN, UNAVAILABLE_STEPS, type Step } from '../../src/execute/progress.ts';
import { hasPendingTaint } from '../../src/execute/taints.ts';

export class InvariantWatcher {
  readonly violations: string[] = [];
  /** The most nodes unavailable because of us at any one moment. */
  maxUnavailable = 0;
  private readonly unavailable = new Set<string>();
  private readonly ctls: AbortController[] = [];
  private readonly cluster: Cluster;

  constructor(cluster: Cluster) {
    this.cluster = cluster;
  }

  async start(): Promise<void> {
    const w = new k8s.Watch(this.cluster.kc);
    this.ctls.push(
      await w.watch('/api/v1/nodes', {}, (type: string, n: k8s.V1Node) => this.node(type, n), () => undefined),
      await w.watch('/apis/policy/v1/poddisruptionbudgets', {}, (_t: string, p: k8s.V1PodDisruptionBudget) => this.pdb(p), () => undefined),
    );
  }

  private node(type: string, n: k8s.V1Node): void {
    const name = n.metadata!.name!;
    const step = n.metadata?.annotations?.[ANN.step] as Step | undefined;
    const notReady = !n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    const ours = type !== 'DELETED' && step !== undefined && UNAVAILABLE_STEPS.includes(step) && (n.spec?.unschedulable === true || notReady);
    if (type !== 'DELETED' && hasPendingTaint(n)) this.tainted.add(name);
    else this.tainted.delete(name);
    if (ours) this.unavailable.add(name);
    else this.unavailable.delete(name);
    this.maxUnavailable = Math.max(this.maxUnavailable, this.unavailable.size);
    if (this.unavailable.size > 1) this.violations.push(`${new Date().toISOString()} ${this.unavailable.size} nodes unavailable because of Reboot Pilot: ${[...this.unavailable].join(', ')}`);
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
      this.violations.push(`${new Date().toISOString()} PDB ${p.metadata?.namespace}/${p.metadata?.name}: ${s.currentHealthy} healthy, ${s.desiredHealthy} required`);
    }
  }

  /** Nodes carrying our PreferNoSchedule taint, as last seen. */
  readonly tainted = new Set<string>();

  stop(): string[] {
    for (const c of this.ctls) c.abort();
    if (this.tainted.size) this.violations.push(`${new Date().toISOString()} left with Reboot Pilot's PreferNoSchedule taint: ${[...this.tainted].sort().join(', ')}`);
    return this.violations;
  }
}
