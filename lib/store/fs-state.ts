import { createHash, randomUUID } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FILE_MODE, fsyncDir, isErrno, mkdirDurable, toStoreError, writeFully } from '../fs/atomic.ts';
import { assertMailboxId } from './keys.ts';
import { decodeState, emptyState } from './state-format.ts';
import { StoreError } from './types.ts';
import type { MailboxState, StateStore, VersionedState } from './types.ts';
import { ARCHIVE_LAYOUT } from './layout.ts';
import { acquireLockFile } from '../fs/lock-file.ts';

export interface FsStateStoreOptions {
  readonly dir: string;
  /** A lock file older than this is taken as left by a crashed writer. The lock is held for milliseconds. @default 30000 */
  readonly staleLockMs?: number;
  /** How long a writer waits for the lock before giving up with a retryable EIO. @default 10000 */
  readonly lockWaitMs?: number;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Per-mailbox state as `<dir>/state/<mailbox>.json`, replaced atomically. The version is the SHA-256 of the file's
 * bytes, so any change by anyone (another process, an operator's editor) is detected by compare-and-set.
 */
export class FsStateStore implements StateStore {
  readonly dir: string;
  readonly #staleLockMs: number;
  readonly #lockWaitMs: number;

  constructor(options: FsStateStoreOptions) {
    this.dir = join(resolve(options.dir), ARCHIVE_LAYOUT.state.slice(0, -1));
    this.#staleLockMs = options.staleLockMs ?? 30_000;
    this.#lockWaitMs = options.lockWaitMs ?? 10_000;
  }

  pathFor(mailbox: string): string {
    assertMailboxId(mailbox);
    return join(this.dir, `${mailbox}.json`);
  }

  async read(mailbox: string): Promise<VersionedState> {
    const current = await this.#readCurrent(mailbox);
    if (current === null) return { state: emptyState(mailbox), version: null };
    return { state: parseState(mailbox, current, this.pathFor(mailbox)), version: sha256Hex(current) };
  }

  async write(mailbox: string, state: MailboxState, expectedVersion: string | null): Promise<string> {
    const path = this.pathFor(mailbox);
    if (state.mailbox !== mailbox) throw new TypeError(`state for ${JSON.stringify(state.mailbox)} written as ${JSON.stringify(mailbox)}`);
    const bytes = Buffer.from(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
    try {
      await mkdirDurable(this.dir);
    } catch (err) {
      throw toStoreError(err, `creating ${this.dir}`);
    }
    const release = await this.#lock(mailbox);
    try {
      const current = await this.#readCurrent(mailbox);
      const currentVersion = current === null ? null : sha256Hex(current);
      if (currentVersion !== expectedVersion) {
        throw new StoreError(
          'ECONFLICT',
          `state of mailbox ${mailbox} was changed by another writer (expected version ${String(expectedVersion)}, found ${String(currentVersion)})`,
        );
      }
      const tmp = join(this.dir, `.${mailbox}.${randomUUID()}.tmp`);
      try {
        const fh = await open(tmp, 'wx', FILE_MODE);
        try {
          await writeFully(fh, bytes);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, path);
      } catch (err) {
        await unlink(tmp).catch(() => {});
        throw err;
      }
      await fsyncDir(this.dir);
      return sha256Hex(bytes);
    } catch (err) {
      throw toStoreError(err, `writing state of mailbox ${mailbox}`);
    } finally {
      await release();
    }
  }

  async #readCurrent(mailbox: string): Promise<Buffer | null> {
    const path = this.pathFor(mailbox);
    try {
      return await readFile(path);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw toStoreError(err, `reading state of mailbox ${mailbox}`);
    }
  }

  /**
   * An O_EXCL lock file serializes writers of one mailbox across processes on this machine. It records its
   * owner so that the lock of a writer that died (kill -9) is broken at once, not only after `staleLockMs`.
   */
  #lock(mailbox: string): Promise<() => Promise<void>> {
    const lockPath = join(this.dir, `${mailbox}.lock`);
    return acquireLockFile(lockPath, {
      waitMs: this.#lockWaitMs,
      staleMs: this.#staleLockMs,
      backoff: (attempt) => Math.min(200, 5 * 2 ** Math.min(attempt, 6)) + Math.random() * 10,
      busy: () => new StoreError('EIO', `state of mailbox ${mailbox} is locked by another writer (${lockPath})`, { retryable: true }),
      failed: (err) => toStoreError(err, `locking state of mailbox ${mailbox}`),
    });
  }
}

/**
 * A state file that cannot be read as state is an error, never "no state": treating it as empty would make the
 * next run ingest (and with retention `delete`, delete) the whole mailbox again.
 */
function parseState(mailbox: string, bytes: Buffer, path: string): MailboxState {
  const corrupt = (why: string, cause?: unknown) =>
    new StoreError(
      'EIO',
      `corrupt state file ${path}: ${why}; refusing to treat it as empty (that would re-ingest the whole mailbox). Restore it from a backup or move it aside deliberately.`,
      { retryable: false, cause },
    );
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw corrupt('not valid JSON', err);
  }
  return decodeState(mailbox, value, (why) => corrupt(why));
}
