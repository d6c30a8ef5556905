// Each pod moved once: while a plan executes, every node still waiting for its reboot carries a
// PreferNoSchedule taint (kured's --prefer-no-schedule-taint), so pods evicted from the node being
// drained prefer nodes already done (or outside the plan) to the next node to drain. A node's
// taint goes when the node is done; all of them when the run ends however it ends (completed,
// paused, cancelled, stale, failed). A run killed before that leaves them, and the next run of
// the plan finds and keeps them. Soft by design: the scheduler still uses tainted nodes when
// nothing else fits, so capacity never blocks a drain because of it.
import * as k8s from '@kubernetes/client-node';
import { MERGE_PATCH, explainApiError, type KubeClients } from '../kube/client.ts';
import { listAll } from '../cluster/snapshot.ts';
import type { Plan } from '../plan/types.ts';
import { shortId } from '../plan/canonical.ts';
import { PENDING_TAINT_KEY } from '../kube/labels.ts';
import { readProgress } from './progress.ts';

export const PENDING_TAINT_EFFECT = 'PreferNoSchedule';

const isPending = (taint: k8s.V1Taint) =>
  taint.key === PENDING_TAINT_KEY && taint.effect === PENDING_TAINT_EFFECT;

export function hasPendingTaint(node: k8s.V1Node): boolean {
  return (node.spec?.taints ?? []).some(isPending);
}

/**
 * Sets (add) or removes our taint on one node: a merge patch of the whole taint list, guarded by
 * the resourceVersion it was computed from, so a concurrent change (another controller's taint)
 * is never overwritten; retried on conflict.
 */
async function setTaint(kube: KubeClients, node: k8s.V1Node, add: boolean, value: string): Promise<void> {
  let current: k8s.V1Node | undefined = node;
  for (let attempt = 0; attempt < 5 && current; attempt++) {
    const others = (current.spec?.taints ?? []).filter((taint) => !isPending(taint));
    if (hasPendingTaint(current) === add) return;
    const taint = { key: PENDING_TAINT_KEY, value, effect: PENDING_TAINT_EFFECT };
    const taints = add ? [...others, taint] : others;
    const name: string = current.metadata!.name!;
    try {
      const metadata = { resourceVersion: current.metadata!.resourceVersion };
      await kube.core.patchNode({ name, body: { metadata, spec: { taints } } }, MERGE_PATCH);
      return;
    } catch (error) {
      const code = error instanceof k8s.ApiException ? error.code : undefined;
      if (code === 404) return;
      if (code !== 409) throw explainApiError(error, 'patch', `nodes/${name} (taints)`, kube.server);
      current = await kube.core.readNode({ name }).catch(() => undefined);
    }
  }
}

export class PendingTaints {
  private readonly kube: KubeClients;
  private readonly plan: Plan;
  private readonly value: string;
  private readonly log: (line: string) => void;

  constructor(kube: KubeClients, plan: Plan, planId: string, log: (line: string) => void = () => undefined) {
    this.kube = kube;
    this.plan = plan;
    // A label value: the plan's short ID says whose taint it is.
    this.value = shortId(planId);
    this.log = log;
  }

  private async planNodes(): Promise<k8s.V1Node[]> {
    const names = new Set(this.plan.nodes.map((planned) => planned.name));
    const all = await listAll((page) => this.kube.core.listNode(page));
    return all.filter((node) => names.has(node.metadata!.name!));
  }

  /** Taints every node of the plan not yet done for it; keeps the taints an earlier run left. */
  async start(planId: string): Promise<void> {
    try {
      for (const node of await this.planNodes()) {
        const progress = readProgress(node);
        if (progress.planId === planId && progress.step === 'done') continue;
        await setTaint(this.kube, node, true, this.value);
      }
    } catch (error) {
      // An optimisation, not a safety measure: the run goes on without it (finish() cleans up).
      this.log(`could not taint the pending nodes PreferNoSchedule: ${(error as Error).message}`);
    }
  }

  /** The node is done (or skipped): pods may prefer it again. */
  async release(name: string): Promise<void> {
    const node = await this.kube.core.readNode({ name }).catch(() => undefined);
    if (node) await setTaint(this.kube, node, false, this.value);
  }

  /** The run ends: no node keeps our taint. Returns the nodes it could not clean. */
  async finish(): Promise<string[]> {
    const left: string[] = [];
    const nodes = await this.planNodes().catch((error: unknown) => {
      this.log(`could not list nodes to remove the PreferNoSchedule taints: ${(error as Error).message}`);
      return [] as k8s.V1Node[];
    });
    for (const node of nodes.filter(hasPendingTaint)) {
      const name = node.metadata!.name!;
      await setTaint(this.kube, node, false, this.value).catch((error: unknown) => {
        left.push(name);
        this.log(`could not remove the PreferNoSchedule taint from ${name}: ${(error as Error).message}`);
      });
    }
    return left;
  }
}
