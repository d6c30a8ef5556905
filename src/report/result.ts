// An execution's result for terminals: per node the outcome, kernel before and after, timings;
// and, always, the nodes left cordoned by us.
import type { ExecutionResult } from '../execute/executor.ts';
import { shortId } from '../plan/canonical.ts';
import { md, term } from './escape.ts';

const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);

export function renderResultText(r: ExecutionResult): string {
  const out = [`Plan ${shortId(r.planId)}: ${r.state} — ${term(r.message)}`];
  for (const n of r.nodes) {
    const kernel = n.kernelAfter ? `${term(n.kernelBefore)} -> ${term(n.kernelAfter)}` : term(n.kernelBefore);
    const t = n.timings;
    out.push(`  ${term(n.name)}: ${n.outcome}  ${kernel}${t.total !== undefined ? `  drain ${s(t.drain)}, reboot ${s(t.reboot)}, workloads ${s(t.workloads)}, soak ${s(t.soak)}, total ${s(t.total)}` : ''}${n.detail ? `  (${term(n.detail)})` : ''}`);
  }
  if (r.leftCordoned.length) out.push(`  LEFT CORDONED BY REBOOT PILOT: ${r.leftCordoned.map(term).join(', ')} (uncordon with kubectl uncordon after a look, or run the plan again)`);
  return out.join('\n') + '\n';
}

/** The result as Markdown (the final comment, result.md, the job summary); every cluster string escaped. */
export function renderResultMarkdown(cluster: string, r: Pick<ExecutionResult, 'planId' | 'state' | 'message' | 'leftCordoned'> & { nodes: (Omit<ExecutionResult['nodes'][number], 'bootIdBefore' | 'outcome'> & { outcome: string })[] }): string {
  const out = [`### Reboot Pilot: plan \`${shortId(r.planId)}\` on ${md(cluster)} ${r.state}`, '', md(r.message), ''];
  if (r.leftCordoned.length) out.push(`> [!WARNING]\n> Left cordoned by Reboot Pilot: ${r.leftCordoned.map(md).join(', ')}. Look at them, then \`kubectl uncordon\` them or run the plan again.`, '');
  out.push('| Node | Outcome | Kernel before → after | Drain | Reboot | Workloads | Soak | Total |', '|---|---|---|---|---|---|---|---|');
  for (const n of r.nodes) {
    const t = n.timings;
    const kernel = n.kernelAfter ? `${md(n.kernelBefore)} → ${md(n.kernelAfter)}` : md(n.kernelBefore);
    out.push(`| ${md(n.name)} | ${md(n.outcome)}${n.detail ? `: ${md(n.detail)}` : ''} | ${kernel} | ${s(t.drain)} | ${s(t.reboot)} | ${s(t.workloads)} | ${s(t.soak)} | ${s(t.total)} |`);
  }
  return out.join('\n') + '\n';
}
