// What a reboot fixes, from the probe's changelog reading: a pure translation into the plan's
// shape (full "CVE-" IDs, package by package), and the urgency order Debian uses.
import type { ProbeResult } from '../detect/probe-script.ts';
import type { Fixes, PackageFixes } from './types.ts';

export const URGENCIES = ['low', 'medium', 'high', 'emergency', 'critical'];

/** The higher of two Debian urgencies ("" and unknown words rank lowest). */
export function higherUrgency(a: string, b: string): string {
  return URGENCIES.indexOf(b) > URGENCIES.indexOf(a) ? b : a;
}

export function fixesFromProbe(r: ProbeResult | undefined): Fixes | undefined {
  if (!r?.fixes) return undefined;
  let urgency = '';
  const packages: PackageFixes[] = r.fixes.pkgs.items.map((p) => {
    if (!p.doc) return { name: p.p, changelog: false };
    const known = (v: string) => (v === '-' ? '' : v);
    urgency = higherUrgency(urgency, known(p.urgency));
    const versions = { from: known(p.from), to: known(p.to) };
    const counts = { entries: p.entries, cves: p.cves, urgency: known(p.urgency) };
    return { name: p.p, changelog: true, ...counts, ...versions };
  });
  return {
    cveTotal: r.fixes.cves.total,
    cves: r.fixes.cves.items.map((id) => `CVE-${id}`),
    urgency,
    packages,
    packagesTotal: r.fixes.pkgs.total,
  };
}
