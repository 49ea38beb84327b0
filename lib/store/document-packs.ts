/**
 * Metadata documents are stored in packs: one object (S3) or file (fs) per checkpoint and date partition, one
 * JSON document per line, beside the raw messages of that partition:
 *
 *   raw/<mailbox>/<yyyy>/<mm>/<dd>/docs-<yyyymmddThhmmssmmmZ>-<random>.jsonl
 *
 * A message is durable when its raw bytes are; its document is a function of the bytes, the mailbox, the UIDL and
 * the ingest time, so writing the documents of a checkpoint together (one PUT, one fsync) loses nothing that
 * matters, and costs one request per checkpoint instead of one per message. Packs are written once and never
 * replaced. Each document keeps its own line, so two UIDLs with identical bytes keep two documents; and a document
 * whose id is already stored is not written again: the first one stands.
 *
 * Archives written before packs hold one `<sha256>.json` per raw message ("legacy" documents): they are still read,
 * first, as the oldest documents of their partition.
 */
import { randomBytes } from 'node:crypto';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { parseRawKey } from './keys.ts';

const PACK_NAME = /^docs-\d{8}T\d{9}Z-[0-9a-f]{12}\.jsonl$/;
const LEGACY_NAME = /^[0-9a-f]{64}\.json$/;
/** A pack holds at most this many documents (or bytes, below): a checkpoint with more writes several. */
export const PACK_MAX_DOCS = 1000;
export const PACK_MAX_BYTES = 16 * 1024 * 1024;

/** `[prefix/]raw/<mailbox>/<yyyy>/<mm>/<dd>/` of a raw key; a TypeError for anything that is not a raw key. */
export function partitionOfRawKey(rawKey: string): string {
  if (parseRawKey(rawKey) === null) throw new TypeError(`not a raw message key: ${JSON.stringify(rawKey)}`);
  return rawKey.slice(0, rawKey.lastIndexOf('/') + 1);
}

/** A new pack's name: sorts by the time it was written, unique across processes. */
export function newPackName(now = new Date()): string {
  return `docs-${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}.jsonl`;
}

export function isPackName(name: string): boolean {
  return PACK_NAME.test(name);
}

export function isLegacyDocumentName(name: string): boolean {
  return LEGACY_NAME.test(name);
}

/**
 * Packs for `docs`: one line each (JSON.stringify escapes every line break inside strings), in ingest order, split
 * so that no pack passes PACK_MAX_DOCS or PACK_MAX_BYTES (a single larger document gets a pack of its own).
 */
export function encodePacks(docs: readonly MetadataDocument[]): Array<{ readonly docs: MetadataDocument[]; readonly body: Buffer }> {
  const ordered = [...docs].sort((a, b) => (a.ingestedAt < b.ingestedAt ? -1 : a.ingestedAt > b.ingestedAt ? 1 : 0));
  const out: Array<{ docs: MetadataDocument[]; body: Buffer }> = [];
  let pack: MetadataDocument[] = [];
  let lines: string[] = [];
  let bytes = 0;
  const close = (): void => {
    out.push({ docs: pack, body: Buffer.from(lines.join(''), 'utf8') });
    pack = [];
    lines = [];
    bytes = 0;
  };
  for (const doc of ordered) {
    const line = `${JSON.stringify(doc)}\n`;
    const size = Buffer.byteLength(line, 'utf8');
    if (pack.length > 0 && (pack.length >= PACK_MAX_DOCS || bytes + size > PACK_MAX_BYTES)) close();
    pack.push(doc);
    lines.push(line);
    bytes += size;
  }
  if (pack.length > 0) close();
  return out;
}

/** The documents of a pack, in order; `onBad` hears of each line that is not JSON (line numbers from 1). */
export function decodePack(body: Buffer, onBad: (line: number, err: unknown) => void): unknown[] {
  const out: unknown[] = [];
  const text = body.toString('utf8');
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const s = text.slice(start, end);
    start = end + 1;
    if (s.trim() === '') continue;
    try {
      out.push(JSON.parse(s));
    } catch (err) {
      onBad(line, err);
    }
  }
  return out;
}

/** The document files of one partition, in reading order: legacy documents first (by name), then packs (by time). */
export function orderPartitionNames(names: readonly string[]): { legacy: string[]; packs: string[] } {
  return {
    legacy: names.filter(isLegacyDocumentName).sort(),
    packs: names.filter(isPackName).sort(),
  };
}
