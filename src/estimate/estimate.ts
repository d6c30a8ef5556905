// How long the rollout will take, pure: per node from its own last reboot, else its pool's
// (the median of the pool's nodes that have one), else a stated default; plus the soak. And
// whether it fits in the next maintenance window, else how many nodes fit per window and how
// many windows the plan needs (a node joins a window when it can finish inside it; one longer
// than a window gets a window to itself, since the gates hold only a node's start).
import type { Plan, PlanNode } from '../plan/types.ts';
import type { Durations } from './history.ts';

/** Used when neither the node nor its pool has a history: a typical cloud VM, stated in the report. */
export const DEFAULT_DURATIONS: Durations = { drain: 120, reboot: 180, workloads: 60 };
/** A node image upgrade is pool-wide and slower: surge nodes, drain, reimage. */
export const DEFAULT_NODE_IMAGE_SECONDS = 1800;

export interface NodeEstimate {
  name: string;
  seconds: number;
  source: 'node' | 'pool' | 'default';
}

export interface Estimate {
  nodes: NodeEstimate[];
  totalSeconds: number;
  soakSeconds: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function poolHistory(nodes: PlanNode[]): Map<string, number> {
  const byPool = new Map<string, number[]>();
  for (const n of nodes) {
    if (!n.history) continue;
    const seconds = n.history.drain + n.history.reboot + n.history.workloads;
    byPool.set(n.pool, [...(byPool.get(n.pool) ?? []), seconds]);
  }
  return new Map([...byPool].map(([pool, xs]) => [pool, Math.round(median(xs))]));
}

export function estimatePlan(plan: Plan, soakSeconds: number): Estimate {
  const pools = poolHistory(plan.nodes);
  const d = DEFAULT_DURATIONS;
  const nodes = plan.nodes.map((n): NodeEstimate => {
    if (n.update === 'node-image-upgrade') {
      return { name: n.name, seconds: DEFAULT_NODE_IMAGE_SECONDS, source: 'default' };
    }
    const h = n.history;
    if (h) return { name: n.name, seconds: h.drain + h.reboot + h.workloads + soakSeconds, source: 'node' };
    const p = pools.get(n.pool);
    if (p !== undefined) return { name: n.name, seconds: p + soakSeconds, source: 'pool' };
    return { name: n.name, seconds: d.drain + d.reboot + d.workloads + soakSeconds, source: 'default' };
  });
  // Nodes of one pool upgraded together are one upgrade: count it once.
  const seenPools = new Set<string>();
  const counted = nodes.filter((e, i) => {
    const n = plan.nodes[i]!;
    if (n.update !== 'node-image-upgrade') return true;
    if (seenPools.has(n.pool)) return false;
    seenPools.add(n.pool);
    return true;
  });
  return { nodes, totalSeconds: counted.reduce((a, e) => a + e.seconds, 0), soakSeconds };
}

export interface WindowSpan {
  start: Date;
  end: Date;
}

/** The first whole second after `before` at which `isOpen` differs from its value at `before`. */
function edge(isOpen: (at: Date) => boolean, before: number, after: number): number {
  // Whole seconds: window edges are whole minutes, the clock is not.
  let lo = Math.floor(before / 1000) * 1000;
  let hi = Math.ceil(after / 1000) * 1000;
  const was = isOpen(new Date(lo));
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (isOpen(new Date(mid)) === was) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The next span in which `isOpen` holds (from now when it holds now), searched in 5-minute steps
 * up to `days` ahead, its edges then found to the second.
 */
export function nextWindow(isOpen: (at: Date) => boolean, now: Date, days = 62): WindowSpan | undefined {
  const step = 5 * 60_000;
  const limit = now.getTime() + days * 86_400_000;
  let t = now.getTime();
  while (t < limit && !isOpen(new Date(t))) t += step;
  if (t >= limit) return undefined;
  const start = t === now.getTime() ? t : edge(isOpen, t - step, t);
  while (t < limit && isOpen(new Date(t))) t += step;
  const end = t >= limit ? limit : edge(isOpen, t - step, t);
  return { start: new Date(start), end: new Date(end) };
}

export interface WindowFit {
  window: WindowSpan;
  fits: boolean;
  /** Nodes that finish inside one window, in plan order (the first window's count). */
  nodesPerWindow: number;
  windowsNeeded: number;
}

/** Greedy, in plan order: a node goes into the current window if it finishes before its end. */
// (An empty window takes the next node whatever its length.)
export function fitWindows(estimate: Estimate, window: WindowSpan): WindowFit {
  const length = (window.end.getTime() - window.start.getTime()) / 1000;
  let windows = 1;
  let used = 0;
  let first = 0;
  for (const node of estimate.nodes) {
    if (used > 0 && used + node.seconds > length) {
      windows++;
      used = 0;
    }
    used += node.seconds;
    if (windows === 1) first++;
  }
  const windowsNeeded = estimate.nodes.length ? windows : 0;
  return { window, fits: estimate.totalSeconds <= length, nodesPerWindow: first, windowsNeeded };
}
