import { UsageError } from './usage-error.ts';

/** "30s", "5m", "1h" -> milliseconds. At least 10 s: a POP3 server is not to be hammered. */
export function parseInterval(text: string): number {
  const m = /^(\d+)\s*(s|m|h)$/.exec(text.trim());
  if (m === null) throw new UsageError(`--every: expected a number with s, m or h (e.g. 5m), got ${JSON.stringify(text)}`);
  const ms = Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  if (ms < 10_000) throw new UsageError(`--every: at least 10s, got ${JSON.stringify(text)}`);
  return ms;
}
