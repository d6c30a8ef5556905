// An execution's result for terminals and Markdown: per node the outcome, kernel (or, for a
// reimaged node, node image) before and after, timings; pool-wide node image upgrade details
// below the table; and, always, the nodes left cordoned by us.
import type { ExecutionResult } from '../execute/types.ts';
import { shortId } from '../plan/canonical.ts';
import { md, term } from './escape.ts';
import type { Plan } from '../plan/types.ts';
import { ganttBlock } from './gantt.ts';
import { estimateVsActual } from './estimate.ts';

/** "12.3s", or "-" for a phase the node did not reach. */
const seconds = (milliseconds: number | undefined) =>
  milliseconds === undefined ? '-' : `${(milliseconds / 1000).toFixed(1)}s`;

type Timings = ExecutionResult['nodes'][number]['timings'];

/** The terminal's phase times, once the node has a total. */
function timingsText(timings: Timings): string {
  if (timings.total === undefined) return '';
  const phases = `drain ${seconds(timings.drain)}, reboot ${seconds(timings.reboot)}`;
  const after = `workloads ${seconds(timings.workloads)}, soak ${seconds(timings.soak)}`;
  return `  ${phases}, ${after}, total ${seconds(timings.total)}`;
}

export function renderResultText(result: ExecutionResult): string {
  const out = [`Plan ${shortId(result.planId)}: ${result.state} — ${term(result.message)}`];
  for (const node of result.nodes) {
    const detail = node.detail ? `  (${term(node.detail)})` : '';
    const kernel = versions(node, term, '->');
    out.push(`  ${term(node.name)}: ${node.outcome}  ${kernel}${timingsText(node.timings)}${detail}`);
  }
  if (result.leftCordoned.length)
    out.push(
      `  LEFT CORDONED BY REBOOT PILOT: ${result.leftCordoned.map(term).join(', ')} ` +
        '(uncordon with kubectl uncordon after a look, or run the plan again)',
    );
  return out.join('\n') + '\n';
}

export type ResultNode = Omit<ExecutionResult['nodes'][number], 'bootIdBefore' | 'outcome'> & {
  outcome: string;
};

/** Kernel before → after, or for a reimaged node its node image before → after. */
function versions(node: ResultNode, escape: (text: string) => string, arrow: string): string {
  if (node.outcome === 'reimaged' && (node.nodeImageBefore || node.nodeImageAfter)) {
    const before = escape(node.nodeImageBefore || '?');
    return `node image ${before} ${arrow} ${escape(node.nodeImageAfter || '?')}`;
  }
  if (!node.kernelAfter) return escape(node.kernelBefore);
  return `${escape(node.kernelBefore)} ${arrow} ${escape(node.kernelAfter)}`;
}

export interface ResultExtras {
  /** The executed plan and the soak setting: the estimate, compared with the actual time. */
  plan?: Plan;
  soakSeconds?: number;
}

type MarkdownResult = Pick<ExecutionResult, 'planId' | 'state' | 'message' | 'leftCordoned'> & {
  nodes: ResultNode[];
};

/** The result as Markdown (the final comment, result.md, the job summary); every cluster string escaped. */
export function renderResultMarkdown(
  cluster: string,
  result: MarkdownResult,
  extras: ResultExtras = {},
): string {
  const title = `### Reboot Pilot: plan \`${shortId(result.planId)}\` on ${md(cluster)} ${result.state}`;
  const out = [title, '', md(result.message), ''];
  if (result.leftCordoned.length)
    out.push(
      `> [!WARNING]\n> Left cordoned by Reboot Pilot: ${result.leftCordoned.map(md).join(', ')}. ` +
        'Look at them, then `kubectl uncordon` them or run the plan again.',
      '',
    );
  out.push(...resultTable(result.nodes));
  const took = result.nodes.reduce((sum, node) => sum + (node.timings.total ?? 0), 0);
  if (extras.plan && took > 0) out.push('', estimateVsActual(extras.plan, extras.soakSeconds ?? 60, took));
  const chart = ganttBlock(result.nodes, `plan ${shortId(result.planId)}`);
  if (chart.length) out.push('', '<details open><summary>Timeline</summary>', '', ...chart, '', '</details>');
  return out.join('\n') + '\n';
}

/** The table, then each node image upgrade's pool-wide details once, below it (they are long). */
function resultTable(nodes: ResultNode[]): string[] {
  const versionsColumn = 'Kernel (or node image) before → after';
  const columns = ['Node', 'Outcome', versionsColumn, 'Drain', 'Reboot', 'Workloads', 'Soak', 'Total'];
  const out = [`| ${columns.join(' | ')} |`, `|${'---|'.repeat(columns.length)}`];
  const poolWide = new Map<string, string[]>();
  for (const node of nodes) {
    const reimaged = node.outcome === 'reimaged' && node.detail;
    if (reimaged) poolWide.set(node.detail!, [...(poolWide.get(node.detail!) ?? []), node.name]);
    const outcome = `${md(node.outcome)}${node.detail && !reimaged ? `: ${md(node.detail)}` : ''}`;
    const { drain, reboot, workloads, soak, total } = node.timings;
    const times = [drain, reboot, workloads, soak, total].map(seconds);
    out.push(`| ${[md(node.name), outcome, versions(node, md, '→'), ...times].join(' | ')} |`);
  }
  if (poolWide.size) {
    out.push('', '**Node image upgrades** (pool-wide: every node of the pool was reimaged):', '');
    for (const [detail, names] of poolWide) out.push(`- ${names.map(md).join(', ')}: ${md(detail)}`);
  }
  return out;
}
