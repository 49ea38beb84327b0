import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { metadataDocumentSchema, type MetadataDocument } from '../document/metadata-schema.ts';
import type { StoreConfig } from '../config/types.ts';
import { isValidMailboxId, parseRawKey } from '../store/keys.ts';
import type { RawStore } from '../store/types.ts';
import { upsertDocuments } from './index-writer.ts';
import type { SearchDb } from './search-db.ts';

/** Documents fetched at once from S3 while listing. */
const FETCH_AHEAD = 8;
const BATCH = 500;

async function dirs(dir: string, pattern: RegExp): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && pattern.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
}

/** Raw keys of every archived message in an fs archive: names only, no file is read. */
async function* fsRawKeys(dir: string): AsyncIterable<string> {
  const root = join(dir, 'raw');
  for (const mailbox of await dirs(root, /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)) {
    if (!isValidMailboxId(mailbox)) continue;
    for (const y of await dirs(join(root, mailbox), /^\d{4}$/)) {
      for (const m of await dirs(join(root, mailbox, y), /^\d{2}$/)) {
        for (const d of await dirs(join(root, mailbox, y, m), /^\d{2}$/)) {
          let names: string[];
          try {
            names = (await readdir(join(root, mailbox, y, m, d))).filter((n) => n.endsWith('.eml')).sort();
          } catch (err) {
            if ((err as { code?: string }).code === 'ENOENT') continue;
            throw err;
          }
          for (const name of names) yield `raw/${mailbox}/${y}/${m}/${d}/${name}`;
        }
      }
    }
  }
}

async function* s3RawKeys(config: Extract<StoreConfig, { type: 's3' }>): AsyncIterable<string> {
  // Loaded only for an S3 store (the module imports the SDK statically, as the store's own modules do).
  const { s3RawKeys: list } = await import('./s3-raw-keys.ts');
  yield* list(config);
}

export function archiveRawKeys(config: StoreConfig): AsyncIterable<string> {
  return config.type === 'fs' ? fsRawKeys(config.dir) : s3RawKeys(config);
}

export interface ListingCatchUp {
  /** Metadata documents read from the archive. */
  readonly read: number;
  readonly written: number;
  /** Documents that could not be read or parsed (listed, then gone or corrupt). */
  readonly skipped: number;
}

/**
 * Indexes the documents of the archive that the index does not hold yet, found by listing the raw messages (S3,
 * or an fs store that publishes elsewhere than the local event log): a message is archived once and its
 * document written with it, so a raw key already indexed needs no second read, and a new one is read through
 * the store's own getMetadata, whatever layout the store keeps documents in. A message whose document is not
 * there yet is looked for again next time. With `all`, every document the store lists is read (a rebuild).
 */
export async function catchUpListing(
  index: SearchDb,
  store: RawStore,
  config: StoreConfig,
  options: {
    readonly all?: boolean;
    /** The caller holds a transaction already (a rebuild): write batches inside it. */
    readonly nested?: boolean;
    readonly signal?: AbortSignal;
    readonly onProgress?: (read: number) => void;
  } = {},
): Promise<ListingCatchUp> {
  // One indexed look-up per listed key rather than a set of every key: memory stays flat however large the archive.
  const known = (rawKey: string): boolean => index.get('SELECT 1 AS x FROM messages WHERE raw_key = ? LIMIT 1', rawKey) !== undefined;
  let read = 0;
  let written = 0;
  let skipped = 0;
  let batch: MetadataDocument[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const docs = batch;
    batch = [];
    written += options.nested ? upsertDocuments(index, docs) : index.transaction(() => upsertDocuments(index, docs));
    options.onProgress?.(read);
  };
  const pending: Array<Promise<MetadataDocument | null>> = [];
  const take = async (): Promise<void> => {
    // The fs store hands documents over as parsed JSON: checked here, so a damaged file is skipped, not indexed.
    const parsed = metadataDocumentSchema.safeParse(await pending.shift()!);
    if (!parsed.success) skipped++;
    else {
      read++;
      batch.push(parsed.data);
    }
    if (batch.length >= BATCH) flush();
  };
  if (options.all) {
    // A rebuild reads past a damaged document (counted as skipped, as the CLI reports) rather than stop at it.
    for await (const doc of store.listMetadata({ onDamaged: () => skipped++ })) {
      if (options.signal?.aborted) break;
      pending.push(Promise.resolve(doc));
      await take();
    }
  } else {
    for await (const rawKey of archiveRawKeys(config)) {
      if (options.signal?.aborted) break;
      if (parseRawKey(rawKey) === null || known(rawKey)) continue;
      const next = store.getMetadata(rawKey).catch(() => null);
      pending.push(next);
      if (pending.length >= FETCH_AHEAD) await take();
    }
  }
  while (pending.length > 0) await take();
  flush();
  return { read, written, skipped };
}
