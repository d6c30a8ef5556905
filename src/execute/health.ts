// Cluster health, watched between and during nodes. Every node this plan rebooted must stay
// Ready: one that goes NotReady again is unstable after its reboot and fails the run. Any other
// node that became NotReady or was cordoned since the plan was made pauses the run (a
// cluster-health gate, whoever caused it): at most one node is ever unavailable at a time.
import type * as k8s from '@kubernetes/client-node';
import { explainApiError, type KubeClients } from '../kube/client.ts';
import { listAll } from '../cluster/snapshot.ts';
import { isReady } from '../cluster/node.ts';
import type { Plan } from '../plan/types.ts';
import { ANN } from '../kube/labels.ts';

export type Health = { ok: true } | { ok: false; state: 'failed' | 'paused'; reason: string };

export interface HealthInput {
  plan: Plan;
  planId: string;
  /** The node about to start (or soaking): not "another" node. */
  current: string;
  /** Nodes this run rebooted or upgraded (those done by earlier runs carry the plan's record). */
  rebootedThisRun: ReadonlySet<string>;
}

/** Why a NotReady node is not Ready, from its Ready condition. */
function notReadyText(node: k8s.V1Node): string {
  const condition = node.status?.conditions?.find((x) => x.type === 'Ready');
  if (!condition) return 'NotReady (no Ready condition)';
  const changed = condition.lastTransitionTime;
  const since = changed ? ` since ${new Date(changed).toISOString()}` : '';
  return `NotReady${since}${condition.reason ? ` (${condition.reason})` : ''}`;
}

/** Pure: the cluster's nodes judged against the plan. */
export function judgeHealth(nodes: k8s.V1Node[], input: HealthInput): Health {
  const before = new Set(input.plan.unavailable ?? []);
  const pauses: string[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    if (name === input.current) continue;
    const annotations = node.metadata?.annotations ?? {};
    const doneByPlan = annotations[ANN.planId] === input.planId && annotations[ANN.step] === 'done';
    const rebootedByPlan = input.rebootedThisRun.has(name) || doneByPlan;
    if (rebootedByPlan && !isReady(node)) {
      return {
        ok: false,
        state: 'failed',
        reason:
          `${name}, rebooted by this plan, is ${notReadyText(node)}: ` +
          'it is unstable after its reboot; no further node is started',
      };
    }
    if (before.has(name)) continue;
    if (!isReady(node)) pauses.push(`${name} is ${notReadyText(node)}`);
    else if (node.spec?.unschedulable && !rebootedByPlan) pauses.push(`${name} is cordoned`);
  }
  if (!pauses.length) return { ok: true };
  const shown = pauses.slice(0, 5).join('; ') + (pauses.length > 5 ? `; and ${pauses.length - 5} more` : '');
  return {
    ok: false,
    state: 'paused',
    reason:
      `cluster health: ${shown} (not so when the plan was made); ` +
      'no node is started while another is unavailable',
  };
}

export async function checkHealth(kube: KubeClients, input: HealthInput): Promise<Health> {
  let nodes: k8s.V1Node[];
  try {
    nodes = await listAll((page) => kube.core.listNode(page));
  } catch (error) {
    throw explainApiError(error, 'list', 'nodes (cluster health)', kube.server);
  }
  return judgeHealth(nodes, input);
}
