import { createHash } from 'node:crypto';
import { link, lstat, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { ensureDir, hashFile, inDir, isErrno, keyToPath, toStoreError, writeFully } from '../fs/atomic.ts';
import { StoreError } from './types.ts';
import type { CommitResult, StagedRaw } from './types.ts';

/** Steps of a commit (and of a flush: 'pack', 'fsync-dir') at which tests can inject a failure to prove atomicity. */
export type FsCommitStep = 'fsync' | 'mkdir' | 'link' | 'pack' | 'fsync-dir';

export type BeforeStep = (step: FsCommitStep, paths: { temp: string; final: string }) => void | Promise<void>;

/** What a staged write needs from its store. */
export interface FsStagedContext {
  readonly location: string;
  readonly beforeStep?: BeforeStep;
  /** The commit created `key` in `dir`: the directory entry becomes durable at the store's next flush. */
  created(key: string, dir: string): void;
}

/**
 * One staged message: bytes go to a private temp file and are hashed as they are written. Commit fsyncs the file
 * and hard-links it to its key: the bytes are durable when commit resolves, the name once the store flushes (one
 * directory fsync per checkpoint, not one per message). There is no read-back: it would hash the page cache, not
 * the disk; the hash taken while writing is the check (`mail-ingest verify` re-reads the archive for audits).
 */
export class FsStaged implements StagedRaw {
  readonly writable: Writable;
  readonly #ctx: FsStagedContext;
  readonly #fh: FileHandle;
  readonly #temp: string;
  readonly #hash = createHash('sha256');
  #size = 0;
  #closed = false;
  #done = false;

  constructor(ctx: FsStagedContext, fh: FileHandle, temp: string) {
    this.#ctx = ctx;
    this.#fh = fh;
    this.#temp = temp;
    this.writable = new Writable({
      highWaterMark: 1 << 20,
      writev: (chunks, cb) => {
        const bufs = chunks.map((c) => c.chunk as Buffer);
        this.#append(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs)).then(() => cb(), (err: unknown) => cb(toStoreError(err, 'writing staged message')));
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
    if (this.#ctx.beforeStep !== undefined) await this.#ctx.beforeStep(step, { temp: this.#temp, final });
  }

  async commit(key: string, expected: { readonly sha256: string; readonly size: number }): Promise<CommitResult> {
    if (this.#done) throw new StoreError('EIO', 'staged write already committed or aborted', { retryable: false });
    // A commit consumes the staged bytes whether it succeeds or not: the temp file is always removed.
    this.#done = true;
    try {
      const final = keyToPath(this.#ctx.location, key);
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
      const dir = dirname(final);
      await ensureDir(dir);
      await this.#step('link', final);
      const existing = await this.#place(final);
      if (existing !== null) {
        if (existing.sha256 === own.sha256 && existing.size === own.size) return { key, size: own.size, sha256: own.sha256, existed: true };
        throw new StoreError('ECONFLICT', `a different object is already stored at ${key} (sha256 ${existing.sha256}); not overwritten`, { retryable: false });
      }
      this.#ctx.created(key, dir);
      return { key, size: own.size, sha256: own.sha256, existed: false };
    } catch (err) {
      throw toStoreError(err, `committing ${key}`);
    } finally {
      await this.#close();
      await unlink(this.#temp).catch(() => {});
    }
  }

  /** Puts the temp file at `final`; null when it did, else the hash of what is there already (never replaced). */
  async #place(final: string): Promise<{ sha256: string; size: number } | null> {
    // link(2) fails with EEXIST instead of replacing: no window in which an existing object can be overwritten.
    try {
      await inDir(dirname(final), () => link(this.#temp, final));
      return null;
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return hashFile(final);
      if (!isErrno(err, 'EPERM') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'ENOSYS') && !isErrno(err, 'EOPNOTSUPP')) throw err;
    }
    // No hard links on this file system: check, then rename. The window between the two can only matter to two
    // writers of the same content-addressed key, which write the same bytes.
    try {
      await lstat(final);
      return await hashFile(final);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    await rename(this.#temp, final);
    return null;
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
