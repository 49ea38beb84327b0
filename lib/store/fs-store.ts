import { randomUUID } from 'node:crypto';
import { lstat, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { createFileExclusive, fsyncDir, isErrno, keyToPath, toStoreError, writeFileAtomic } from '../fs/atomic.ts';
import { FsDocuments, type Warn } from './fs-documents.ts';
import { FsStaged, type BeforeStep } from './fs-staged.ts';
import { assertMailboxId } from './keys.ts';
import { MetadataBuffer } from './metadata-buffer.ts';
import type { MetadataQuery, PutObjectOptions, PutObjectResult, RawStore, StagedRaw } from './types.ts';

export type { FsCommitStep } from './fs-staged.ts';

export interface FsRawStoreOptions {
  readonly dir: string;
  /** Corrupt metadata files met while listing, stale temp files removed, and the like. */
  readonly warn?: Warn;
  /** Temp files older than this are removed by `cleanupStaleTemp` (run once, on the first stage). @default 1 day */
  readonly staleTempMs?: number;
  /** Test hook, awaited before each commit and flush step; throwing simulates that step failing. */
  readonly beforeCommitStep?: BeforeStep;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The embedded-default raw archive: `<dir>/raw/<mailbox>/<yyyy>/<mm>/<dd>/<sha256>.eml`, with the metadata
 * documents of each partition in packs beside the messages (lib/store/document-packs.ts), staged through
 * `<dir>/tmp/` on the same file system.
 *
 * Durability: a commit fsyncs the message's bytes before it links them under their key; `flush()` writes the
 * pending documents (one fsynced file per partition) and fsyncs each directory that got new entries, once. Until
 * then a power loss may forget a name, never leave half a file under it; the pipeline flushes before it commits the
 * state, so nothing is deleted from a server on the strength of a name that is not durable.
 */
export class FsRawStore implements RawStore {
  readonly kind = 'fs' as const;
  readonly location: string;
  /** Keys are relative to `location`, with no prefix: the directory itself is the namespace. */
  readonly keyPrefix = '';
  readonly tmpDir: string;
  readonly #warn: Warn;
  readonly #staleTempMs: number;
  readonly #beforeStep: BeforeStep | undefined;
  readonly #documents: FsDocuments;
  readonly #buffer: MetadataBuffer;
  /** Directories with entries created since the last flush. */
  #dirty = new Set<string>();
  #flushTail: Promise<void> = Promise.resolve();
  /** Temp files of finished commits still being removed (fs-staged.ts); a flush waits for them. */
  readonly #removals = new Set<Promise<void>>();
  #cleanup: Promise<unknown> | null = null;

  constructor(options: FsRawStoreOptions) {
    this.location = resolve(options.dir);
    this.tmpDir = join(this.location, 'tmp');
    this.#warn = options.warn ?? (() => {});
    this.#staleTempMs = options.staleTempMs ?? DAY_MS;
    this.#beforeStep = options.beforeCommitStep;
    const beforeStep = this.#beforeStep;
    this.#documents = new FsDocuments({
      root: this.location,
      tmpDir: this.tmpDir,
      warn: this.#warn,
      touched: (dir) => this.#dirty.add(dir),
      ...(beforeStep === undefined ? {} : { beforePack: (paths: { temp: string; final: string }) => beforeStep('pack', paths) }),
    });
    this.#buffer = new MetadataBuffer(this.#documents);
  }

  /**
   * Removes temp files left by crashed runs (a kill -9 between stage and commit). Only old ones: a younger file
   * may belong to a run in progress in another process.
   */
  async cleanupStaleTemp(now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return 0;
      throw toStoreError(err, `listing ${this.tmpDir}`);
    }
    let removed = 0;
    for (const name of names) {
      const p = join(this.tmpDir, name);
      try {
        const st = await lstat(p);
        if (st.isFile() && now - st.mtimeMs > this.#staleTempMs) {
          await unlink(p);
          removed++;
        }
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) this.#warn('could not remove stale temp file', { path: p, code: (err as { code?: string }).code });
      }
    }
    if (removed > 0) this.#warn('removed stale temp files', { count: removed, dir: this.tmpDir });
    return removed;
  }

  async stage(mailbox: string): Promise<StagedRaw> {
    assertMailboxId(mailbox);
    this.#cleanup ??= this.cleanupStaleTemp().catch((err: unknown) => {
      this.#warn('stale temp cleanup failed', { error: err instanceof Error ? err.message : String(err) });
    });
    return new FsStaged(
      {
        location: this.location,
        tmpDir: this.tmpDir,
        ...(this.#beforeStep === undefined ? {} : { beforeStep: this.#beforeStep }),
        created: (key, dir) => {
          this.#dirty.add(dir);
          this.#buffer.markFresh(key);
        },
        removing: (done) => {
          this.#removals.add(done);
          void done.then(() => this.#removals.delete(done));
        },
      },
      join(this.tmpDir, `${mailbox}.${randomUUID()}.part`),
    );
  }

  async exists(key: string): Promise<boolean> {
    const path = keyToPath(this.location, key);
    try {
      await lstat(path);
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw toStoreError(err, `checking ${key}`);
    }
  }

  async getRaw(key: string): Promise<Readable> {
    const path = keyToPath(this.location, key);
    try {
      // Opened here so a missing file rejects getRaw itself rather than surfacing later as a stream error.
      const fh = await open(path, 'r');
      return fh.createReadStream();
    } catch (err) {
      throw toStoreError(err, `reading ${key}`);
    }
  }

  async putMetadata(doc: MetadataDocument): Promise<void> {
    keyToPath(this.location, doc.raw.key);
    this.#buffer.add(doc);
  }

  flush(): Promise<void> {
    // One flush at a time, each covering what came before it; a failed one leaves its work to the next.
    const run = this.#flushTail.catch(() => undefined).then(() => this.#flushNow());
    this.#flushTail = run;
    return run;
  }

  /** Resolves once the temp files of the commits made so far are removed (or left for cleanupStaleTemp). */
  async tempFilesRemoved(): Promise<void> {
    await Promise.all(this.#removals);
  }

  async #flushNow(): Promise<void> {
    await this.tempFilesRemoved();
    await this.#buffer.flush();
    const dirs = this.#dirty;
    this.#dirty = new Set();
    try {
      for (const dir of dirs) await this.#beforeStep?.('fsync-dir', { temp: '', final: dir });
      await Promise.all([...dirs].map((dir) => fsyncDir(dir)));
    } catch (err) {
      for (const dir of dirs) this.#dirty.add(dir);
      throw toStoreError(err, 'syncing directories');
    }
  }

  getMetadata(rawKey: string, id?: string): Promise<MetadataDocument | null> {
    keyToPath(this.location, rawKey);
    return this.#documents.get(rawKey, id);
  }

  listMetadata(query: MetadataQuery = {}): AsyncIterable<MetadataDocument> {
    return this.#documents.list(query);
  }

  async putObject(key: string, body: Buffer | string, _contentType?: string, options: PutObjectOptions = {}): Promise<PutObjectResult> {
    const path = keyToPath(this.location, key);
    try {
      if (options.ifAbsent === true) {
        const existing = await createFileExclusive(path, body, this.tmpDir);
        return existing === null ? { key } : { key, existing };
      }
      await writeFileAtomic(path, body, this.tmpDir);
    } catch (err) {
      throw toStoreError(err, `writing ${key}`);
    }
    return { key };
  }

  async getObject(key: string): Promise<Buffer | null> {
    try {
      return await readFile(keyToPath(this.location, key));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw toStoreError(err, `reading ${key}`);
    }
  }
}
