import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { metadataDocumentSchema, type MetadataDocument } from '../document/metadata-schema.ts';
import { upsertDocuments } from './index-writer.ts';
import type { SearchDb } from './search-db.ts';

/** Bytes of the log read per transaction; a line longer than this is not a metadata document of ours and is skipped. */
const CHUNK = 8 * 1024 * 1024;
const HEAD_BYTES = 4096;

export interface EventLogCatchUp {
  /** Documents read from the log (every line, including ones already indexed). */
  readonly read: number;
  /** Rows added or changed. */
  readonly written: number;
  /** Lines that were not a valid metadata document. */
  readonly skipped: number;
  /** True when the log was replaced or truncated since the last catch-up, so it was read again from the start. */
  readonly restarted: boolean;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** Identifies the log file by its first line: the log is append-only, so a different first line is another log. */
function headOf(fd: number, size: number): string {
  const head = readAt(fd, 0, Math.min(HEAD_BYTES, size));
  const nl = head.indexOf(0x0a);
  return createHash('sha256')
    .update(nl < 0 ? head : head.subarray(0, nl))
    .digest('hex');
}

function parseLines(bytes: Buffer): { docs: MetadataDocument[]; skipped: number } {
  const docs: MetadataDocument[] = [];
  let skipped = 0;
  for (const line of bytes.toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    const parsed = metadataDocumentSchema.safeParse(json);
    if (parsed.success) docs.push(parsed.data);
    else skipped++;
  }
  return { docs, skipped };
}

/**
 * Brings the index up to date with the local event log (`<store>/events.jsonl`, lib/publish/local-publisher.ts),
 * from the byte offset it kept last time. Each chunk and the cursor after it are one transaction, so a crash (or
 * a second process catching up at the same moment) leaves the index and its cursor in step. Only complete lines
 * are read: a batch being appended right now is picked up next time.
 */
export function catchUpEventLog(index: SearchDb, logPath: string): EventLogCatchUp {
  let fd: number;
  try {
    fd = openSync(logPath, 'r');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return { read: 0, written: 0, skipped: 0, restarted: false };
    throw err;
  }
  let read = 0;
  let written = 0;
  let skipped = 0;
  let restarted = false;
  try {
    for (;;) {
      const more = index.transaction(() => {
        const size = fstatSync(fd).size;
        let offset = Number(index.getMeta('events.offset') ?? '0');
        const head = size === 0 ? null : headOf(fd, size);
        if (offset > size || (offset > 0 && index.getMeta('events.head') !== head)) {
          offset = 0;
          restarted = true;
        }
        if (offset >= size) return false;
        const chunk = readAt(fd, offset, Math.min(CHUNK, size - offset));
        const end = chunk.lastIndexOf(0x0a);
        if (end < 0) {
          if (chunk.length < CHUNK) return false; // a line still being written
          // One line longer than CHUNK: skip past its end.
          let next = offset + chunk.length;
          for (;;) {
            const part = readAt(fd, next, Math.min(CHUNK, size - next));
            const nl = part.indexOf(0x0a);
            if (nl >= 0) {
              next += nl + 1;
              break;
            }
            if (part.length === 0) return false;
            next += part.length;
          }
          skipped++;
          index.setMeta('events.offset', String(next));
          return true;
        }
        const lines = parseLines(chunk.subarray(0, end + 1));
        read += lines.docs.length;
        skipped += lines.skipped;
        written += upsertDocuments(index, lines.docs);
        index.setMeta('events.offset', String(offset + end + 1));
        if (head !== null) index.setMeta('events.head', head);
        return offset + end + 1 < size;
      });
      if (!more) break;
    }
  } finally {
    closeSync(fd);
  }
  return { read, written, skipped, restarted };
}
