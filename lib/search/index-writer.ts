import type { Address, Flags, MetadataDocument } from '../document/metadata-schema.ts';
import { normaliseMessageId, normaliseSubject } from '../parse/thread-keys.ts';
import { BODY, type SearchDb } from './search-db.ts';

/** Bits of `messages.flags`, one per document flag. */
export const FLAG_BITS: Readonly<Record<keyof Flags, number>> = {
  autoReply: 1,
  bounce: 2,
  list: 4,
  bulk: 8,
  spam: 16,
  oversized: 32,
};

/** Body text kept per message, in characters. Longer bodies are searched on their first part only. */
export const MAX_BODY_CHARS = 16_384;
/** References kept per message for threading: a long References header is sender-controlled. */
const MAX_REFS = 50;
const DAY_MS = 86_400_000;

function flagBits(flags: Flags): number {
  let bits = 0;
  for (const [name, bit] of Object.entries(FLAG_BITS)) if (flags[name as keyof Flags]) bits |= bit;
  return bits;
}

function people(list: readonly Address[]): string {
  return list.map((a) => (a.name === '' ? a.address : `${a.name} <${a.address}>`)).join('\n');
}

/**
 * The time a message is sorted and filtered by: its Date header, unless absent, unparseable or later than a day
 * after we received it (a sender's clock, or a spammer putting mail on top, must not reorder the archive).
 */
export function sortTime(doc: MetadataDocument): string {
  const ingested = Date.parse(doc.ingestedAt);
  const sent = doc.date === null ? Number.NaN : Date.parse(doc.date);
  const t = Number.isFinite(sent) && (!Number.isFinite(ingested) || sent <= ingested + DAY_MS) ? sent : ingested;
  return new Date(Number.isFinite(t) ? t : 0).toISOString();
}

/** A filter as a tag: `<mb:sales>`, `<flag:spam>`, `<att:yes>`; the brackets make each one match whole. */
export function tag(kind: 'mb' | 'flag' | 'att', value: string): string {
  return `<${kind}:${value}>`;
}

/**
 * The document's filters as text in the full-text index's `tags` column. A search for words in one mailbox, or
 * with a flag, is then an intersection of doclists inside FTS5, however rare the filter, instead of a walk over
 * every word match checking the filter row by row. Free text never searches this column.
 */
export function tagsOf(doc: MetadataDocument): string {
  const tags = [tag('mb', doc.mailbox), tag('att', doc.attachments.length > 0 ? 'yes' : 'no')];
  for (const name of Object.keys(FLAG_BITS) as Array<keyof Flags>) if (doc.flags[name]) tags.push(tag('flag', name.toLowerCase()));
  return tags.join(' ');
}

/** Row ids per millisecond of sort time: messages sent in the same millisecond take the next free one. */
const ROWIDS_PER_MS = 1024;

/** The sort time as a row id: the inverse of rowid / ROWIDS_PER_MS, for range filters on dates. */
export function rowidAt(iso: string): number {
  return Date.parse(iso) * ROWIDS_PER_MS;
}

/**
 * A message's row id is its sort time (milliseconds * 1024, plus a counter), so that the primary key is the
 * archive's order: newest first is ORDER BY rowid DESC, which the full-text index (FTS5 shares the row id)
 * walks lazily and stops at the page's end instead of sorting every match, and a date range is a row id range.
 */
function freeRowid(index: SearchDb, sortAt: string): number {
  const base = rowidAt(sortAt);
  const taken = index.all<{ rowid: number }>('SELECT rowid FROM messages WHERE rowid >= ? AND rowid < ?', base, base + ROWIDS_PER_MS);
  if (taken.length < ROWIDS_PER_MS) {
    const used = new Set(taken.map((r) => r.rowid));
    for (let k = 0; k < ROWIDS_PER_MS; k++) if (!used.has(base + k)) return base + k;
  }
  // More than 1,024 messages in one millisecond (a forged Date header): the lowest free id below them.
  const below = index.get<{ rowid: number | null }>('SELECT min(rowid) AS rowid FROM messages')!.rowid ?? base;
  return below - 1;
}

export function threadRefs(doc: MetadataDocument): string[] {
  const ids = [doc.messageId, doc.inReplyTo, ...doc.references.slice(-MAX_REFS)]
    .filter((x): x is string => typeof x === 'string')
    .map(normaliseMessageId)
    .filter((x) => x !== '' && x.length <= 998);
  return [...new Set(ids)];
}

/**
 * Adds or replaces documents in one transaction; unchanged documents (a replay, the same event read twice) are
 * skipped. Returns how many rows were written. `bodyOf` may give the body text when the caller has it already.
 */
export function upsertDocuments(
  index: SearchDb,
  docs: readonly MetadataDocument[],
  bodyOf?: (doc: MetadataDocument) => string | null,
): number {
  let written = 0;
  for (const doc of docs) {
    const json = JSON.stringify(doc);
    const existing = index.get<{ rowid: number; doc: string }>('SELECT rowid, doc FROM messages WHERE id = ?', doc.id);
    if (existing !== undefined && existing.doc === json) continue;
    if (existing !== undefined) {
      // Its time may have changed, and with it its row id: the old rows go, the document is added afresh.
      index.run('DELETE FROM messages WHERE rowid = ?', existing.rowid);
      index.run('DELETE FROM text WHERE rowid = ?', existing.rowid);
      index.run('DELETE FROM refs WHERE msg = ?', existing.rowid);
    }
    const subject = normaliseSubject(doc.subject);
    const given = bodyOf?.(doc) ?? null;
    const bodyState = given !== null ? BODY.indexed : doc.flags.oversized ? BODY.unavailable : BODY.pending;
    const sortAt = sortTime(doc);
    const row = { rowid: freeRowid(index, sortAt) };
    index.run(
      `INSERT INTO messages (rowid, id, mailbox, sort_at, ingested_at, ingested_day, size, flags, attachments, raw_key, subject_key, is_reply, body_state, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.rowid,
      doc.id,
      doc.mailbox,
      sortAt,
      doc.ingestedAt,
      doc.ingestedAt.slice(0, 10),
      doc.raw.size,
      flagBits(doc.flags),
      doc.attachments.length,
      doc.raw.key,
      subject.key,
      subject.hadMarker || doc.inReplyTo !== null || doc.references.length > 0 ? 1 : 0,
      bodyState,
      json,
    );
    index.run(
      'INSERT OR REPLACE INTO text (rowid, subject, sender, recipients, attachments, body, tags) VALUES (?, ?, ?, ?, ?, ?, ?)',
      row.rowid,
      doc.subject ?? '',
      people(doc.from),
      people([...doc.to, ...doc.cc]),
      doc.attachments
        .map((a) => a.filename ?? '')
        .filter((n) => n !== '')
        .join('\n'),
      (given ?? doc.snippet).slice(0, MAX_BODY_CHARS),
      tagsOf(doc),
    );
    for (const ref of threadRefs(doc)) index.run('INSERT OR IGNORE INTO refs (ref, msg) VALUES (?, ?)', ref, row.rowid);
    written++;
  }
  return written;
}

export interface PendingBody {
  readonly rowid: number;
  readonly doc: MetadataDocument;
}

/** Messages whose body text has not been read yet. */
export function pendingBodies(index: SearchDb, limit: number): PendingBody[] {
  // Newest first: the mail people look for soonest gets its body text first.
  return index
    .all<{ rowid: number; doc: string }>('SELECT rowid, doc FROM messages WHERE body_state = 0 ORDER BY rowid DESC LIMIT ?', limit)
    .map((r) => ({ rowid: r.rowid, doc: JSON.parse(r.doc) as MetadataDocument }));
}

/** Stores bodies read from the raw messages; null marks one that could not be read (the snippet stays searchable). */
export function setBodies(index: SearchDb, bodies: ReadonlyArray<{ rowid: number; id: string; body: string | null }>): void {
  index.transaction(() => {
    for (const b of bodies) {
      // The row may have been replaced (or the index rebuilt) while the body was read: only fill the same document.
      const row = index.get<{ rowid: number }>('SELECT rowid FROM messages WHERE rowid = ? AND id = ? AND body_state = 0', b.rowid, b.id);
      if (row === undefined) continue;
      if (b.body === null) {
        index.run('UPDATE messages SET body_state = ? WHERE rowid = ?', BODY.unavailable, b.rowid);
      } else {
        index.run('UPDATE text SET body = ? WHERE rowid = ?', b.body.slice(0, MAX_BODY_CHARS), b.rowid);
        index.run('UPDATE messages SET body_state = ? WHERE rowid = ?', BODY.indexed, b.rowid);
      }
    }
  });
}

/** Empties the index (a rebuild), inside the caller's transaction. */
export function clearIndex(index: SearchDb): void {
  index.db.exec("DELETE FROM text; DELETE FROM refs; DELETE FROM messages; DELETE FROM meta WHERE key <> 'schema';");
}
