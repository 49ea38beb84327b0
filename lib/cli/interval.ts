import { UsageError } from './usage-error.ts';

/** "30s", "5m", "1h" -> milliseconds, at least `minMs`; `option` names the flag in the error. */
export function parseDuration(text: string, option: string, minMs: number): number {
  const m = /^(\d+)\s*(s|m|h)$/.exec(text.trim());
  if (m === null) throw new UsageError(`${option}: expected a number with s, m or h (e.g. 5m), got ${JSON.stringify(text)}`);
  const ms = Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  if (ms < minMs) throw new UsageError(`${option}: at least ${minMs / 1000}s, got ${JSON.stringify(text)}`);
  return ms;
}

/** The --every of `run`: at least 10 s, a POP3 server is not to be hammered. */
export function parseInterval(text: string): number {
  return parseDuration(text, '--every', 10_000);
}
