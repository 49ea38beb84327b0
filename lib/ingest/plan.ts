import type { IngestedEntry, MailboxState } from '../store/types.ts';
import type { MailboxJob, Retention } from './pipeline-types.ts';
import type { ListedMessage } from './listing.ts';

export type { ListedMessage } from './listing.ts';

// A key that no real UIDL can equal (lib/store/state-format.ts).
export { duplicateKey } from '../store/state-format.ts';

export function knownEntry(state: MailboxState, uid: string): IngestedEntry | undefined {
  return Object.hasOwn(state.uidls, uid) ? state.uidls[uid] : undefined;
}

/**
 * The entry stored for this listed message, unless the server has since given its UIDL to another message (a
 * different LIST size): treating that one as known would leave it unarchived, and retention could delete it.
 */
function entryFor(state: MailboxState, key: string, m: ListedMessage): IngestedEntry | undefined {
  const entry = knownEntry(state, key);
  if (entry?.listedSize !== undefined && entry.listedSize !== m.size) return undefined;
  return entry;
}

/**
 * A server that renumbers its UIDLs (a migration, a restored backup) makes every message look new. Re-ingesting a
 * whole mailbox would flood every downstream processor, so this is refused unless the operator accepts it.
 * Suspected when none of the UIDLs we believe are still on the server is listed, yet at least half of their sizes
 * reappear among the listed messages: the same mail under new names. Mail deleted by another client does not
 * trigger it, because the sizes then do not come back.
 */
export function detectUidlReset(listing: readonly ListedMessage[], state: MailboxState): boolean {
  const believedPresent = Object.entries(state.uidls).filter(([, e]) => !e.deletedAt);
  if (believedPresent.length < 2 || listing.length < 2) return false;
  if (listing.some((m) => knownEntry(state, m.uid) !== undefined)) return false;
  const sizes = new Map<number, number>();
  for (const m of listing) sizes.set(m.size, (sizes.get(m.size) ?? 0) + 1);
  let matched = 0;
  for (const [, e] of believedPresent) {
    const left = sizes.get(e.size) ?? 0;
    if (left > 0) {
      matched++;
      sizes.set(e.size, left - 1);
    }
  }
  return matched * 2 >= believedPresent.length;
}

export interface FetchPlan {
  /** New messages to RETR, oldest first (duplicated UIDLs are always fetched: only their content tells them apart). */
  readonly fetch: readonly ListedMessage[];
  /** New messages over maxMessageBytes: only their headers are taken, via TOP. */
  readonly oversized: readonly ListedMessage[];
  /** New messages left for a later run by maxMessagesPerRun. */
  readonly deferred: number;
  /** Messages on the server not yet ingested. */
  readonly newCount: number;
}

/**
 * `suspects`: message numbers whose known UIDL may now name another message (uidl-reuse.ts); they are fetched
 * again like new ones.
 */
export function planFetch(
  listing: readonly ListedMessage[],
  state: MailboxState,
  job: MailboxJob,
  suspects: ReadonlySet<number> = new Set(),
): FetchPlan {
  const maxBytes = job.maxMessageBytes;
  const limit = job.maxMessagesPerRun ?? Number.POSITIVE_INFINITY;
  const fetch: ListedMessage[] = [];
  const oversized: ListedMessage[] = [];
  let newCount = 0;
  let deferred = 0;
  for (const m of listing) {
    const entry = m.duplicate || suspects.has(m.n) ? undefined : entryFor(state, m.uid, m);
    // A message once too large is fetched in full when the limit has since been raised past its size: the larger
    // of LIST's and what it was seen to send (a server may understate sizes in LIST).
    const isNew = entry === undefined || (entry.oversized === true && Math.max(m.size, entry.size) <= maxBytes);
    if (!isNew) continue;
    if (!m.duplicate) newCount++;
    if (fetch.length + oversized.length >= limit) {
      deferred++;
      continue;
    }
    if (m.size > maxBytes) {
      if (entry === undefined) oversized.push(m);
    } else {
      fetch.push(m);
    }
  }
  return { fetch, oversized, deferred, newCount };
}

export function retentionDue(retention: Retention | undefined, entry: IngestedEntry, now: Date): boolean {
  if (retention === undefined || retention === 'keep') return false;
  if (retention === 'delete') return true;
  return Date.parse(entry.ingestedAt) + retention.deleteAfterDays * 86_400_000 <= now.getTime();
}

/**
 * Messages to DELE: every listed message whose state entry is committed and whose retention is due, including
 * messages ingested by an earlier run whose deletion never took effect. A duplicated UIDL, or a suspect of a reused
 * one, is deleted only when this very session retrieved that message number and committed it
 * (`committedThisSession`: n -> state key).
 */
export function retentionCandidates(
  listing: readonly ListedMessage[],
  state: MailboxState,
  job: MailboxJob,
  now: Date,
  committedThisSession: ReadonlyMap<number, string>,
  suspects: ReadonlySet<number> = new Set(),
): Array<{ message: ListedMessage; key: string; entry: IngestedEntry }> {
  const out: Array<{ message: ListedMessage; key: string; entry: IngestedEntry }> = [];
  for (const m of listing) {
    // A suspect's entry may describe the message its UIDL named before: only this session's commit speaks for it.
    const key = m.duplicate || suspects.has(m.n) ? committedThisSession.get(m.n) : m.uid;
    if (key === undefined) continue;
    const entry = entryFor(state, key, m);
    if (entry === undefined || entry.deletedAt) continue;
    if (entry.oversized && !job.deleteOversized) continue;
    if (retentionDue(job.retention, entry, now)) out.push({ message: m, key, entry });
  }
  return out;
}
