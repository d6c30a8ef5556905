// The plan for a terminal: plain text, one line per fact, every cluster string stripped of
// control characters.
import type { Plan } from '../plan/types.ts';
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
  const out: string[] = [];
  out.push(`Reboot plan ${shortId(id)} for ${term(plan.cluster.name)} (${term(plan.cluster.server)})`);
  out.push(`  plan ID ${id}`);
  out.push(
    `  ${plan.nodes.length} planned, ${plan.upToDate.length} up to date, ${plan.unknown.length} not inspected`,
  );
  // The Markdown lines without their emphasis (the window text is settings, not cluster data).
  if (plan.nodes.length)
    for (const l of estimateLines(plan, estimate, now))
      out.push(`  ${l.replace(/\*\*/g, '').replace(/\\/g, '')}`);
  for (const n of plan.nodes) {
    out.push('');
    const kernel =
      n.kernel.next === n.kernel.running
        ? `${term(n.kernel.running)} (unchanged)`
        : `${term(n.kernel.running)} -> ${term(n.kernel.next)}`;
    out.push(`${n.order}. ${term(n.name)}  pool=${term(n.pool)}  ${n.method}  ${kernel}`);
    for (const e of n.evidence) out.push(`     evidence: ${term(e.detail)}`);
    if (n.pendingSince)
      out.push(
        `     pending for ${duration(now.getTime() - Date.parse(n.pendingSince))} (since ${term(n.pendingSince)})`,
      );
    if (n.method === 'reboot') {
      const ids = n.fixes?.cves.length
        ? `: ${n.fixes.cves.slice(0, 10).join(', ')}${n.fixes.cveTotal > 10 ? ', ...' : ''}`
        : '';
      out.push(`     ${fixesPhrase(n.fixes, term)}${ids}`);
    }
    if (n.packages.requiringRebootTotal)
      out.push(
        `     requires reboot: ${n.packages.requiringReboot.map(term).join(', ')}${n.packages.requiringRebootTotal > n.packages.requiringReboot.length ? ', ...' : ''}`,
      );
    if (n.packages.sinceBootTotal)
      out.push(`     changed since boot: ${n.packages.sinceBootTotal} package(s)`);
    const pods = n.evictions.reduce((a, e) => a + e.pods, 0);
    out.push(
      `     evicts ${pods} pod(s)${n.evictions.length ? ': ' + n.evictions.map((e) => `${term(e.namespace)}/${term(e.name)}`).join(', ') : ''}`,
    );
    for (const r of n.risks)
      out.push(`     ${r.blocking ? 'BLOCKING' : 'risk'} ${r.kind}: ${term(r.detail)}`);
  }
  if (plan.unknown.length) {
    out.push('', 'Not inspected:');
    for (const u of plan.unknown) out.push(`  ${term(u.name)}: ${term(u.reason)}`);
  }
  if (plan.upToDate.length) out.push('', `Up to date: ${plan.upToDate.map(term).join(', ')}`);
  return out.join('\n') + '\n';
}
