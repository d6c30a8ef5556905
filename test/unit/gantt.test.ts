// The rollout timeline: a Mermaid gantt chart in the final comment and the job summary, rendered
// here with the real `mermaid` package in headless Chromium, which fails the test on any syntax
// error; and the surrounding result Markdown (estimate against actual, node image rows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ganttChart, type GanttNode } from '../../src/report/gantt.ts';
import { renderResultMarkdown, type ResultNode } from '../../src/report/result.ts';
import { renderMermaid } from '../harness/mermaid.ts';

const T0 = Date.parse('2026-01-10T22:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const phases = { drain: 30_000, reboot: 95_000, workloads: 12_000, soak: 60_000 };
const total = 200_000;

function node(
  name: string,
  startMs: number,
  outcome = 'rebooted',
  timings: GanttNode['timings'] = { ...phases, total },
): ResultNode {
  return {
    name,
    outcome,
    kernelBefore: '6.1.0-47-cloud-amd64',
    kernelAfter: '6.1.0-57-cloud-amd64',
    startedAt: iso(startMs),
    finishedAt: iso(startMs + total),
    timings,
  };
}

const nodes: ResultNode[] = [
  node('aks-nodepool1-0', T0),
  node('aks-nodepool1-1', T0 + 205_000),
  // Paused for an hour (the window closed), then the next run went on.
  node('aks-nodepool1-2', T0 + 3_805_000, 'failed', { drain: 31_000, reboot: 600_000, total: 640_000 }),
  {
    ...node('win000001', T0 + 4_500_000, 'reimaged', { reboot: 1_500_000, total: 1_500_000 }),
    nodeImageBefore: 'AKSWindows-2022-containerd-20348.3207.250212',
    nodeImageAfter: 'AKSWindows-2022-containerd-20348.3270.250311',
    detail: 'a node image upgrade of pool win (pool-wide, every node reimaged)',
  },
  { name: 'x](https://evil)\n    section injected', outcome: 'not-started', kernelBefore: 'k', timings: {} },
];

test('one row per node, phases end to end from its start, a row for the paused span, names reduced to safe text', () => {
  const chart = ganttChart(nodes, 'plan 0123456789ab')!;
  const lines = chart.split('\n');
  assert.deepEqual(
    lines.slice(0, 4),
    ['gantt', '    title plan_0123456789ab', '    dateFormat x', '    axisFormat %H:%M'],
    'a rollout of over 20 minutes: minutes on the axis',
  );
  assert.deepEqual(
    lines.filter((l) => l.includes('section')),
    [
      '    section aks-nodepool1-0',
      '    section aks-nodepool1-1',
      '    section aks-nodepool1-2',
      '    section win000001',
      '    section paused',
    ],
  );
  const first = lines.slice(
    lines.indexOf('    section aks-nodepool1-0') + 1,
    lines.indexOf('    section aks-nodepool1-1'),
  );
  assert.deepEqual(first, [
    `    drain :done, ${T0}, ${T0 + 30_000}`,
    `    reboot :done, ${T0 + 30_000}, ${T0 + 125_000}`,
    `    workloads :done, ${T0 + 125_000}, ${T0 + 137_000}`,
    `    soak :done, ${T0 + 137_000}, ${T0 + 197_000}`,
  ]);
  assert.ok(
    lines.includes(`    drain :crit, ${T0 + 3_805_000}, ${T0 + 3_836_000}`),
    'a failed node is marked crit',
  );
  assert.ok(lines.includes(`    node image :active, ${T0 + 4_500_000}, ${T0 + 6_000_000}`));
  assert.deepEqual(lines.slice(-1), [`    paused :crit, ${T0 + 405_000}, ${T0 + 3_805_000}`]);
  assert.ok(!chart.includes('evil') && !chart.includes('injected'), 'a node that never started has no row');
  assert.equal(ganttChart([{ name: 'n', outcome: 'not-started', timings: {} }], 't'), undefined);
});

test('the chart renders with mermaid in headless Chromium: every segment drawn', () => {
  const chart = ganttChart(nodes, 'plan 0123456789ab')!;
  const r = renderMermaid(chart);
  assert.ok(r.ok, r.ok ? '' : `mermaid refused the chart: ${r.error}`);
  const tasks = r.svg.match(/<rect[^>]*class="task (done|crit|active)\d+"/g) ?? [];
  const segments = chart.split('\n').filter((l) => / :(done|crit|active), /.test(l)).length;
  assert.equal(tasks.length, segments);
  // Hostile names as they reach the chart: still valid Mermaid.
  const hostile = ganttChart(
    [node('a:b;c\n%%{init}%%#"`<x>', T0), node('section', T0 + 250_000)],
    't: "x"\ngantt',
  )!;
  const h = renderMermaid(hostile);
  assert.ok(h.ok, h.ok ? '' : h.error);
});

test('the renderer reports a syntax error (so a broken chart fails the test above)', () => {
  const chart = ganttChart(nodes, 'plan')!;
  for (const broken of [
    chart.replace('dateFormat x', 'dateFormat x\n    drain done 1 2 :::'),
    chart.replace('gantt', 'gnatt'),
  ]) {
    const r = renderMermaid(broken);
    assert.equal(r.ok, false, `rendered: ${broken.slice(0, 80)}`);
  }
});

test('the result Markdown: node image in place of the kernel, pool-wide details below, estimate against actual, the timeline', () => {
  const plan = {
    version: 2 as const,
    cluster: { uid: 'u', name: 'c', server: 'https://k', provider: 'aks' as const },
    options: { order: 'name' as const, deleteEmptyDirData: false, force: false, blockingPodSelector: '' },
    nodes: nodes.slice(0, 3).map((n, i) => ({
      name: n.name,
      providerID: '',
      pool: 'nodepool1',
      os: 'linux' as const,
      bootID: 'b',
      nodeImageVersion: '',
      osImage: '',
      kernel: { running: 'k', next: 'k' },
      update: 'reboot' as const,
      order: i + 1,
      evidence: [],
      packages: { requiringReboot: [], requiringRebootTotal: 0, sinceBoot: [], sinceBootTotal: 0 },
      evictions: [],
      risks: [],
      history: { drain: 30, reboot: 90, workloads: 20 },
    })),
    upToDate: [],
    unknown: [],
  };
  const md = renderResultMarkdown(
    'c',
    { planId: '0123456789abcdef', state: 'failed', message: 'm', leftCordoned: [], nodes },
    { plan, soakSeconds: 60 },
  );
  const row = md.split('\n').find((l) => l.startsWith('| win000001 '))!;
  assert.match(
    row,
    /^\| win000001 \| reimaged \| node image AKSWindows\\-2022\\-containerd\\-20348\\\.3207\\\.250212 → AKSWindows\\-2022\\-containerd\\-20348\\\.3270\\\.250311 \|/,
  );
  assert.match(
    md,
    /\n- win000001: a node image upgrade of pool win \\\(pool\\-wide, every node reimaged\\\)\n/,
  );
  // 3 nodes × (30 + 90 + 20 + 60) s = 10 min estimated; 200 + 200 + 640 + 1500 s = 42 min taken.
  assert.match(md, /Estimated 10 min; the nodes took 42 min \(423% of the estimate\)\./);
  assert.match(md, /<details open><summary>Timeline<\/summary>\n\n```mermaid\ngantt\n/);
});
