import type { MetadataDocument } from '../document/metadata-schema.ts';
import type { SearchDb } from './search-db.ts';
import { getDocument } from './search.ts';

/** A thread is cut at this many messages: the References of a hostile message can name anything. */
export const MAX_THREAD = 200;
const MAX_ROUNDS = 6;
/** As ticket intake (lib/processors/tickets.ts): a reply joins by subject only within this window. */
const SUBJECT_WINDOW_MS = 30 * 86_400_000;

export interface ThreadEntry {
  readonly id: string;
  readonly mailbox: string;
  readonly date: string;
  readonly from: MetadataDocument['from'];
  readonly subject: string | null;
  /** 'reference': linked by Message-ID, In-Reply-To or References; 'subject': a reply with the same subject. */
  readonly via: 'self' | 'reference' | 'subject';
}

/**
 * The messages of a document's thread, oldest first: the connected messages by Message-ID, In-Reply-To and
 * References (any archived message naming or named by another), plus, as ticket intake does, replies in the same
 * mailbox whose normalised subject is the same within 30 days (an answer sent from another system has no
 * references to our copy). Bounded by MAX_THREAD messages and MAX_ROUNDS hops.
 */
export function threadOf(index: SearchDb, id: string): ThreadEntry[] {
  const start = index.get<{ rowid: number; mailbox: string; subject_key: string; is_reply: number; sort_at: string }>(
    'SELECT rowid, mailbox, subject_key, is_reply, sort_at FROM messages WHERE id = ?',
    id,
  );
  if (start === undefined) return [];
  const via = new Map<number, ThreadEntry['via']>([[start.rowid, 'self']]);
  const seenRefs = new Set<string>();
  let frontier = [start.rowid];
  for (let round = 0; round < MAX_ROUNDS && frontier.length > 0 && via.size < MAX_THREAD; round++) {
    const refs = index
      .all<{ ref: string }>(`SELECT DISTINCT ref FROM refs WHERE msg IN (SELECT value FROM json_each(?))`, JSON.stringify(frontier))
      .map((r) => r.ref)
      .filter((r) => !seenRefs.has(r));
    for (const r of refs) seenRefs.add(r);
    if (refs.length === 0) break;
    const next: number[] = [];
    for (const row of index.all<{ msg: number }>(
      `SELECT DISTINCT msg FROM refs WHERE ref IN (SELECT value FROM json_each(?)) LIMIT ${MAX_THREAD * 2}`,
      JSON.stringify(refs),
    )) {
      if (via.has(row.msg) || via.size >= MAX_THREAD) continue;
      via.set(row.msg, 'reference');
      next.push(row.msg);
    }
    frontier = next;
  }
  if (start.subject_key !== '' && via.size < MAX_THREAD) {
    const t = Date.parse(start.sort_at);
    const rows = index.all<{ rowid: number; is_reply: number }>(
      `SELECT rowid, is_reply FROM messages WHERE mailbox = ? AND subject_key = ? AND sort_at >= ? AND sort_at <= ? LIMIT ${MAX_THREAD}`,
      start.mailbox,
      start.subject_key,
      new Date(t - SUBJECT_WINDOW_MS).toISOString(),
      new Date(t + SUBJECT_WINDOW_MS).toISOString(),
    );
    for (const r of rows) {
      // Two fresh messages that merely share a subject ("Hello") are not a thread: one of them must be a reply.
      if (via.has(r.rowid) || (start.is_reply === 0 && r.is_reply === 0) || via.size >= MAX_THREAD) continue;
      via.set(r.rowid, 'subject');
    }
  }
  const rows = index.all<{ rowid: number; id: string; sort_at: string }>(
    'SELECT rowid, id, sort_at FROM messages WHERE rowid IN (SELECT value FROM json_each(?)) ORDER BY rowid',
    JSON.stringify([...via.keys()]),
  );
  const out: ThreadEntry[] = [];
  for (const r of rows) {
    const doc = getDocument(index, r.id);
    if (doc === null) continue;
    out.push({ id: doc.id, mailbox: doc.mailbox, date: r.sort_at, from: doc.from, subject: doc.subject, via: via.get(r.rowid)! });
  }
  return out;
}
