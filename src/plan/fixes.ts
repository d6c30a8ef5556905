// What a reboot fixes, from the probe's changelog reading: a pure translation into the plan's
// shape (full "CVE-" IDs, package by package), and the urgency order Debian uses.
import type { ProbeResult } from '../detect/probe-script.ts';
import type { Fixes, PackageFixes } from './types.ts';

export const URGENCIES = ['low', 'medium', 'high', 'emergency', 'critical'];

/** The higher of two Debian urgencies ("" and unknown words rank lowest). */
export function higherUrgency(first: string, second: string): string {
  return URGENCIES.indexOf(second) > URGENCIES.indexOf(first) ? second : first;
}

export function fixesFromProbe(result: ProbeResult | undefined): Fixes | undefined {
  if (!result?.fixes) return undefined;
  let urgency = '';
  const packages: PackageFixes[] = result.fixes.pkgs.items.map((p) => {
    if (!p.doc) return { name: p.p, changelog: false };
    const known = (value: string) => (value === '-' ? '' : value);
    urgency = higherUrgency(urgency, known(p.urgency));
    const versions = { from: known(p.from), to: known(p.to) };
    const counts = { entries: p.entries, cves: p.cves, urgency: known(p.urgency) };
    return { name: p.p, changelog: true, ...counts, ...versions };
  });
  return {
    cveTotal: result.fixes.cves.total,
    cves: result.fixes.cves.items.map((id) => `CVE-${id}`),
    urgency,
    packages,
    packagesTotal: result.fixes.pkgs.total,
  };
}
