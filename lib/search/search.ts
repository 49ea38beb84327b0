import type { SQLInputValue } from 'node:sqlite';
import type { Address, Flags, MetadataDocument } from '../document/metadata-schema.ts';
import { FLAG_BITS, rowidAt, tag } from './index-writer.ts';
import type { SearchDb } from './search-db.ts';
import type { SearchQuery } from './search-query.ts';

/** The trigram tokenizer indexes runs of three characters: shorter terms are matched by LIKE instead. */
const TRIGRAM = 3;
/** Terms shorter than a trigram are looked for in this many newest candidate messages at most. */
export const SHORT_TERM_SCAN = 5_000;
/** Totals are counted up to this; past it the page says "more than 1,000". */
export const COUNT_CAP = 1_000;

export interface SearchHit {
  readonly id: string;
  readonly mailbox: string;
  /** ISO 8601: the Date header (or the time it was received, when that is missing or implausible). */
  readonly date: string;
  readonly from: readonly Address[];
  readonly subject: string | null;
  readonly flags: Flags;
  readonly attachments: number;
  readonly snippet: string;
}

export interface SearchResult {
  readonly total: number;
  /** True when there are more than `total` matches (counting stopped at COUNT_CAP). */
  readonly totalIsLowerBound: boolean;
  /** True when a term shorter than three characters was looked for only in the newest SHORT_TERM_SCAN candidates. */
  readonly scanLimited: boolean;
  readonly page: number;
  readonly pageSize: number;
  readonly hits: readonly SearchHit[];
}

/** A term as an FTS5 string: double quotes doubled, so no query syntax (NEAR, column filters, *) can be injected. */
function ftsString(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

/** A LIKE pattern matching the term anywhere; `\` escapes the wildcards. */
function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function chars(term: string): number {
  return [...term].length;
}

/** The columns free text searches (never `tags`). */
const ALL_COLUMNS = ['subject', 'sender', 'recipients', 'attachments', 'body'] as const;

interface Built {
  /** An FTS5 expression every match satisfies, or null. */
  readonly match: string | null;
  readonly cheap: string[];
  readonly cheapParams: SQLInputValue[];
  readonly short: string[];
  readonly shortParams: SQLInputValue[];
}

function build(q: SearchQuery): Built {
  const cheap: string[] = [];
  const cheapParams: SQLInputValue[] = [];
  const short: string[] = [];
  const shortParams: SQLInputValue[] = [];
  const match: string[] = [];
  const term = (text: string, columns: readonly string[]): void => {
    if (chars(text) >= TRIGRAM) {
      match.push(`{${columns.join(' ')}} : ${ftsString(text)}`);
    } else {
      short.push(`(${columns.map((c) => `t.${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`);
      for (let i = 0; i < columns.length; i++) shortParams.push(likePattern(text));
    }
  };
  for (const t of q.terms) term(t, ALL_COLUMNS);
  if (q.from !== undefined) term(q.from, ['sender']);
  if (q.to !== undefined) term(q.to, ['recipients']);
  // Dates are row id ranges (the row id is the sort time): the full-text index applies them itself.
  if (q.since !== undefined) {
    cheap.push('m.rowid >= ?');
    cheapParams.push(rowidAt(`${q.since}T00:00:00.000Z`));
  }
  if (q.until !== undefined) {
    cheap.push('m.rowid < ?');
    cheapParams.push(rowidAt(`${q.until}T00:00:00.000Z`) + 86_400_000 * 1024);
  }
  // With words to look for, the filters join them inside the full-text index as tags; without, they are
  // conditions on the rows (the mailbox has its own index; newest first is the primary key).
  const tags: string[] = [];
  if (q.mailbox !== undefined) {
    cheap.push('m.mailbox = ?');
    cheapParams.push(q.mailbox);
    tags.push(tag('mb', q.mailbox));
  }
  if (q.flags.length > 0) {
    const bits = q.flags.reduce((b, f) => b | FLAG_BITS[f], 0);
    cheap.push('(m.flags & ?) = ?');
    cheapParams.push(bits, bits);
    for (const f of q.flags) tags.push(tag('flag', f.toLowerCase()));
  }
  if (q.attachment !== undefined) {
    cheap.push(q.attachment ? 'm.attachments > 0' : 'm.attachments = 0');
    tags.push(tag('att', q.attachment ? 'yes' : 'no'));
  }
  // A rare flag, or attachments, alone are also found fastest through their tags.
  if (match.length > 0 || q.flags.length > 0 || q.attachment === true) match.push(...tags.map((t) => `{tags} : ${ftsString(t)}`));
  return { match: match.length === 0 ? null : match.join(' AND '), cheap, cheapParams, short, shortParams };
}

function hitOf(doc: MetadataDocument, sortAt: string): SearchHit {
  return {
    id: doc.id,
    mailbox: doc.mailbox,
    date: sortAt,
    from: doc.from,
    subject: doc.subject,
    flags: doc.flags,
    attachments: doc.attachments.length,
    snippet: doc.snippet,
  };
}

interface Source {
  /** Selects the `rowid` of every match, newest first. */
  readonly sql: string;
  readonly params: SQLInputValue[];
  readonly scanLimited: boolean;
  /** The matches are a bounded scan (short terms): read them once, count and page in memory. */
  readonly bounded: boolean;
}

/**
 * The matches as row ids, newest first. With free text, the full-text index drives: it yields its matches in
 * descending row id order (which is the sort order), each checked against the other filters, so LIMIT stops
 * the walk early instead of collecting and sorting every match.
 */
function sourceOf(index: SearchDb, q: SearchQuery): Source {
  const b = build(q);
  const conds = b.match === null ? b.cheap : ['text MATCH ?', ...b.cheap.map((c) => c.replace(/\bm\.rowid\b/g, 't.rowid'))];
  const params = b.match === null ? b.cheapParams : [b.match, ...b.cheapParams];
  const where = conds.length === 0 ? '' : `WHERE ${conds.join(' AND ')}`;
  // CROSS JOIN keeps the full-text index as the outer loop: the planner would otherwise walk a date range of
  // rows and run the full-text query once per row (seconds instead of milliseconds).
  const from = b.match === null ? 'messages m' : 'text t CROSS JOIN messages m ON m.rowid = t.rowid';
  const order = b.match === null ? 'ORDER BY m.rowid DESC' : 'ORDER BY t.rowid DESC';
  const base = `SELECT m.rowid AS rowid FROM ${from} ${where} ${order}`;
  if (b.short.length === 0) return { sql: base, params, scanLimited: false, bounded: false };
  // Short terms have no index to use: they are checked on a bounded set of the newest candidates.
  const n = index.get<{ n: number }>(`SELECT count(*) AS n FROM (${base} LIMIT ${SHORT_TERM_SCAN + 1})`, ...params)!.n;
  return {
    sql: `SELECT c.rowid AS rowid FROM (${base} LIMIT ${SHORT_TERM_SCAN}) c WHERE EXISTS (SELECT 1 FROM text t WHERE t.rowid = c.rowid AND ${b.short.join(' AND ')}) ORDER BY c.rowid DESC`,
    params: [...params, ...b.shortParams],
    scanLimited: n > SHORT_TERM_SCAN,
    bounded: true,
  };
}

function documentsOf(index: SearchDb, rowids: readonly number[]): Map<number, { sort_at: string; doc: string }> {
  const rows = index.all<{ rowid: number; sort_at: string; doc: string }>(
    'SELECT rowid, sort_at, doc FROM messages WHERE rowid IN (SELECT value FROM json_each(?))',
    JSON.stringify(rowids),
  );
  return new Map(rows.map((r) => [r.rowid, r]));
}

/** Runs a search: newest first, one page, with a total counted up to COUNT_CAP. */
export function search(index: SearchDb, q: SearchQuery): SearchResult {
  const src = sourceOf(index, q);
  const offset = (q.page - 1) * q.pageSize;
  let counted: number;
  let ids: number[];
  if (src.bounded) {
    // At most SHORT_TERM_SCAN row ids: one pass of the LIKE scan serves the count and the page.
    const all = index.all<{ rowid: number }>(src.sql, ...src.params).map((r) => r.rowid);
    counted = all.length;
    ids = all.slice(offset, offset + q.pageSize);
  } else {
    counted = index.get<{ n: number }>(`SELECT count(*) AS n FROM (${src.sql} LIMIT ${COUNT_CAP + 1})`, ...src.params)!.n;
    ids = index.all<{ rowid: number }>(`${src.sql} LIMIT ? OFFSET ?`, ...src.params, q.pageSize, offset).map((r) => r.rowid);
  }
  const docs = documentsOf(index, ids);
  return {
    total: Math.min(counted, COUNT_CAP),
    totalIsLowerBound: counted > COUNT_CAP,
    scanLimited: src.scanLimited,
    page: q.page,
    pageSize: q.pageSize,
    hits: ids.flatMap((rowid) => {
      const d = docs.get(rowid);
      return d === undefined ? [] : [hitOf(JSON.parse(d.doc) as MetadataDocument, d.sort_at)];
    }),
  };
}

/**
 * The ids of every match, newest first, read in one statement: a consistent list for an export, however the
 * index changes while the messages are written out.
 */
export function matchingIds(index: SearchDb, q: SearchQuery): string[] {
  const src = sourceOf(index, q);
  return index
    .all<{ id: string }>(`SELECT x.id AS id FROM (${src.sql}) r JOIN messages x ON x.rowid = r.rowid ORDER BY x.rowid DESC`, ...src.params)
    .map((r) => r.id);
}

const ID = /^[0-9a-f]{64}$/;

export function isDocumentId(id: string): boolean {
  return ID.test(id);
}

export function getDocument(index: SearchDb, id: string): MetadataDocument | null {
  if (!isDocumentId(id)) return null;
  const row = index.get<{ doc: string }>('SELECT doc FROM messages WHERE id = ?', id);
  return row === undefined ? null : (JSON.parse(row.doc) as MetadataDocument);
}

export interface DayStat {
  readonly mailbox: string;
  /** `YYYY-MM-DD` (UTC) the messages were ingested. */
  readonly day: string;
  readonly messages: number;
  readonly bytes: number;
}

/** Messages and bytes ingested per mailbox per day, from `sinceDay` on. */
export function dailyStats(index: SearchDb, sinceDay: string): DayStat[] {
  return index.all<DayStat>(
    'SELECT mailbox, ingested_day AS day, count(*) AS messages, sum(size) AS bytes FROM messages WHERE ingested_day >= ? GROUP BY mailbox, ingested_day ORDER BY mailbox, ingested_day',
    sinceDay,
  );
}

export function mailboxTotals(index: SearchDb): Array<{ mailbox: string; messages: number; bytes: number; lastIngestedAt: string | null }> {
  return index.all(
    'SELECT mailbox, count(*) AS messages, sum(size) AS bytes, max(ingested_at) AS lastIngestedAt FROM messages GROUP BY mailbox ORDER BY mailbox',
  );
}
