import type { Address, MetadataDocument } from '../document/metadata-schema.ts';
import type { ObjectStore } from './object-store.ts';

/**
 * One row of the Athena index. Flat and snake_case because Athena's JSON SerDe maps keys to lower-case column
 * names; arrays of strings rather than arrays of structs keep the table simple to query (`contains(to_addresses, ...)`).
 * The column list must stay in step with archive-index-table.sql.
 */
export interface IndexRow {
  readonly id: string;
  readonly mailbox: string;
  readonly uidl: string;
  readonly ingested_at: string;
  readonly message_date: string | null;
  readonly message_id: string | null;
  readonly in_reply_to: string | null;
  readonly subject: string | null;
  readonly from_address: string | null;
  readonly from_name: string | null;
  readonly to_addresses: string[];
  readonly cc_addresses: string[];
  readonly reply_to: string | null;
  readonly attachment_count: number;
  readonly attachment_names: string[];
  readonly attachment_sha256: string[];
  readonly size: number;
  readonly raw_bucket: string | null;
  readonly raw_key: string;
  readonly raw_sha256: string;
  readonly auto_reply: boolean;
  readonly bounce: boolean;
  readonly list: boolean;
  readonly bulk: boolean;
  readonly spam: boolean;
  readonly oversized: boolean;
  readonly list_id: string | null;
  readonly snippet: string;
  readonly parse_error: string | null;
  readonly schema_version: number;
}

const addresses = (list: readonly Address[]) => list.map((a) => a.address).filter((a) => a !== '');

/** `YYYY-MM-DD` (UTC) of the ingest time: it never changes for a document, unlike a sender-set Date header. */
export function partitionDate(doc: MetadataDocument): string {
  const t = new Date(doc.ingestedAt);
  if (Number.isNaN(t.getTime())) throw new TypeError(`document ${doc.id}: invalid ingestedAt ${JSON.stringify(doc.ingestedAt)}`);
  return t.toISOString().slice(0, 10);
}

/** Relative to the processor's output prefix (OUTPUT_PREFIX, `index/` in the stack), which is the table's LOCATION. */
export function indexKey(doc: MetadataDocument): string {
  return `dt=${partitionDate(doc)}/${doc.id}.json`;
}

export function indexRow(doc: MetadataDocument): IndexRow {
  const from = doc.from[0] ?? null;
  return {
    id: doc.id,
    mailbox: doc.mailbox,
    uidl: doc.uidl,
    ingested_at: doc.ingestedAt,
    message_date: doc.date,
    message_id: doc.messageId,
    in_reply_to: doc.inReplyTo,
    subject: doc.subject,
    from_address: from === null || from.address === '' ? null : from.address,
    from_name: from === null || from.name === '' ? null : from.name,
    to_addresses: addresses(doc.to),
    cc_addresses: addresses(doc.cc),
    reply_to: doc.replyTo[0]?.address || null,
    attachment_count: doc.attachments.length,
    attachment_names: doc.attachments.map((a) => a.filename).filter((f): f is string => f !== null),
    attachment_sha256: doc.attachments.map((a) => a.sha256),
    size: doc.raw.size,
    raw_bucket: doc.raw.bucket ?? null,
    raw_key: doc.raw.key,
    raw_sha256: doc.raw.sha256,
    auto_reply: doc.flags.autoReply,
    bounce: doc.flags.bounce,
    list: doc.flags.list,
    bulk: doc.flags.bulk,
    spam: doc.flags.spam,
    oversized: doc.flags.oversized,
    list_id: doc.headers.listId,
    snippet: doc.snippet,
    parse_error: doc.parseError,
    schema_version: doc.schemaVersion,
  };
}

/**
 * One JSON line per object: S3 has no append, and an object per document makes a redelivery overwrite the
 * same bytes instead of adding a duplicate row. Athena reads every object under the partition as JSON Lines.
 * U+2028/U+2029 are escaped so no line-oriented reader ever splits a row.
 */
export function indexLine(doc: MetadataDocument): string {
  return `${JSON.stringify(indexRow(doc))
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')}\n`;
}

export async function writeIndexRow(doc: MetadataDocument, store: ObjectStore): Promise<{ readonly key: string }> {
  const key = indexKey(doc);
  await store.put(key, indexLine(doc), { contentType: 'application/x-ndjson' });
  return { key };
}
