import { readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { ensureDir, inDir, isErrno, keyToPath, toStoreError, writeDurableTemp } from '../fs/atomic.ts';
import { decodePack, orderPartitionNames } from './document-packs.ts';
import { assertMailboxId, MAILBOX_ID_PATTERN, parseRawKey } from './keys.ts';
import { ARCHIVE_LAYOUT } from './layout.ts';
import type { DocumentIo } from './metadata-buffer.ts';
import { PackedDocuments } from './packed-documents.ts';
import { StoreError } from './types.ts';
import type { MetadataQuery } from './types.ts';

export type Warn = (message: string, fields?: Record<string, unknown>) => void;

const isDocument = (v: unknown): v is MetadataDocument =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { id?: unknown }).id === 'string' &&
  typeof (v as { raw?: { key?: unknown } }).raw?.key === 'string';

export interface FsDocumentsOptions {
  readonly root: string;
  readonly tmpDir: string;
  readonly warn: Warn;
  /** A directory got a new entry whose name is not durable until the directory is fsynced (at the flush). */
  readonly touched: (dir: string) => void;
  /** Test hook: 'pack' before a pack is renamed into its partition. */
  readonly beforePack?: (paths: { temp: string; final: string }) => void | Promise<void>;
}

/** The metadata documents of the fs store: packs and legacy files in the partition directories (lib/store/document-packs.ts). */
export class FsDocuments extends PackedDocuments implements DocumentIo {
  readonly #o: FsDocumentsOptions;

  constructor(options: FsDocumentsOptions) {
    super();
    this.#o = options;
  }

  /** A temp file in tmp/ (same file system), fsynced, renamed into the partition; the directory is fsynced at the flush. */
  async writePack(partition: string, name: string, body: Buffer): Promise<void> {
    const final = keyToPath(this.#o.root, `${partition}${name}`);
    const dir = final.slice(0, final.lastIndexOf('/'));
    const what = `writing metadata pack ${partition}${name}`;
    const temp = await writeDurableTemp(body, this.#o.tmpDir).catch((err: unknown) => {
      throw toStoreError(err, what);
    });
    try {
      await this.#o.beforePack?.({ temp, final });
      await ensureDir(dir);
      await inDir(dir, () => rename(temp, final));
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw toStoreError(err, what);
    }
    this.#o.touched(dir);
  }

  /** One UIDL's document (by `id`), or without `id` the first document stored for `rawKey`. */
  get(rawKey: string, id?: string): Promise<MetadataDocument | null> {
    return this.find(rawKey, id);
  }

  /** Every document of a partition, once per id: legacy files first, then packs in the order they were written. */
  async *readPartition(partition: string, onDamaged?: MetadataQuery['onDamaged']): AsyncIterable<MetadataDocument> {
    const { legacy, packs } = orderPartitionNames(await this.names(partition));
    const seen = new Set<string>();
    for (const name of legacy) {
      let doc: MetadataDocument | null;
      try {
        doc = await this.readLegacy(`${partition}${name}`);
      } catch (err) {
        if (!(err instanceof StoreError) || err.retryable) throw err;
        this.#o.warn('skipping corrupt metadata file', { key: `${partition}${name}` });
        onDamaged?.(`${partition}${name}`, err.message);
        continue;
      }
      if (doc !== null && !seen.has(doc.id)) {
        seen.add(doc.id);
        yield doc;
      }
    }
    for (const name of packs) {
      for (const doc of await this.readPack(`${partition}${name}`, onDamaged)) {
        if (seen.has(doc.id)) continue;
        seen.add(doc.id);
        yield doc;
      }
    }
  }

  /** Mailboxes, then date partitions oldest first, as `raw/<mailbox>/<yyyy>/<mm>/<dd>/` folders. */
  async *list(query: MetadataQuery = {}): AsyncIterable<MetadataDocument> {
    const since = query.since === undefined ? null : dayKey(query.since);
    let mailboxes: string[];
    if (query.mailbox !== undefined) {
      assertMailboxId(query.mailbox);
      mailboxes = [query.mailbox];
    } else {
      mailboxes = await this.#dirs(join(this.#o.root, ARCHIVE_LAYOUT.raw), MAILBOX_ID_PATTERN);
    }
    for (const mailbox of mailboxes) {
      const mdir = join(this.#o.root, ARCHIVE_LAYOUT.raw, mailbox);
      for (const yyyy of await this.#dirs(mdir, /^\d{4}$/)) {
        if (since !== null && yyyy < since.slice(0, 4)) continue;
        for (const mm of await this.#dirs(join(mdir, yyyy), /^\d{2}$/)) {
          if (since !== null && `${yyyy}${mm}` < since.slice(0, 6)) continue;
          for (const dd of await this.#dirs(join(mdir, yyyy, mm), /^\d{2}$/)) {
            if (since !== null && `${yyyy}${mm}${dd}` < since) continue;
            yield* this.readPartition(`${ARCHIVE_LAYOUT.raw}${mailbox}/${yyyy}/${mm}/${dd}/`, query.onDamaged);
          }
        }
      }
    }
  }

  /** A legacy `<sha256>.json`: null when absent; a non-retryable EIO when it is not JSON. */
  protected async readLegacy(key: string): Promise<MetadataDocument | null> {
    let text: string;
    try {
      text = await readFile(keyToPath(this.#o.root, key), 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw toStoreError(err, `reading ${key}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new StoreError('EIO', `corrupt metadata file ${key}: not valid JSON`, { cause: err, retryable: false });
    }
    if (!isDocument(doc)) throw new StoreError('EIO', `corrupt metadata file ${key}: not a metadata document`, { retryable: false });
    return doc;
  }

  /** A pack's documents; a line that is not a document is skipped with a warning (the others still count). */
  protected async readPack(key: string, onDamaged?: MetadataQuery['onDamaged']): Promise<MetadataDocument[]> {
    let body: Buffer;
    try {
      body = await readFile(keyToPath(this.#o.root, key));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw toStoreError(err, `reading ${key}`);
    }
    const out: MetadataDocument[] = [];
    const values = decodePack(body, (line) => {
      this.#o.warn('skipping corrupt metadata line', { key, line });
      onDamaged?.(`${key} line ${line}`, 'not JSON');
    });
    values.forEach((v, i) => {
      if (isDocument(v)) out.push(v);
      else {
        this.#o.warn('skipping a line that is not a metadata document', { key, index: i });
        onDamaged?.(`${key} (document ${i + 1})`, 'not a metadata document');
      }
    });
    return out;
  }

  protected async names(partition: string, startsWith = ''): Promise<string[]> {
    if (parseRawKey(`${partition}${'0'.repeat(64)}.eml`) === null) throw new TypeError(`not a partition: ${JSON.stringify(partition)}`);
    return (await this.#entries(keyToPath(this.#o.root, partition.slice(0, -1))))
      .filter((e) => e.isFile() && e.name.startsWith(startsWith))
      .map((e) => e.name);
  }

  async #entries(dir: string) {
    try {
      return await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw toStoreError(err, `listing ${dir}`);
    }
  }

  async #dirs(dir: string, pattern: RegExp): Promise<string[]> {
    return (await this.#entries(dir))
      .filter((e) => e.isDirectory() && pattern.test(e.name))
      .map((e) => e.name)
      .sort();
  }
}

function dayKey(d: Date): string {
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}
