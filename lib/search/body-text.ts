import type { MetadataDocument } from '../document/metadata-schema.ts';
import { parseMessage } from '../parse/parse-message.ts';
import type { RawStore } from '../store/types.ts';
import { MAX_BODY_CHARS, pendingBodies, setBodies } from './index-writer.ts';
import type { SearchDb } from './search-db.ts';

/**
 * The searchable text of a message, read from its archived bytes by the project's own bounded parser (the same
 * charsets, part and size limits as ingest): the snippet it makes, asked for MAX_BODY_CHARS characters instead of
 * 280, is the body text with whitespace collapsed. Null when the raw message cannot be read.
 */
export async function readBodyText(store: RawStore, doc: MetadataDocument, timeoutMs = 10_000): Promise<string | null> {
  let raw: Awaited<ReturnType<RawStore['getRaw']>>;
  try {
    raw = await store.getRaw(doc.raw.key);
  } catch {
    return null;
  }
  const parsed = await parseMessage(raw, { snippetChars: MAX_BODY_CHARS, timeoutMs });
  return parsed.snippet;
}

export interface FillBodiesOptions {
  /** Stop starting new messages after this time (epoch ms). @default no limit */
  readonly deadline?: number;
  /** Messages read per transaction. @default 50 */
  readonly batch?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number) => void;
}

/**
 * Reads the body text of messages indexed from their metadata alone, a batch at a time, so that documents are
 * searchable at once (subject, people, attachment names, snippet) and their full text follows. Returns how many
 * bodies were filled.
 */
export async function fillBodies(index: SearchDb, store: RawStore, options: FillBodiesOptions = {}): Promise<number> {
  const batch = options.batch ?? 50;
  let done = 0;
  for (;;) {
    if (options.signal?.aborted || (options.deadline !== undefined && Date.now() >= options.deadline)) break;
    const pending = pendingBodies(index, batch);
    if (pending.length === 0) break;
    const bodies: Array<{ rowid: number; id: string; body: string | null }> = [];
    for (const p of pending) {
      bodies.push({ rowid: p.rowid, id: p.doc.id, body: await readBodyText(store, p.doc) });
      if (options.deadline !== undefined && Date.now() >= options.deadline) break;
    }
    setBodies(index, bodies);
    done += bodies.length;
    options.onProgress?.(done);
  }
  return done;
}
