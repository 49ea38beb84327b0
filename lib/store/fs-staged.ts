import { createHash } from 'node:crypto';
import { closeSync, fsync, lstatSync, open, renameSync, unlink, writeSync, writev } from 'node:fs';
import { rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { ensureDir, FILE_MODE, hashFile, inDir, isErrno, keyToPath, toStoreError } from '../fs/atomic.ts';
import { StoreError } from './types.ts';
import type { CommitResult, StagedRaw } from './types.ts';

/** Steps of a commit (and of a flush: 'pack', 'fsync-dir') at which tests can inject a failure to prove atomicity. */
export type FsCommitStep = 'fsync' | 'mkdir' | 'place' | 'pack' | 'fsync-dir';

export type BeforeStep = (step: FsCommitStep, paths: { temp: string; final: string }) => void | Promise<void>;

/** What a staged write needs from its store. */
export interface FsStagedContext {
  readonly location: string;
  readonly tmpDir: string;
  readonly beforeStep?: BeforeStep;
  /** The commit created `key` in `dir`: the directory entry becomes durable at the store's next flush. */
  created(key: string, dir: string): void;
  /** A temp file being removed in the background: the store's next flush waits for it. */
  removing(done: Promise<void>): void;
}

/**
 * Up to this size a staged message stays in memory until commit (most mail is a few KB); larger ones stream to
 * their temp file as they arrive.
 */
const IN_MEMORY_MAX = 256 * 1024;
const fsyncFd = promisify(fsync);
const openFd = promisify(open) as (path: string, flags: string, mode: number) => Promise<number>;
const writevFd = promisify(writev);

/**
 * One staged message: bytes are hashed as they are taken and go to a private temp file in tmp/ on the same file
 * system. Commit fsyncs the file and renames it to its key: the bytes are durable when commit resolves, the name
 * once the store flushes (one directory fsync per checkpoint, not one per message). There is no read-back: it would
 * hash the page cache, not the disk; the hash taken while writing is the check (`mail-ingest verify` re-reads the
 * archive for audits).
 *
 * The temp file is opened through the thread pool as soon as the message is staged (creating an inode waits for the
 * file system's journal, which concurrent fsyncs hold), so it is ready by commit. A small message is written at
 * commit, and the calls that only touch the page cache (write, close, rename: microseconds) are made directly, so
 * that besides the open the one call that waits for the disk, fsync, is the message's only trip through the pool:
 * six round trips per message cost more than the disk does. Only a temp file that is not committed is removed.
 */
export class FsStaged implements StagedRaw {
  readonly writable: Writable;
  readonly #ctx: FsStagedContext;
  readonly #temp: string;
  readonly #hash = createHash('sha256');
  #chunks: Buffer[] = [];
  #size = 0;
  /** The temp file's descriptor, opening since the message was staged. */
  readonly #fd: Promise<number>;
  #created = false;
  /** Set once the message outgrew memory and streams to its temp file. */
  #streaming = false;
  #closed = false;
  #done = false;

  constructor(ctx: FsStagedContext, temp: string) {
    this.#ctx = ctx;
    this.#temp = temp;
    this.#fd = inDir(ctx.tmpDir, () => openFd(temp, 'wx', FILE_MODE)).then((fd) => {
      this.#created = true;
      return fd;
    });
    // Observed by the first write, commit or abort; never an unhandled rejection on its own.
    this.#fd.catch(() => undefined);
    this.writable = new Writable({
      highWaterMark: 1 << 20,
      // Chunks go to the file as they are (writev): no copy of a large message into bigger buffers on the way.
      writev: (chunks, cb) => {
        this.#append(chunks.map((c) => c.chunk as Buffer)).then(
          () => cb(),
          (err: unknown) => cb(toStoreError(err, 'writing staged message')),
        );
      },
      write: (chunk: Buffer, _enc, cb) => {
        this.#append([chunk]).then(
          () => cb(),
          (err: unknown) => cb(toStoreError(err, 'writing staged message')),
        );
      },
    });
  }

  async #append(bufs: Buffer[]): Promise<void> {
    if (this.#done) throw new StoreError('EIO', 'staged write already committed or aborted');
    const size = bufs.reduce((n, b) => n + b.length, 0);
    if (!this.#streaming && this.#size + size <= IN_MEMORY_MAX) {
      this.#chunks.push(...bufs);
    } else {
      const fd = await this.#fd;
      if (!this.#streaming) {
        this.#streaming = true;
        await writeAll(fd, this.#chunks);
        this.#chunks = [];
      }
      await writeAll(fd, bufs);
    }
    // Hash only what was taken: the store's own account of the bytes, independent of the caller's.
    for (const b of bufs) this.#hash.update(b);
    this.#size += size;
  }

  /** Closes the temp file (if it was opened at all); safe to call more than once. */
  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const fd = await this.#fd.catch(() => null);
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
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
        throw new StoreError(
          'EVERIFY',
          `staged bytes do not match: expected ${expected.size} bytes sha256 ${expected.sha256}, wrote ${own.size} bytes sha256 ${own.sha256}`,
        );
      }
      await this.#step('fsync', final);
      const fd = await this.#fd;
      if (!this.#streaming) writeChunks(fd, this.#chunks);
      await fsyncFd(fd);
      await this.#close();
      await this.#step('mkdir', final);
      const dir = dirname(final);
      await ensureDir(dir);
      await this.#step('place', final);
      const existing = await this.#place(final);
      if (existing !== null) {
        if (existing.sha256 === own.sha256 && existing.size === own.size) return { key, size: own.size, sha256: own.sha256, existed: true };
        throw new StoreError('ECONFLICT', `a different object is already stored at ${key} (sha256 ${existing.sha256}); not overwritten`, {
          retryable: false,
        });
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

  /**
   * Puts the temp file at `final`; null when it did, else the hash of what is there already (never replaced).
   *
   * Renamed, not hard-linked and then unlinked: ext4 passes over every inode freed in the last few minutes when it
   * allocates one (recently_deleted), so removing a temp file per message made each later create scan past all of
   * them, about a fifth of a small-mail run's CPU (in the kernel, under the store's opens). rename(2) would replace
   * an object already there, so that is checked first: between the check and the rename only another writer of the
   * same content-addressed key can come, and it writes the same bytes.
   */
  async #place(final: string): Promise<{ sha256: string; size: number } | null> {
    if (lstatSync(final, { throwIfNoEntry: false }) !== undefined) return hashFile(final);
    try {
      renameSync(this.#temp, final);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      await inDir(dirname(final), () => rename(this.#temp, final));
    }
    this.#created = false; // moved into place: nothing left to remove
    return null;
  }

  /**
   * After #close, which waits for the open to settle: `#created` then says whether there is a file to remove (none
   * once it was renamed into place).
   * Through the thread pool, not awaited by the commit: removing a directory entry waits for the file system's
   * journal, which the concurrent fsyncs keep busy (a direct unlink held the event loop about 0.2 ms per message
   * on ext4). The store's flush waits for it; a temp file a crash leaves is cleanupStaleTemp's.
   */
  #removeTemp(): void {
    if (!this.#created) return;
    this.#created = false;
    // ENOENT: gone already; anything else leaves it for cleanupStaleTemp.
    this.#ctx.removing(new Promise<void>((resolve) => unlink(this.#temp, () => resolve())));
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

/** The in-memory chunks to the file, directly: page-cache writes of a few KB. */
function writeChunks(fd: number, chunks: readonly Buffer[]): void {
  for (const chunk of chunks) {
    for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
  }
}

/** writev until every byte is written (a single writev(2) may be partial). */
async function writeAll(fd: number, bufs: readonly Buffer[]): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await writevFd(fd, rest);
    const next: Buffer[] = [];
    for (const b of rest) {
      if (bytesWritten >= b.length) {
        bytesWritten -= b.length;
        continue;
      }
      next.push(bytesWritten > 0 ? b.subarray(bytesWritten) : b);
      bytesWritten = 0;
    }
    rest = next;
  }
}
