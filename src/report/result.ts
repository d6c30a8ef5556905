// An execution's result for terminals and Markdown: per node the outcome, kernel (or, for a
// reimaged node, node image) before and after, timings; pool-wide node image upgrade details
// below the table; and, always, the nodes left cordoned by us.
import type { ExecutionResult } from '../execute/types.ts';
import { shortId } from '../plan/canonical.ts';
import { md, term } from './escape.ts';
import type { Plan } from '../plan/types.ts';
import { ganttBlock } from './gantt.ts';
import { estimateVsActual } from './estimate.ts';

const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);

export function renderResultText(r: ExecutionResult): string {
  const out = [`Plan ${shortId(r.planId)}: ${r.state} — ${term(r.message)}`];
  for (const n of r.nodes) {
    const kernel = versions(n, term, '->');
    const t = n.timings;
    out.push(
      `  ${term(n.name)}: ${n.outcome}  ${kernel}${t.total !== undefined ? `  drain ${s(t.drain)}, reboot ${s(t.reboot)}, workloads ${s(t.workloads)}, soak ${s(t.soak)}, total ${s(t.total)}` : ''}${n.detail ? `  (${term(n.detail)})` : ''}`,
    );
  }
  if (r.leftCordoned.length)
    out.push(
      `  LEFT CORDONED BY REBOOT PILOT: ${r.leftCordoned.map(term).join(', ')} (uncordon with kubectl uncordon after a look, or run the plan again)`,
    );
  return out.join('\n') + '\n';
}

export type ResultNode = Omit<ExecutionResult['nodes'][number], 'bootIdBefore' | 'outcome'> & {
  outcome: string;
};

/** Kernel before → after, or for a reimaged node its node image before → after. */
function versions(n: ResultNode, esc: (x: string) => string, arrow: string): string {
  if (n.outcome === 'reimaged' && (n.nodeImageBefore || n.nodeImageAfter)) {
    return `node image ${esc(n.nodeImageBefore || '?')} ${arrow} ${esc(n.nodeImageAfter || '?')}`;
  }
  return n.kernelAfter ? `${esc(n.kernelBefore)} ${arrow} ${esc(n.kernelAfter)}` : esc(n.kernelBefore);
}

/** The result as Markdown (the final comment, result.md, the job summary); every cluster string escaped. */
export interface ResultExtras {
  /** The executed plan and the soak setting: the estimate, compared with the actual time. */
  plan?: Plan;
  soakSeconds?: number;
}

export function renderResultMarkdown(
  cluster: string,
  r: Pick<ExecutionResult, 'planId' | 'state' | 'message' | 'leftCordoned'> & { nodes: ResultNode[] },
  x: ResultExtras = {},
): string {
  const out = [
    `### Reboot Pilot: plan \`${shortId(r.planId)}\` on ${md(cluster)} ${r.state}`,
    '',
    md(r.message),
    '',
  ];
  if (r.leftCordoned.length)
    out.push(
      `> [!WARNING]\n> Left cordoned by Reboot Pilot: ${r.leftCordoned.map(md).join(', ')}. Look at them, then \`kubectl uncordon\` them or run the plan again.`,
      '',
    );
  out.push(
    '| Node | Outcome | Kernel (or node image) before → after | Drain | Reboot | Workloads | Soak | Total |',
    '|---|---|---|---|---|---|---|---|',
  );
  // A node image upgrade's details are pool-wide and long: below the table, once per text.
  const poolWide = new Map<string, string[]>();
  for (const n of r.nodes) {
    const t = n.timings;
    const reimaged = n.outcome === 'reimaged' && n.detail;
    if (reimaged) poolWide.set(n.detail!, [...(poolWide.get(n.detail!) ?? []), n.name]);
    const outcome = `${md(n.outcome)}${n.detail && !reimaged ? `: ${md(n.detail)}` : ''}`;
    out.push(
      `| ${md(n.name)} | ${outcome} | ${versions(n, md, '→')} | ${s(t.drain)} | ${s(t.reboot)} | ${s(t.workloads)} | ${s(t.soak)} | ${s(t.total)} |`,
    );
  }
  if (poolWide.size) {
    out.push('', '**Node image upgrades** (pool-wide: every node of the pool was reimaged):', '');
    for (const [detail, names] of poolWide) out.push(`- ${names.map(md).join(', ')}: ${md(detail)}`);
  }
  const took = r.nodes.reduce((a, n) => a + (n.timings.total ?? 0), 0);
  if (x.plan && took > 0) out.push('', estimateVsActual(x.plan, x.soakSeconds ?? 60, took));
  const chart = ganttBlock(r.nodes, `plan ${shortId(r.planId)}`);
  if (chart.length) out.push('', '<details open><summary>Timeline</summary>', '', ...chart, '', '</details>');
  return out.join('\n') + '\n';
}
