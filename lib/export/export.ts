import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { sortTime } from '../search/index-writer.ts';
import type { SearchDb } from '../search/search-db.ts';
import type { SearchQuery } from '../search/search-query.ts';
import { getDocument, matchingIds } from '../search/search.ts';
import type { RawStore } from '../store/types.ts';
import { ExportError } from './errors.ts';
import { manifestCsv, manifestEntry, manifestJson, type ManifestEntry } from './manifest.ts';
import { MboxrdQuoter, mboxFromLine } from './mbox.ts';
import { ZipWriter } from './zip-writer.ts';

export type ExportFormat = 'mbox' | 'eml-zip';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['mbox', 'eml-zip'];

export interface ExportProgress {
  readonly done: number;
  readonly total: number;
  readonly bytes: number;
}

export interface ExportOptions {
  readonly index: SearchDb;
  readonly store: RawStore;
  readonly query: SearchQuery;
  readonly format: ExportFormat;
  readonly out: Writable;
  readonly onProgress?: (p: ExportProgress) => void;
  readonly signal?: AbortSignal;
  /** Write ZIP64 records whatever the sizes (tests). */
  readonly forceZip64?: boolean;
}

export interface ExportResult {
  readonly messages: number;
  /** Bytes of archived messages written (before mbox quoting or compression). */
  readonly bytes: number;
  readonly entries: readonly ManifestEntry[];
}

async function write(out: Writable, buf: Buffer): Promise<void> {
  if (out.destroyed) throw new ExportError('EEXPORTOUT', 'the output was closed before the export was complete');
  if (!out.write(buf)) {
    await Promise.race([
      once(out, 'drain'),
      once(out, 'close').then(() => {
        throw new ExportError('EEXPORTOUT', 'the output was closed before the export was complete');
      }),
    ]);
  }
}

/**
 * The archived bytes of a message, checked as they stream: the last chunk is followed by an EEXPORTVERIFY error
 * instead of the end when the bytes do not hash to the recorded sha256, so no export ever completes with a
 * message that is not exactly what was archived.
 */
async function* verifiedRaw(store: RawStore, doc: MetadataDocument): AsyncIterable<Buffer> {
  let raw: Readable;
  try {
    raw = await store.getRaw(doc.raw.key);
  } catch (err) {
    throw new ExportError(
      'EEXPORTVERIFY',
      `message ${doc.id} (${doc.raw.key}) cannot be read from the archive: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    yield chunk;
  }
  const got = hash.digest('hex');
  if (got !== doc.raw.sha256 || size !== doc.raw.size) {
    throw new ExportError(
      'EEXPORTVERIFY',
      `message ${doc.id} (${doc.raw.key}) does not match its record: ${size} bytes with sha256 ${got}, recorded ${doc.raw.size} bytes with sha256 ${doc.raw.sha256}`,
    );
  }
}

export function zipEntryName(doc: MetadataDocument): string {
  return `${doc.mailbox}/${sortTime(doc).slice(0, 10)}_${doc.id}.eml`;
}

/**
 * Writes every message a search selects, newest first, as an mboxrd file or a zip of .eml files (with
 * manifest.json and manifest.csv inside), each message's bytes exactly the archived bytes (mbox: after undoing
 * the mboxrd quoting). Does not end `out`.
 */
export async function writeExport(o: ExportOptions): Promise<ExportResult> {
  const ids = matchingIds(o.index, o.query);
  const entries: ManifestEntry[] = [];
  const zip = o.format === 'eml-zip' ? new ZipWriter(o.out, { forceZip64: o.forceZip64 }) : null;
  let bytes = 0;
  o.onProgress?.({ done: 0, total: ids.length, bytes: 0 });
  for (const id of ids) {
    if (o.signal?.aborted) throw new ExportError('EEXPORTOUT', 'export interrupted');
    const doc = getDocument(o.index, id);
    if (doc === null) continue;
    if (zip !== null) {
      const name = zipEntryName(doc);
      await zip.addStream(name, verifiedRaw(o.store, doc), { date: new Date(sortTime(doc)), expectedSize: doc.raw.size });
      entries.push(manifestEntry(doc, name));
    } else {
      await write(o.out, Buffer.from(mboxFromLine(doc), 'latin1'));
      const quoter = new MboxrdQuoter();
      let last = -1;
      for await (const chunk of verifiedRaw(o.store, doc)) {
        if (chunk.length > 0) last = chunk[chunk.length - 1]!;
        for (const b of quoter.push(chunk)) await write(o.out, b);
      }
      for (const b of quoter.end()) await write(o.out, b);
      // Each message ends with a line break, then one blank line before the next "From ".
      await write(o.out, Buffer.from(last === 0x0a ? '\n' : '\n\n'));
      entries.push(manifestEntry(doc, String(entries.length + 1)));
    }
    bytes += doc.raw.size;
    o.onProgress?.({ done: entries.length, total: ids.length, bytes });
  }
  if (zip !== null) {
    const meta = { format: 'eml-zip', exportedAt: new Date().toISOString(), query: o.query };
    await zip.addBuffer('manifest.json', Buffer.from(manifestJson(entries, meta), 'utf8'));
    await zip.addBuffer('manifest.csv', Buffer.from(manifestCsv(entries), 'utf8'));
    await zip.finish();
  }
  return { messages: entries.length, bytes, entries };
}
