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
  const m = Math.round(seconds / 60);
  return m < 120 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function sources(e: Estimate): string {
  const count = (s: string) => e.nodes.filter((n) => n.source === s).length;
  const d = DEFAULT_DURATIONS;
  const parts = [
    count('node') && `${count('node')} from the node's own last reboot`,
    count('pool') && `${count('pool')} from its pool's (median of the pool's last reboots)`,
    count('default') &&
      `${count('default')} from the default (drain ${minutes(d.drain)}, reboot ${minutes(d.reboot)}, ` +
        `workloads ${minutes(d.workloads)}; ` +
        `a node image upgrade ${minutes(DEFAULT_NODE_IMAGE_SECONDS)} per pool)`,
  ].filter(Boolean);
  return `${parts.join(', ')}; soak ${minutes(e.soakSeconds)} per node`;
}

function fmtTime(d: Date): string {
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** Lines for the plan's report; `now` is the report's clock. */
export function estimateLines(plan: Plan, o: EstimateOptions, now: Date): string[] {
  const e = estimatePlan(plan, o.soakSeconds);
  const nodes = `${plan.nodes.length} node${plan.nodes.length === 1 ? '' : 's'}`;
  const total = minutes(e.totalSeconds);
  const out = [`**Estimate:** about **${total}** for ${nodes}, one at a time (${sources(e)}).`];
  if (!o.window) return out;
  const w = nextWindow(o.window.isOpen, now);
  if (!w) return [...out, `No maintenance window opens in the next 62 days (${md(o.window.text)}).`];
  const f = fitWindows(e, w);
  const length = minutes((w.end.getTime() - w.start.getTime()) / 1000);
  const span = `${fmtTime(w.start)} to ${fmtTime(w.end)} (${length}; ${md(o.window.text)})`;
  const per = `${f.nodesPerWindow} node${f.nodesPerWindow === 1 ? '' : 's'}`;
  out.push(
    f.fits
      ? `It fits in the next maintenance window, ${span}.`
      : `It does not fit in the next maintenance window, ${span}: about ${per} per window, ` +
          `**${f.windowsNeeded} windows** for the whole plan.`,
  );
  return out;
}

/** "~7 min (node)" for the order list. */
export function nodeEstimateText(plan: Plan, soakSeconds: number): Map<string, string> {
  const e = estimatePlan(plan, soakSeconds);
  const word = { node: 'its last reboot', pool: "its pool's", default: 'default' } as const;
  return new Map(e.nodes.map((n) => [n.name, `~${minutes(n.seconds)} (${word[n.source]})`]));
}

/** The final comment's line: the estimate against the time the nodes took. */
export function estimateVsActual(plan: Plan, soakSeconds: number, actualMs: number): string {
  const e = estimatePlan(plan, soakSeconds).totalSeconds;
  const actual = actualMs / 1000;
  const ratio = e > 0 ? actual / e : 0;
  const percent = `${Math.round(ratio * 100)}% of the estimate`;
  const share = !ratio ? 'no estimate' : ratio < 0.01 ? 'under 1% of the estimate' : percent;
  return `Estimated ${minutes(e)}; the nodes took ${minutes(actual)} (${share}).`;
}
