// A picture of the rollout: a Mermaid gantt chart (GitHub renders ```mermaid blocks natively),
// one row per node with its drain, reboot, workloads and soak as segments, laid end to end from
// the node's start, and the spans in which the run was paused (between runs of a paused plan,
// or a closed maintenance window) on a row of their own. Pure; node names are reduced to
// characters that cannot end a Mermaid statement.
export interface GanttNode {
  name: string;
  outcome: string;
  startedAt?: string;
  finishedAt?: string;
  timings: Partial<Record<'drain' | 'reboot' | 'workloads' | 'soak' | 'total', number>>;
}

/** A gap between two nodes longer than this is a pause, not the executor's own latency. */
export const PAUSE_MS = 120_000;

const PHASES = ['drain', 'reboot', 'workloads', 'soak'] as const;

function label(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || '_';
}

/** The chart's Mermaid text, or undefined when no node has times to show. */
export function ganttChart(nodes: GanttNode[], title: string): string | undefined {
  const timed = nodes
    .filter((n) => n.startedAt && !Number.isNaN(Date.parse(n.startedAt)))
    .sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
  if (!timed.some((n) => PHASES.some((p) => (n.timings[p] ?? 0) >= 1))) return undefined;
  // Seconds on the axis only for short rollouts (tests, demos), where minutes would repeat.
  const first = Date.parse(timed[0]!.startedAt!);
  const last = Math.max(...timed.map((n) => Date.parse(n.startedAt!) + (n.timings.total ?? 0)));
  const axis = last - first < 20 * 60_000 ? '%H:%M:%S' : '%H:%M';
  const out = ['gantt', `    title ${label(title)}`, '    dateFormat x', `    axisFormat ${axis}`];
  let previousEnd: number | undefined;
  const pauses: [number, number][] = [];
  for (const n of timed) {
    const start = Date.parse(n.startedAt!);
    if (previousEnd !== undefined && start - previousEnd > PAUSE_MS) pauses.push([previousEnd, start]);
    let t = start;
    const tasks: string[] = [];
    for (const phase of PHASES) {
      const ms = Math.round(n.timings[phase] ?? 0);
      if (ms <= 0) continue;
      const tag = n.outcome === 'failed' ? 'crit, ' : n.outcome === 'reimaged' ? 'active, ' : 'done, ';
      const name = phase === 'reboot' && n.outcome === 'reimaged' ? 'node image' : phase;
      tasks.push(`    ${name} :${tag}${t}, ${t + ms}`);
      t += ms;
    }
    // A section without tasks is not valid Mermaid: a node with no timed phase gets no row.
    if (tasks.length) out.push(`    section ${label(n.name)}`, ...tasks);
    const finished = n.finishedAt ? Date.parse(n.finishedAt) : NaN;
    previousEnd = Number.isNaN(finished) ? t : Math.max(t, finished);
  }
  if (pauses.length) {
    out.push('    section paused');
    for (const [a, b] of pauses) out.push(`    paused :crit, ${a}, ${b}`);
  }
  return out.join('\n');
}

/** The chart as a fenced block for Markdown bodies. */
export function ganttBlock(nodes: GanttNode[], title: string): string[] {
  const chart = ganttChart(nodes, title);
  return chart ? ['```mermaid', chart, '```'] : [];
}
