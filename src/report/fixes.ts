// What a reboot fixes, in words: "fixes 12 CVEs (urgency high)", with the IDs linked to their
// public CVE records. Never "0 CVEs" for a node whose changelogs could not be read: then it says
// what is missing. Pure; IDs are validated by the probe's parser (CVE-YYYY-N only).
import type { Fixes, PlanNode } from '../plan/types.ts';
import { higherUrgency } from '../plan/fixes.ts';
import { md } from './escape.ts';

export const CVE_PAGE = 'https://www.cve.org/CVERecord?id=';

const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;

/** A short phrase for tables and summaries (plain text; package names escaped by `esc`). */
export function fixesPhrase(f: Fixes | undefined, esc: (s: string) => string = md): string {
  if (!f) return 'CVEs not read';
  const read = f.packages.filter((p) => p.changelog);
  const missing = f.packages.filter((p) => !p.changelog).map((p) => esc(p.name));
  const more = f.packagesTotal - f.packages.length;
  if (f.packagesTotal === 0) return 'CVEs unknown: no package named as requiring the reboot';
  if (!read.length) {
    return `CVEs unknown: no Debian changelog on the node (${missing.join(', ')}${more > 0 ? ', …' : ''})`;
  }
  const entries = read.reduce((a, p) => a + (p.entries ?? 0), 0);
  const urgency = f.urgency ? ` (urgency ${f.urgency})` : '';
  const head = f.cveTotal
    ? `fixes ${plural(f.cveTotal, 'CVE')}${urgency}`
    : `no CVE named in ${plural(entries, 'changelog entry', 'changelog entries')}${urgency}`;
  return head + (missing.length ? `; no changelog for ${missing.join(', ')}` : '');
}

/** IDs as Markdown links to their CVE records, the first `max`, with how many more. */
export function cveLinks(f: Fixes | undefined, max: number): string {
  if (!f || !f.cves.length) return '';
  const ids = f.cves.filter((id) => /^CVE-\d{4}-\d{4,}$/.test(id));
  const shown = ids.slice(0, max).map((id) => `[${id}](${CVE_PAGE}${id})`);
  const rest = f.cveTotal - shown.length;
  return shown.join(', ') + (rest > 0 ? ` +${rest} more` : '');
}

/** Over several nodes: distinct IDs where every list is whole, else a lower bound. */
export interface FixesOverall {
  cves: number;
  exact: boolean;
  urgency: string;
  unread: number;
}

export function fixesOverall(nodes: PlanNode[]): FixesOverall {
  const ids = new Set<string>();
  let exact = true;
  let urgency = '';
  let unread = 0;
  for (const n of nodes) {
    const f = n.fixes;
    if (!f || !f.packages.some((p) => p.changelog)) {
      if (n.method === 'reboot') unread++;
      continue;
    }
    for (const id of f.cves) ids.add(id);
    if (f.cves.length < f.cveTotal) exact = false;
    urgency = higherUrgency(urgency, f.urgency);
  }
  const most = Math.max(0, ...nodes.map((n) => n.fixes?.cveTotal ?? 0));
  return { cves: Math.max(ids.size, most), exact, urgency, unread };
}

/** Whole days a node has waited for its reboot, or undefined when unknown. */
export function daysPending(n: PlanNode, now: Date): number | undefined {
  if (!n.pendingSince) return undefined;
  return Math.max(0, Math.floor((now.getTime() - Date.parse(n.pendingSince)) / 86_400_000));
}
