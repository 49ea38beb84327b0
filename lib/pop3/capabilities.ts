import type { CommandSpec } from './command.ts';

export type Capabilities = ReadonlyMap<string, readonly string[]>;

/** CAPA (RFC 2449 section 5). A -ERR means the server predates CAPA: the caller treats that as "none advertised". */
export const capaCommand: CommandSpec<Capabilities> = {
  line: 'CAPA',
  verb: 'CAPA',
  kind: 'lines',
  parse: (r) => parseCapabilities(r.lines),
};

export function parseCapabilities(lines: readonly string[]): Capabilities {
  const caps = new Map<string, readonly string[]>();
  for (const line of lines) {
    const [keyword, ...args] = line.trim().split(/\s+/);
    if (keyword) caps.set(keyword.toUpperCase(), args);
  }
  return caps;
}

/** SASL mechanisms offered, upper-cased. */
export function saslMechanisms(caps: Capabilities): Set<string> {
  return new Set((caps.get('SASL') ?? []).map((m) => m.toUpperCase()));
}

/**
 * CAPA EXPIRE (RFC 2449 section 6.7): days, 0 (the server deletes what was retrieved), or NEVER. Before login a
 * server may add "USER" (the value varies per user): the value re-read after login is then authoritative.
 */
export function parseExpire(caps: Capabilities): number | 'never' | null {
  const value = caps.get('EXPIRE')?.[0];
  if (value === undefined) return null;
  if (value.toUpperCase() === 'NEVER') return 'never';
  return /^\d{1,9}$/.test(value) ? Number(value) : null;
}

/** CAPA LOGIN-DELAY (RFC 2449 section 6.8): minimum seconds between logins, same "USER" convention as EXPIRE. */
export function parseLoginDelay(caps: Capabilities): number | null {
  const value = caps.get('LOGIN-DELAY')?.[0];
  return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : null;
}
