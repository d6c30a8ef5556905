// Kernel version strings as distributions write them: 5.15.0-1079-azure, 6.6.64.2-9.azl3,
// 6.8.0-45-generic. Compared field by field, numerically where both fields are numbers, so
// 5.15.0-1079 sorts after 5.15.0-988 (a plain string sort gets that wrong).
export function compareKernelVersions(left: string, right: string): number {
  const pa = left.split(/[.\-+_]/);
  const pb = right.split(/[.\-+_]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    if (numeric) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** The newest of several kernel versions, or undefined for none. */
export function newestKernel(versions: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const v of versions) if (best === undefined || compareKernelVersions(v, best) > 0) best = v;
  return best;
}
