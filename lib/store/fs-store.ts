import { createHash, randomUUID } from 'node:crypto';
import { link, lstat, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import {
  FILE_MODE, ensureDir, fsyncDir, hashFile, inDir, isErrno, keyToPath, toStoreError, writeFileAtomic, writeFully,
} from '../fs/atomic.ts';
import { assertMailboxId, metadataKeyFor } from './keys.ts';
import { StoreError } from './types.ts';
import type { CommitResult, MetadataQuery, RawStore, StagedRaw } from './types.ts';
import { ARCHIVE_LAYOUT } from './layout.ts';

/** Steps of a commit at which tests can inject a failure (or tamper with the files) to prove atomicity. */
export type FsCommitStep = 'fsync' | 'mkdir' | 'link' | 'fsync-dir' | 'verify';

export interface FsRawStoreOptions {
  readonly dir: string;
  /** Corrupt metadata files met while listing, stale temp files removed, and the like. */
  readonly warn?: (message: string, fields?: Record<string, unknown>) => void;
  /** Temp files older than this are removed by `cleanupStaleTemp` (run once, on the first stage). @default 1 day */
  readonly staleTempMs?: number;
  /** Test hook, awaited before each commit step; throwing simulates that step failing. */
  readonly beforeCommitStep?: (step: FsCommitStep, paths: { temp: string; final: string }) => void | Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The embedded-default raw archive: `<dir>/raw/<mailbox>/<yyyy>/<mm>/<dd>/<sha256>.eml` with the metadata JSON
 * beside each message, staged through `<dir>/tmp/` on the same file system.
 */
export class FsRawStore implements RawStore {
  readonly kind = 'fs' as const;
  readonly location: string;
  /** Keys are relative to `location`, with no prefix: the directory itself is the namespace. */
  readonly keyPrefix = '';
  readonly tmpDir: string;
  readonly #warn: (message: string, fields?: Record<string, unknown>) => void;
  readonly #staleTempMs: number;
  readonly #beforeStep: FsRawStoreOptions['beforeCommitStep'];
  #cleanup: Promise<unknown> | null = null;

  constructor(options: FsRawStoreOptions) {
    this.location = resolve(options.dir);
    this.tmpDir = join(this.location, 'tmp');
    this.#warn = options.warn ?? (() => {});
    this.#staleTempMs = options.staleTempMs ?? DAY_MS;
    this.#beforeStep = options.beforeCommitStep;
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
    let fh: FileHandle;
    const temp = join(this.tmpDir, `${mailbox}.${randomUUID()}.part`);
    try {
      fh = await inDir(this.tmpDir, () => open(temp, 'wx', FILE_MODE));
    } catch (err) {
      throw toStoreError(err, 'creating a staging file');
    }
    return new FsStaged(this, fh, temp, this.#beforeStep);
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
    const key = metadataKeyFor(doc.raw.key);
    try {
      await writeFileAtomic(keyToPath(this.location, key), `${JSON.stringify(doc, null, 2)}\n`, this.tmpDir);
    } catch (err) {
      throw toStoreError(err, `writing metadata ${key}`);
    }
  }

  async getMetadata(rawKey: string): Promise<MetadataDocument | null> {
    const key = metadataKeyFor(rawKey);
    const text = await this.#readOptional(key);
    if (text === null) return null;
    try {
      return JSON.parse(text.toString('utf8')) as MetadataDocument;
    } catch (err) {
      throw new StoreError('EIO', `corrupt metadata file ${key}: not valid JSON`, { cause: err, retryable: false });
    }
  }

  async *listMetadata(query: MetadataQuery = {}): AsyncIterable<MetadataDocument> {
    const since = query.since === undefined ? null : dayKey(query.since);
    let mailboxes: string[];
    if (query.mailbox !== undefined) {
      assertMailboxId(query.mailbox);
      mailboxes = [query.mailbox];
    } else {
      mailboxes = await this.#dirs(join(this.location, 'raw'), /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
    }
    for (const mailbox of mailboxes) {
      const mdir = join(this.location, 'raw', mailbox);
      for (const yyyy of await this.#dirs(mdir, /^\d{4}$/)) {
        if (since !== null && yyyy < since.slice(0, 4)) continue;
        for (const mm of await this.#dirs(join(mdir, yyyy), /^\d{2}$/)) {
          if (since !== null && `${yyyy}${mm}` < since.slice(0, 6)) continue;
          for (const dd of await this.#dirs(join(mdir, yyyy, mm), /^\d{2}$/)) {
            if (since !== null && `${yyyy}${mm}${dd}` < since) continue;
            const ddir = join(mdir, yyyy, mm, dd);
            const files = (await this.#entries(ddir)).filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => e.name).sort();
            for (const name of files) {
              const key = `${ARCHIVE_LAYOUT.raw}${mailbox}/${yyyy}/${mm}/${dd}/${name}`;
              let text: string;
              try {
                text = await readFile(join(ddir, name), 'utf8');
              } catch (err) {
                if (isErrno(err, 'ENOENT')) continue;
                throw toStoreError(err, `reading ${key}`);
              }
              try {
                yield JSON.parse(text) as MetadataDocument;
              } catch {
                this.#warn('skipping corrupt metadata file', { key });
              }
            }
          }
        }
      }
    }
  }

  async putObject(key: string, body: Buffer | string): Promise<{ key: string }> {
    try {
      await writeFileAtomic(keyToPath(this.location, key), body, this.tmpDir);
    } catch (err) {
      throw toStoreError(err, `writing ${key}`);
    }
    return { key };
  }

  async getObject(key: string): Promise<Buffer | null> {
    return this.#readOptional(key);
  }

  async #readOptional(key: string): Promise<Buffer | null> {
    try {
      return await readFile(keyToPath(this.location, key));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw toStoreError(err, `reading ${key}`);
    }
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
    return (await this.#entries(dir)).filter((e) => e.isDirectory() && pattern.test(e.name)).map((e) => e.name).sort();
  }
}

function dayKey(d: Date): string {
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** One staged message: bytes go to a private temp file and are hashed as they are written. */
class FsStaged implements StagedRaw {
  readonly writable: Writable;
  readonly #store: FsRawStore;
  readonly #fh: FileHandle;
  readonly #temp: string;
  readonly #beforeStep: FsRawStoreOptions['beforeCommitStep'];
  readonly #hash = createHash('sha256');
  #size = 0;
  #closed = false;
  #done = false;

  constructor(store: FsRawStore, fh: FileHandle, temp: string, beforeStep: FsRawStoreOptions['beforeCommitStep']) {
    this.#store = store;
    this.#fh = fh;
    this.#temp = temp;
    this.#beforeStep = beforeStep;
    this.writable = new Writable({
      highWaterMark: 1 << 20,
      writev: (chunks, cb) => {
        const bufs = chunks.map((c) => c.chunk as Buffer);
        this.#append(Buffer.concat(bufs)).then(() => cb(), (err: unknown) => cb(toStoreError(err, 'writing staged message')));
      },
      write: (chunk: Buffer, _enc, cb) => {
        this.#append(chunk).then(() => cb(), (err: unknown) => cb(toStoreError(err, 'writing staged message')));
      },
    });
  }

  async #append(buf: Buffer): Promise<void> {
    if (this.#done) throw new StoreError('EIO', 'staged write already committed or aborted');
    await writeFully(this.#fh, buf);
    // Hash only what reached the file: the store's own account of the bytes, independent of the caller's.
    this.#hash.update(buf);
    this.#size += buf.length;
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#fh.close().catch(() => {});
  }

  async #step(step: FsCommitStep, final: string): Promise<void> {
    if (this.#beforeStep !== undefined) await this.#beforeStep(step, { temp: this.#temp, final });
  }

  async commit(key: string, expected: { readonly sha256: string; readonly size: number }): Promise<CommitResult> {
    if (this.#done) throw new StoreError('EIO', 'staged write already committed or aborted', { retryable: false });
    // A commit consumes the staged bytes whether it succeeds or not: the temp file is always removed.
    this.#done = true;
    let final: string | null = null;
    let linked = false;
    try {
      final = keyToPath(this.#store.location, key);
      if (!this.writable.writableFinished) {
        throw new StoreError('EIO', 'commit called before the staged writable finished', { retryable: false });
      }
      const own = { sha256: this.#hash.digest('hex'), size: this.#size };
      if (own.sha256 !== expected.sha256 || own.size !== expected.size) {
        throw new StoreError('EVERIFY', `staged bytes do not match: expected ${expected.size} bytes sha256 ${expected.sha256}, wrote ${own.size} bytes sha256 ${own.sha256}`);
      }
      await this.#step('fsync', final);
      await this.#fh.sync();
      await this.#close();
      await this.#step('mkdir', final);
      const target = final;
      await ensureDir(dirname(target));
      await this.#step('link', target);
      // link(2) fails with EEXIST instead of replacing: no window in which an existing object can be overwritten.
      try {
        await inDir(dirname(target), () => link(this.#temp, target));
        linked = true;
      } catch (err) {
        if (isErrno(err, 'EEXIST')) {
          const existing = await hashFile(final);
          if (existing.sha256 === own.sha256 && existing.size === own.size) {
            return { key, size: own.size, sha256: own.sha256, existed: true };
          }
          throw new StoreError('ECONFLICT', `a different object is already stored at ${key} (sha256 ${existing.sha256}); not overwritten`, { retryable: false });
        }
        if (!isErrno(err, 'EPERM') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'ENOSYS') && !isErrno(err, 'EOPNOTSUPP')) throw err;
        // No hard links on this file system: check, then rename. The window between the two can only matter to
        // two writers of the same content-addressed key, which write the same bytes.
        try {
          await lstat(final);
          const existing = await hashFile(final);
          if (existing.sha256 === own.sha256 && existing.size === own.size) return { key, size: own.size, sha256: own.sha256, existed: true };
          throw new StoreError('ECONFLICT', `a different object is already stored at ${key} (sha256 ${existing.sha256}); not overwritten`, { retryable: false });
        } catch (e) {
          if (!isErrno(e, 'ENOENT')) throw e;
        }
        await rename(this.#temp, final);
        linked = true;
      }
      await this.#step('fsync-dir', final);
      await fsyncDir(dirname(final));
      await this.#step('verify', final);
      const stored = await hashFile(final);
      if (stored.sha256 !== own.sha256 || stored.size !== own.size) {
        throw new StoreError('EVERIFY', `stored file ${key} does not read back as written: ${stored.size} bytes sha256 ${stored.sha256}`);
      }
      return { key, size: own.size, sha256: own.sha256, existed: false };
    } catch (err) {
      if (linked && final !== null) {
        // We created the file at `key` and could not make it durable and verified: take it back, so a failed
        // commit never leaves anything at the key.
        await unlink(final).catch(() => {});
        await fsyncDir(dirname(final)).catch(() => {});
      }
      throw toStoreError(err, `committing ${key}`);
    } finally {
      await this.#close();
      await unlink(this.#temp).catch(() => {});
    }
  }

  async abort(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      if (!this.writable.destroyed) this.writable.destroy();
    }
    await this.#close();
    await unlink(this.#temp).catch(() => {});
  }
}
