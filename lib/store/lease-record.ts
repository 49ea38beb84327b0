import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { assertMailboxId } from './keys.ts';
import { LEASES_PREFIX } from './layout.ts';
import type { LeaseRecord } from './types.ts';

/** Key of a mailbox's lease under the store's prefix: `[prefix/]state/leases/<mailbox>.json` (lib/store/layout.ts). */
export function leaseKey(mailbox: string, prefix = ''): string {
  assertMailboxId(mailbox);
  return prefix === '' ? `${LEASES_PREFIX}${mailbox}.json` : `${prefix}/${LEASES_PREFIX}${mailbox}.json`;
}

export function newLeaseRecord(mailbox: string, ttlMs: number, now = Date.now()): LeaseRecord {
  return {
    mailbox,
    host: hostname(),
    pid: process.pid,
    runId: randomUUID(),
    acquiredAt: new Date(now).toISOString(),
    expiresAt: new Date(now + ttlMs).toISOString(),
  };
}

export function encodeLease(record: LeaseRecord): Buffer {
  return Buffer.from(`${JSON.stringify({ version: 1, ...record })}\n`, 'utf8');
}

/** A lease as stored, or null when it is not one (unreadable: anyone may take it over, as if it had expired). */
export function decodeLease(text: string, mailbox: string): LeaseRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const r = v as (Partial<LeaseRecord> & { version?: unknown }) | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    r.version !== 1 ||
    r.mailbox !== mailbox ||
    typeof r.host !== 'string' ||
    typeof r.pid !== 'number' ||
    typeof r.runId !== 'string' ||
    typeof r.acquiredAt !== 'string' ||
    typeof r.expiresAt !== 'string' ||
    Number.isNaN(Date.parse(r.expiresAt))
  )
    return null;
  return { mailbox, host: r.host, pid: r.pid, runId: r.runId, acquiredAt: r.acquiredAt, expiresAt: r.expiresAt };
}

/**
 * Free to take: expired, or held by a process of this host that no longer exists (a kill -9, a crash): its lease
 * need not be waited out.
 */
export function isFree(record: LeaseRecord | null, now = Date.now()): boolean {
  if (record === null || Date.parse(record.expiresAt) <= now) return true;
  if (record.host !== hostname() || record.pid === process.pid) return false;
  try {
    process.kill(record.pid, 0);
    return false;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as { code?: string }).code === 'ESRCH';
  }
}

/** "host h, pid p, run r, until t": enough for an operator to find the other run. */
export function describeHolder(record: LeaseRecord): string {
  return `host ${record.host}, pid ${record.pid}, run ${record.runId}, until ${record.expiresAt}`;
}
