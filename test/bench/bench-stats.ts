export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function spread(xs: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...xs), max: Math.max(...xs) };
}

/** Median of the per-run ratios a[i] / b[i], over the runs where both have a value (runs alternate, so each pair shared conditions). */
export function pairedRatio(a: ReadonlyArray<number | undefined>, b: ReadonlyArray<number | undefined>): number {
  const r: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && y > 0) r.push(x / y);
  }
  return median(r);
}

export const fmtSeconds = (ms: number) =>
  ms >= 100_000 ? (ms / 1000).toFixed(0) : ms >= 10_000 ? (ms / 1000).toFixed(1) : (ms / 1000).toFixed(2);
export const fmtMb = (bytes: number) => (bytes / 1048576).toFixed(bytes >= 100 * 1048576 ? 0 : 1);
