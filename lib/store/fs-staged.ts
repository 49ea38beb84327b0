import { createHash } from 'node:crypto';
import { closeSync, fsync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { link, lstat, open, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { ensureDir, FILE_MODE, hashFile, inDir, isErrno, keyToPath, mkdirDurable, toStoreError } from '../fs/atomic.ts';
import { StoreError } from './types.ts';
import type { CommitResult, StagedRaw } from './types.ts';

/** Steps of a commit (and of a flush: 'pack', 'fsync-dir') at which tests can inject a failure to prove atomicity. */
export type FsCommitStep = 'fsync' | 'mkdir' | 'link' | 'pack' | 'fsync-dir';

export type BeforeStep = (step: FsCommitStep, paths: { temp: string; final: string }) => void | Promise<void>;

/** What a staged write needs from its store. */
export interface FsStagedContext {
  readonly location: string;
  readonly tmpDir: string;
  readonly beforeStep?: BeforeStep;
  /** The commit created `key` in `dir`: the directory entry becomes durable at the store's next flush. */
  created(key: string, dir: string): void;
}

/**
 * Up to this size a staged message stays in memory until commit (most mail is a few KB); larger ones stream to
 * their temp file as they arrive.
 */
const IN_MEMORY_MAX = 256 * 1024;
const fsyncFd = promisify(fsync);

/**
 * One staged message: bytes are hashed as they are taken and go to a private temp file in tmp/ on the same file
 * system. Commit fsyncs the file and hard-links it to its key: the bytes are durable when commit resolves, the name
 * once the store flushes (one directory fsync per checkpoint, not one per message). There is no read-back: it would
 * hash the page cache, not the disk; the hash taken while writing is the check (`mail-ingest verify` re-reads the
 * archive for audits).
 *
 * A small message is written at commit, and the calls that only touch the page cache (open, write, close, link,
 * unlink: microseconds on a local disk) are made directly, so that the one call that waits for the disk, fsync, is
 * the message's only trip through the thread pool: six round trips per message cost more than the disk does.
 */
export class FsStaged implements StagedRaw {
  readonly writable: Writable;
  readonly #ctx: FsStagedContext;
  readonly #temp: string;
  readonly #hash = createHash('sha256');
  #chunks: Buffer[] = [];
  #size = 0;
  /** Set once the message outgrew memory and streams to its temp file. */
  #fh: FileHandle | null = null;
  #created = false;
  #closed = false;
  #done = false;

  constructor(ctx: FsStagedContext, temp: string) {
    this.#ctx = ctx;
    this.#temp = temp;
    this.writable = new Writable({
      highWaterMark: 1 << 20,
      // Chunks go to the file as they are (writev): no copy of a large message into bigger buffers on the way.
      writev: (chunks, cb) => {
        this.#append(chunks.map((c) => c.chunk as Buffer)).then(() => cb(), (err: unknown) => cb(toStoreError(err, 'writing staged message')));
      },
      write: (chunk: Buffer, _enc, cb) => {
        this.#append([chunk]).then(() => cb(), (err: unknown) => cb(toStoreError(err, 'writing staged message')));
      },
    });
  }

  async #append(bufs: Buffer[]): Promise<void> {
    if (this.#done) throw new StoreError('EIO', 'staged write already committed or aborted');
    const size = bufs.reduce((n, b) => n + b.length, 0);
    if (this.#fh === null && this.#size + size <= IN_MEMORY_MAX) {
      this.#chunks.push(...bufs);
    } else {
      if (this.#fh === null) {
        this.#fh = await inDir(this.#ctx.tmpDir, () => open(this.#temp, 'wx', FILE_MODE));
        this.#created = true;
        await writeAll(this.#fh, this.#chunks);
        this.#chunks = [];
      }
      await writeAll(this.#fh, bufs);
    }
    // Hash only what was taken: the store's own account of the bytes, independent of the caller's.
    for (const b of bufs) this.#hash.update(b);
    this.#size += size;
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#fh?.close().catch(() => {});
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
      if (this.#fh === null) await this.#writeSmall();
      else await this.#fh.sync();
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
      this.#chunks = [];
      await this.#close();
      this.#removeTemp();
    }
  }

  /** The in-memory bytes to the temp file, fsynced; only the fsync goes through the thread pool. */
  async #writeSmall(): Promise<void> {
    await ensureDir(this.#ctx.tmpDir);
    let fd: number;
    try {
      fd = openSync(this.#temp, 'wx', FILE_MODE);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      // tmp/ was removed under a long-running process: make it again (inDir does the same for the async calls).
      await mkdirDurable(this.#ctx.tmpDir);
      fd = openSync(this.#temp, 'wx', FILE_MODE);
    }
    this.#created = true;
    try {
      for (const chunk of this.#chunks) {
        for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, chunk.length - off);
      }
      await fsyncFd(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Puts the temp file at `final`; null when it did, else the hash of what is there already (never replaced). */
  async #place(final: string): Promise<{ sha256: string; size: number } | null> {
    // link(2) fails with EEXIST instead of replacing: no window in which an existing object can be overwritten.
    try {
      try {
        linkSync(this.#temp, final);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
        await inDir(dirname(final), () => link(this.#temp, final));
      }
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

  #removeTemp(): void {
    if (!this.#created) return;
    this.#created = false;
    try {
      unlinkSync(this.#temp);
    } catch {
      // Gone already (renamed into place), or left for cleanupStaleTemp.
    }
  }

  async abort(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      if (!this.writable.destroyed) this.writable.destroy();
    }
    this.#chunks = [];
    await this.#close();
    this.#removeTemp();
  }
}

/** writev until every byte is written (a single writev(2) may be partial). */
async function writeAll(fh: FileHandle, bufs: readonly Buffer[]): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await fh.writev(rest);
    const next: Buffer[] = [];
    for (const b of rest) {
      if (bytesWritten >= b.length) { bytesWritten -= b.length; continue; }
      next.push(bytesWritten > 0 ? b.subarray(bytesWritten) : b);
      bytesWritten = 0;
    }
    rest = next;
  }
}
