// The rollout estimate in words: per node and in total, where each figure comes from, and
// whether the plan fits the next maintenance window. Pure (the clock and the window are given).
import type { Plan } from '../plan/types.ts';
import { DEFAULT_DURATIONS, DEFAULT_NODE_IMAGE_SECONDS } from '../estimate/estimate.ts';
import { estimatePlan, fitWindows, nextWindow } from '../estimate/estimate.ts';
import type { Estimate } from '../estimate/estimate.ts';
import { md } from './escape.ts';

export interface EstimateOptions {
  /** The soak setting (seconds after each node); 60 is the setting's default. */
  soakSeconds: number;
  /** The window a node may start in (reboot-days/start-time/end-time, or AKS planned maintenance). */
  window?: { text: string; isOpen: (at: Date) => boolean };
}

export function minutes(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const rounded = Math.round(seconds / 60);
  return rounded < 120 ? `${rounded} min` : `${Math.floor(rounded / 60)} h ${rounded % 60} min`;
}

/** Where the per-node figures come from, counted. */
function sources(estimate: Estimate): string {
  const count = (source: string) => estimate.nodes.filter((node) => node.source === source).length;
  const defaults = DEFAULT_DURATIONS;
  const parts = [
    count('node') && `${count('node')} from the node's own last reboot`,
    count('pool') && `${count('pool')} from its pool's (median of the pool's last reboots)`,
    count('default') &&
      `${count('default')} from the default (drain ${minutes(defaults.drain)}, ` +
        `reboot ${minutes(defaults.reboot)}, workloads ${minutes(defaults.workloads)}; ` +
        `a node image upgrade ${minutes(DEFAULT_NODE_IMAGE_SECONDS)} per pool)`,
  ].filter(Boolean);
  return `${parts.join(', ')}; soak ${minutes(estimate.soakSeconds)} per node`;
}

/** "2026-12-02 22:00 UTC". */
function utcMinute(date: Date): string {
  return date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** "1 node", "3 nodes". */
const nodeCount = (count: number) => `${count} node${count === 1 ? '' : 's'}`;

/** Lines for the plan's report; `now` is the report's clock. */
export function estimateLines(plan: Plan, options: EstimateOptions, now: Date): string[] {
  const estimate = estimatePlan(plan, options.soakSeconds);
  const total = minutes(estimate.totalSeconds);
  const nodes = nodeCount(plan.nodes.length);
  const out = [`**Estimate:** about **${total}** for ${nodes}, one at a time (${sources(estimate)}).`];
  if (!options.window) return out;
  const window = nextWindow(options.window.isOpen, now);
  const text = md(options.window.text);
  if (!window) return [...out, `No maintenance window opens in the next 62 days (${text}).`];
  const fit = fitWindows(estimate, window);
  const length = minutes((window.end.getTime() - window.start.getTime()) / 1000);
  const span = `${utcMinute(window.start)} to ${utcMinute(window.end)} (${length}; ${text})`;
  if (fit.fits) out.push(`It fits in the next maintenance window, ${span}.`);
  else
    out.push(
      `It does not fit in the next maintenance window, ${span}: about ${nodeCount(fit.nodesPerWindow)} ` +
        `per window, **${fit.windowsNeeded} windows** for the whole plan.`,
    );
  return out;
}

/** "~7 min (node)" for the order list. */
export function nodeEstimateText(plan: Plan, soakSeconds: number): Map<string, string> {
  const estimate = estimatePlan(plan, soakSeconds);
  const word = { node: 'its last reboot', pool: "its pool's", default: 'default' } as const;
  return new Map(
    estimate.nodes.map((node) => [node.name, `~${minutes(node.seconds)} (${word[node.source]})`]),
  );
}

/** How the actual time compares: a percentage, "under 1%", or no estimate to compare with. */
function shareOfEstimate(ratio: number): string {
  if (!ratio) return 'no estimate';
  return ratio < 0.01 ? 'under 1% of the estimate' : `${Math.round(ratio * 100)}% of the estimate`;
}

/** The final comment's line: the estimate against the time the nodes took. */
export function estimateVsActual(plan: Plan, soakSeconds: number, actualMs: number): string {
  const estimated = estimatePlan(plan, soakSeconds).totalSeconds;
  const actual = actualMs / 1000;
  const ratio = estimated > 0 ? actual / estimated : 0;
  return `Estimated ${minutes(estimated)}; the nodes took ${minutes(actual)} (${shareOfEstimate(ratio)}).`;
}
