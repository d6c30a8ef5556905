// What a reboot fixes, in words: "fixes 12 CVEs (urgency high)", with the IDs linked to their
// public CVE records. Never "0 CVEs" for a node whose changelogs could not be read: then it says
// what is missing. Pure; IDs are validated by the probe's parser (CVE-YYYY-N only).
import type { Fixes, PlanNode } from '../plan/types.ts';
import { higherUrgency } from '../plan/fixes.ts';
import { md } from './escape.ts';

export const CVE_PAGE = 'https://www.cve.org/CVERecord?id=';

const plural = (count: number, word: string, words = `${word}s`) => `${count} ${count === 1 ? word : words}`;

/** A short phrase for tables and summaries (plain text; package names escaped by `escape`). */
export function fixesPhrase(fixes: Fixes | undefined, escape: (text: string) => string = md): string {
  if (!fixes) return 'CVEs not read';
  const read = fixes.packages.filter((change) => change.changelog);
  const missing = fixes.packages.filter((change) => !change.changelog).map((change) => escape(change.name));
  const more = fixes.packagesTotal - fixes.packages.length;
  if (fixes.packagesTotal === 0) return 'CVEs unknown: no package named as requiring the reboot';
  if (!read.length) {
    return `CVEs unknown: no Debian changelog on the node (${missing.join(', ')}${more > 0 ? ', …' : ''})`;
  }
  const entries = read.reduce((sum, change) => sum + (change.entries ?? 0), 0);
  const urgency = fixes.urgency ? ` (urgency ${fixes.urgency})` : '';
  const head = fixes.cveTotal
    ? `fixes ${plural(fixes.cveTotal, 'CVE')}${urgency}`
    : `no CVE named in ${plural(entries, 'changelog entry', 'changelog entries')}${urgency}`;
  return head + (missing.length ? `; no changelog for ${missing.join(', ')}` : '');
}

/** IDs as Markdown links to their CVE records, the first `max`, with how many more. */
export function cveLinks(fixes: Fixes | undefined, max: number): string {
  if (!fixes?.cves.length) return '';
  const ids = fixes.cves.filter((id) => /^CVE-\d{4}-\d{4,}$/.test(id));
  const shown = ids.slice(0, max).map((id) => `[${id}](${CVE_PAGE}${id})`);
  const rest = fixes.cveTotal - shown.length;
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
  for (const node of nodes) {
    const fixes = node.fixes;
    if (!fixes?.packages.some((change) => change.changelog)) {
      if (node.update === 'reboot') unread++;
      continue;
    }
    for (const id of fixes.cves) ids.add(id);
    if (fixes.cves.length < fixes.cveTotal) exact = false;
    urgency = higherUrgency(urgency, fixes.urgency);
  }
  const most = Math.max(0, ...nodes.map((node) => node.fixes?.cveTotal ?? 0));
  return { cves: Math.max(ids.size, most), exact, urgency, unread };
}

/** Whole days a node has waited for its reboot, or undefined when unknown. */
export function daysPending(node: PlanNode, now: Date): number | undefined {
  if (!node.pendingSince) return undefined;
  return Math.max(0, Math.floor((now.getTime() - Date.parse(node.pendingSince)) / 86_400_000));
}
