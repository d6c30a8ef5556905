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
import { PENDING_TAINT_KEY } from '../kube/labels.ts';
import { readProgress } from './progress.ts';

export const PENDING_TAINT_EFFECT = 'PreferNoSchedule';

export function hasPendingTaint(n: k8s.V1Node): boolean {
  return (n.spec?.taints ?? []).some((t) => t.key === PENDING_TAINT_KEY && t.effect === PENDING_TAINT_EFFECT);
}

/**
 * Sets (add) or removes our taint on one node: a merge patch of the whole taint list, guarded by
 * the resourceVersion it was computed from, so a concurrent change (another controller's taint)
 * is never overwritten; retried on conflict.
 */
async function setTaint(c: KubeClients, node: k8s.V1Node, add: boolean, value: string): Promise<void> {
  let current: k8s.V1Node | undefined = node;
  for (let attempt = 0; attempt < 5 && current; attempt++) {
    const ours = (t: k8s.V1Taint) => t.key === PENDING_TAINT_KEY && t.effect === PENDING_TAINT_EFFECT;
    const others = (current.spec?.taints ?? []).filter((t) => !ours(t));
    if (hasPendingTaint(current) === add) return;
    const taint = { key: PENDING_TAINT_KEY, value, effect: PENDING_TAINT_EFFECT };
    const taints = add ? [...others, taint] : others;
    const name: string = current.metadata!.name!;
    try {
      const metadata = { resourceVersion: current.metadata!.resourceVersion };
      await c.core.patchNode({ name, body: { metadata, spec: { taints } } }, MERGE_PATCH);
      return;
    } catch (e) {
      const code = e instanceof k8s.ApiException ? e.code : undefined;
      if (code === 404) return;
      if (code !== 409) throw explainApiError(e, 'patch', `nodes/${name} (taints)`, c.server);
      current = await c.core.readNode({ name }).catch(() => undefined);
    }
  }
}

export class PendingTaints {
  private readonly c: KubeClients;
  private readonly plan: Plan;
  private readonly value: string;
  private readonly log: (line: string) => void;

  constructor(c: KubeClients, plan: Plan, planId: string, log: (line: string) => void = () => undefined) {
    this.c = c;
    this.plan = plan;
    // A label value: the plan's short ID says whose taint it is.
    this.value = planId.slice(0, 12);
    this.log = log;
  }

  private async planNodes(): Promise<k8s.V1Node[]> {
    const names = new Set(this.plan.nodes.map((n) => n.name));
    const all = await listAll((page) => this.c.core.listNode(page));
    return all.filter((n) => names.has(n.metadata!.name!));
  }

  /** Taints every node of the plan not yet done for it; keeps the taints an earlier run left. */
  async start(planId: string): Promise<void> {
    try {
      for (const n of await this.planNodes()) {
        const p = readProgress(n);
        if (p.planId === planId && p.step === 'done') continue;
        await setTaint(this.c, n, true, this.value);
      }
    } catch (e) {
      // An optimisation, not a safety measure: the run goes on without it (finish() cleans up).
      this.log(`could not taint the pending nodes PreferNoSchedule: ${(e as Error).message}`);
    }
  }

  /** The node is done (or skipped): pods may prefer it again. */
  async release(name: string): Promise<void> {
    const n = await this.c.core.readNode({ name }).catch(() => undefined);
    if (n) await setTaint(this.c, n, false, this.value);
  }

  /** The run ends: no node keeps our taint. Returns the nodes it could not clean. */
  async finish(): Promise<string[]> {
    const left: string[] = [];
    const nodes = await this.planNodes().catch((e: unknown) => {
      this.log(`could not list nodes to remove the PreferNoSchedule taints: ${(e as Error).message}`);
      return [] as k8s.V1Node[];
    });
    for (const n of nodes.filter(hasPendingTaint)) {
      await setTaint(this.c, n, false, this.value).catch((e: unknown) => {
        left.push(n.metadata!.name!);
        this.log(
          `could not remove the PreferNoSchedule taint from ${n.metadata!.name}: ${(e as Error).message}`,
        );
      });
    }
    return left;
  }
}
