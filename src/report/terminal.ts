// The plan for a terminal: plain text, one line per fact, every cluster string stripped of
// control characters.
import type { Plan, PlanNode } from '../plan/types.ts';
import { shortId } from '../plan/canonical.ts';
import { term } from './escape.ts';
import { duration } from './markdown.ts';
import { fixesPhrase } from './fixes.ts';
import { estimateLines, type EstimateOptions } from './estimate.ts';

export function renderTerminal(
  plan: Plan,
  id: string,
  now: Date,
  estimate: EstimateOptions = { soakSeconds: 60 },
): string {
  const { nodes, upToDate, unknown } = plan;
  const out = [
    `Reboot plan ${shortId(id)} for ${term(plan.cluster.name)} (${term(plan.cluster.server)})`,
    `  plan ID ${id}`,
    `  ${nodes.length} planned, ${upToDate.length} up to date, ${unknown.length} not inspected`,
  ];
  // The Markdown lines without their emphasis (the window text is settings, not cluster data).
  if (nodes.length)
    for (const line of estimateLines(plan, estimate, now))
      out.push(`  ${line.replace(/\*\*/g, '').replace(/\\/g, '')}`);
  for (const node of nodes) out.push('', ...nodeLines(node, now));
  if (unknown.length) {
    out.push('', 'Not inspected:');
    for (const node of unknown) out.push(`  ${term(node.name)}: ${term(node.reason)}`);
  }
  if (upToDate.length) out.push('', `Up to date: ${upToDate.map(term).join(', ')}`);
  return out.join('\n') + '\n';
}

function nodeLines(node: PlanNode, now: Date): string[] {
  const kernel =
    node.kernel.next === node.kernel.running
      ? `${term(node.kernel.running)} (unchanged)`
      : `${term(node.kernel.running)} -> ${term(node.kernel.next)}`;
  const out = [`${node.order}. ${term(node.name)}  pool=${term(node.pool)}  ${node.update}  ${kernel}`];
  for (const evidence of node.evidence) out.push(`     evidence: ${term(evidence.detail)}`);
  if (node.pendingSince) {
    const waited = duration(now.getTime() - Date.parse(node.pendingSince));
    out.push(`     pending for ${waited} (since ${term(node.pendingSince)})`);
  }
  if (node.update === 'reboot') {
    const cves = node.fixes?.cves ?? [];
    const more = (node.fixes?.cveTotal ?? 0) > 10 ? ', ...' : '';
    const ids = cves.length ? `: ${cves.slice(0, 10).join(', ')}${more}` : '';
    out.push(`     ${fixesPhrase(node.fixes, term)}${ids}`);
  }
  const { requiringReboot, requiringRebootTotal, sinceBootTotal } = node.packages;
  if (requiringRebootTotal) {
    const more = requiringRebootTotal > requiringReboot.length ? ', ...' : '';
    out.push(`     requires reboot: ${requiringReboot.map(term).join(', ')}${more}`);
  }
  if (sinceBootTotal) out.push(`     changed since boot: ${sinceBootTotal} package(s)`);
  const pods = node.evictions.reduce((sum, eviction) => sum + eviction.pods, 0);
  const workloads = node.evictions.map((eviction) => `${term(eviction.namespace)}/${term(eviction.name)}`);
  out.push(`     evicts ${pods} pod(s)${workloads.length ? ': ' + workloads.join(', ') : ''}`);
  for (const risk of node.risks)
    out.push(`     ${risk.blocking ? 'BLOCKING' : 'risk'} ${risk.kind}: ${term(risk.detail)}`);
  return out;
}
