// The rollout estimate: per node from its own last reboot, else its pool's, else the stated
// default; the total; and the fit into the next maintenance window (kured's window settings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { buildPlan } from '../../src/plan/build.ts';
import { planId } from '../../src/plan/canonical.ts';
import { estimatePlan, fitWindows, nextWindow } from '../../src/estimate/estimate.ts';
import { estimateOptions } from '../../src/estimate/options.ts';
import { DURATIONS_ANNOTATION } from '../../src/kube/labels.ts';
import { readDurations } from '../../src/estimate/history.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { estimateLines, estimateVsActual, minutes, nodeEstimateText } from '../../src/report/estimate.ts';
import type { ProbeOutcome } from '../../src/detect/probe.ts';
import { parseExecuteSettings } from '../../src/settings.ts';
import { PLAN_OPTIONS, snapshotNode, snapshotOf } from '../harness/plan-nodes.ts';

function node(name: string, pool: string, durations?: object | string): k8s.V1Node {
  const history = typeof durations === 'string' ? durations : JSON.stringify(durations);
  return snapshotNode({
    name,
    pool,
    annotations: durations ? { [DURATIONS_ANNOTATION]: history } : undefined,
  });
}
const pending = (name: string): ProbeOutcome => ({
  ok: true,
  result: {
    v: 1,
    bootId: `boot-${name}`,
    btime: 1,
    os: { id: 'ubuntu', version: '22.04' },
    sentinel: { present: true, mtime: 0, via: 'file', path: '/var/run/reboot-required' },
    pkgs: { total: 0, items: [] },
    kernels: { total: 0, items: [] },
    history: { source: 'none', total: 0, items: [] },
  },
});
const opts = PLAN_OPTIONS;
const snapshot = snapshotOf;

function plan() {
  const nodes = [
    node('a1', 'alpha', { drain: 40, reboot: 100, workloads: 20 }),
    node('a2', 'alpha', { drain: 60, reboot: 140, workloads: 40 }),
    node('a3', 'alpha'),
    node('b1', 'beta', '{"drain":"x"}'),
  ];
  return buildPlan(
    snapshot(nodes),
    {
      probes: new Map(nodes.map((n) => [n.metadata!.name!, pending(n.metadata!.name!)])),
      evidence: new Map(),
    },
    opts,
  );
}

test("per node: its own history, else its pool's median, else the default; soak added to each", () => {
  const p = plan();
  assert.deepEqual(p.nodes[0]!.history, { drain: 40, reboot: 100, workloads: 20 });
  assert.equal(p.nodes[3]!.history, undefined, 'a malformed annotation is no history');
  const e = estimatePlan(p, 60);
  assert.deepEqual(
    e.nodes.map((n) => [n.name, n.seconds, n.source]),
    [
      ['a1', 220, 'node'],
      ['a2', 300, 'node'],
      ['a3', 200 + 60, 'pool'], // median of 160 and 240
      ['b1', 120 + 180 + 60 + 60, 'default'],
    ],
  );
  assert.equal(e.totalSeconds, 220 + 300 + 260 + 420);
  assert.equal(readDurations(node('x', 'p', { drain: -1, reboot: 1, workloads: 1 })), undefined);
});

test('the next window, and whether the plan fits it; else nodes per window and windows needed', () => {
  const now = new Date('2026-01-05T12:00:00Z'); // a Monday
  const s = (start: string, end: string) =>
    parseExecuteSettings({ 'reboot-days': 'sat', 'start-time': start, 'end-time': end, soak: '60' });
  const wide = estimateOptions(s('22:00', '06:00'));
  const w = nextWindow(wide.window!.isOpen, now)!;
  assert.deepEqual(
    [w.start.toISOString(), w.end.toISOString()],
    ['2026-01-10T22:00:00.000Z', '2026-01-11T06:00:00.000Z'],
  );
  const e = estimatePlan(plan(), 60);
  assert.deepEqual(fitWindows(e, w), { window: w, fits: true, nodesPerWindow: 4, windowsNeeded: 1 });
  const narrow = nextWindow(estimateOptions(s('22:00', '22:10')).window!.isOpen, now)!;
  assert.deepEqual(fitWindows(e, narrow), {
    window: narrow,
    fits: false,
    nodesPerWindow: 2,
    windowsNeeded: 3,
  });
  assert.equal(
    estimateOptions(parseExecuteSettings({})).window,
    undefined,
    'open all week: no window to fit',
  );
});

test('the report says the estimate, where it comes from, and the window fit', () => {
  const p = plan();
  const now = new Date('2026-01-05T12:00:00Z');
  const md = renderMarkdown(p, planId(p), {
    now,
    estimate: estimateOptions(
      parseExecuteSettings({ 'reboot-days': 'sat', 'start-time': '22:00', 'end-time': '22:10', soak: '60' }),
    ),
  });
  assert.match(
    md,
    /\*\*Estimate:\*\* about \*\*20 min\*\* for 4 nodes, one at a time \(2 from the node's own last reboot, 1 from its pool's \(median of the pool's last reboots\), 1 from the default \(drain 2 min, reboot 3 min, workloads 1 min; a node image upgrade 30 min per pool\); soak 1 min per node\)\./,
  );
  assert.match(
    md,
    /It does not fit in the next maintenance window, 2026-01-10 22:00 UTC to 2026-01-10 22:10 UTC \(10 min; sat 22\\:00–22\\:10 UTC\): about 2 nodes per window, \*\*3 windows\*\* for the whole plan\./,
  );
  assert.match(md, /1\. a1 \(alpha\): cordon, drain, reboot, verify, uncordon, ~4 min \(its last reboot\)/);
  assert.match(md, /3\. a3 \(alpha\): .*, ~4 min \(its pool's\)/);
  const fits = renderMarkdown(p, planId(p), {
    now,
    estimate: estimateOptions(
      parseExecuteSettings({ 'reboot-days': 'sat', 'start-time': '22:00', 'end-time': '06:00' }),
    ),
  });
  assert.match(
    fits,
    /It fits in the next maintenance window, 2026-01-10 22:00 UTC to 2026-01-11 06:00 UTC \(8 h 0 min; sat 22\\:00–06\\:00 UTC\)\./,
  );
});

test('AKS planned maintenance: the window is where both it and the kured-style window are open', async () => {
  const { MaintenanceGate } = await import('../../src/gates/maintenance.ts');
  const gate = new MaintenanceGate({
    name: 'aksManagedNodeOSUpgradeSchedule',
    maintenanceWindow: {
      schedule: { weekly: { intervalWeeks: 1, dayOfWeek: 'Saturday' } },
      durationHours: 6,
      startTime: '20:00',
    },
  });
  const aks = {
    maintenance: 'aksManagedNodeOSUpgradeSchedule: every Saturday at 20:00 UTC+00:00 for 6 h',
    maintenanceOpen: (at: Date) => gate.isOpen(at),
  };
  const now = new Date('2026-01-05T12:00:00Z');
  // AKS alone: Saturday 20:00 to Sunday 02:00.
  const alone = estimateOptions(parseExecuteSettings({}), aks);
  assert.deepEqual(
    ((w) => [w.start, w.end])(nextWindow(alone.window!.isOpen, now)!).map((d) => d.toISOString()),
    ['2026-01-10T20:00:00.000Z', '2026-01-11T02:00:00.000Z'],
  );
  assert.match(alone.window!.text, /^AKS planned maintenance aksManagedNodeOSUpgradeSchedule/);
  // With reboot-days sat 22:00–06:00: both open from 22:00 to 02:00.
  const both = estimateOptions(
    parseExecuteSettings({ 'reboot-days': 'sat', 'start-time': '22:00', 'end-time': '06:00' }),
    aks,
  );
  assert.deepEqual(
    ((w) => [w.start, w.end])(nextWindow(both.window!.isOpen, now)!).map((d) => d.toISOString()),
    ['2026-01-10T22:00:00.000Z', '2026-01-11T02:00:00.000Z'],
  );
  assert.match(both.window!.text, /^sat 22:00–06:00 UTC and AKS planned maintenance /);
});

test('the window edges are exact whatever the clock reads (not rounded to the search step)', () => {
  const now = new Date('2026-01-05T12:03:17.250Z');
  const o = estimateOptions(
    parseExecuteSettings({ 'reboot-days': 'sat', 'start-time': '22:00', 'end-time': '22:05' }),
  );
  const w = nextWindow(o.window!.isOpen, now)!;
  assert.deepEqual(
    [w.start.toISOString(), w.end.toISOString()],
    ['2026-01-10T22:00:00.000Z', '2026-01-10T22:05:00.000Z'],
  );
  // Already open: the window runs from now to its end.
  const inside = nextWindow(o.window!.isOpen, new Date('2026-01-10T22:01:30Z'))!;
  assert.deepEqual(
    [inside.start.toISOString(), inside.end.toISOString()],
    ['2026-01-10T22:01:30.000Z', '2026-01-10T22:05:00.000Z'],
  );
});

test('the terminal report says the estimate too', async () => {
  const { renderTerminal } = await import('../../src/report/terminal.ts');
  const p = plan();
  const t = renderTerminal(p, planId(p), new Date('2026-01-05T12:00:00Z'));
  assert.match(
    t,
    /\n {2}Estimate: about 20 min for 4 nodes, one at a time \(2 from the node's own last reboot, /,
  );
});

// src/report/estimate.ts on its own: the words the report and the final comment use.
test('minutes: seconds under a minute, minutes under two hours, then hours and minutes', () => {
  assert.deepEqual(
    [0, 59.4, 60, 89, 7140, 7199, 7260].map((seconds) => minutes(seconds)),
    ['0 s', '59 s', '1 min', '1 min', '119 min', '2 h 0 min', '2 h 1 min'],
  );
});

test('the estimate lines: no window, a window that never opens (its text escaped), per-node words', () => {
  const p = plan();
  const now = new Date('2026-01-05T12:00:00Z');
  const [total, ...rest] = estimateLines(p, { soakSeconds: 0 }, now);
  assert.match(total!, /^\*\*Estimate:\*\* about \*\*16 min\*\* for 4 nodes, one at a time \(/);
  assert.match(total!, /; soak 0 s per node\)\.$/);
  assert.deepEqual(rest, [], 'no window, no window line');
  const never = { text: 'never [click](https://x)', isOpen: () => false };
  assert.deepEqual(estimateLines(p, { soakSeconds: 0, window: never }, now).slice(1), [
    'No maintenance window opens in the next 62 days (never \\[click\\]\\(https\\://x\\)).',
  ]);
  assert.deepEqual(
    [...nodeEstimateText(p, 60)],
    [
      ['a1', '~4 min (its last reboot)'],
      ['a2', '~5 min (its last reboot)'],
      ['a3', "~4 min (its pool's)"],
      ['b1', '~7 min (default)'],
    ],
  );
});

test('the estimate against the actual time: a share, under 1%, or nothing to compare with', () => {
  const p = plan();
  assert.equal(
    estimateVsActual(p, 60, 600_000),
    'Estimated 20 min; the nodes took 10 min (50% of the estimate).',
  );
  assert.equal(
    estimateVsActual(p, 60, 5_000),
    'Estimated 20 min; the nodes took 5 s (under 1% of the estimate).',
  );
  const empty = { ...p, nodes: [] };
  assert.equal(estimateVsActual(empty, 60, 5_000), 'Estimated 0 s; the nodes took 5 s (no estimate).');
});
