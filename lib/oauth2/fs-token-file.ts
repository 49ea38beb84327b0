import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isErrno, writeFileAtomic } from '../fs/atomic.ts';
import { OAuth2Error } from './errors.ts';
import { acquireLockFile } from '../fs/lock-file.ts';
import type { RefreshTokenStore, StoredRefreshToken, WriteOutcome } from './token-store.ts';

export interface FsTokenFileOptions {
  /** A lock older than this is taken to be left by a crashed process. @default 60000 */
  readonly staleLockMs?: number;
  /** How long to wait for another process's refresh. @default 45000 (longer than one token request) */
  readonly lockWaitMs?: number;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * A refresh token in a JSON file, `{ "version": 1, "refreshToken": "...", "updatedAt": "..." }`, created mode
 * 0600 in a 0700 folder, replaced atomically (temp file, fsync, rename, fsync of the folder: old or new, never
 * half). A file others can read is refused rather than used, as ssh does with a private key. The version for
 * compare-and-set is the SHA-256 of the file's bytes; an O_EXCL lock file beside it serializes refreshes.
 */
export class FsTokenFile implements RefreshTokenStore {
  readonly path: string;
  readonly location: string;
  readonly writable = true;
  readonly #staleLockMs: number;
  readonly #lockWaitMs: number;

  constructor(path: string, options: FsTokenFileOptions = {}) {
    this.path = path;
    this.location = `token file ${path}`;
    this.#staleLockMs = options.staleLockMs ?? 60_000;
    this.#lockWaitMs = options.lockWaitMs ?? 45_000;
  }

  async read(): Promise<StoredRefreshToken | null> {
    let bytes: Buffer;
    try {
      const st = await stat(this.path);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        throw new OAuth2Error(
          'EOAUTH2_STORE',
          `${this.location} can be read by other users (mode ${(st.mode & 0o777).toString(8)}): run chmod 600 ${this.path}`,
        );
      }
      bytes = await readFile(this.path);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw this.#error(err, 'reading');
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new OAuth2Error('EOAUTH2_STORE', `${this.location} is not valid JSON; sign in again with mail-ingest auth to rewrite it`);
    }
    const token = (json as { refreshToken?: unknown } | null)?.refreshToken;
    if (typeof token !== 'string' || token === '') {
      throw new OAuth2Error('EOAUTH2_STORE', `${this.location} holds no "refreshToken"; sign in again with mail-ingest auth to rewrite it`);
    }
    return { refreshToken: token, version: sha256(bytes) };
  }

  async write(refreshToken: string, expectedVersion: string): Promise<WriteOutcome> {
    // Callers normally hold lock() already; the check is what keeps a write without it safe too.
    const current = await this.#currentVersion();
    if (current !== expectedVersion) return 'conflict';
    await this.#put(refreshToken);
    return 'written';
  }

  async replace(refreshToken: string): Promise<void> {
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw this.#error(err, 'creating the folder of');
    }
    await this.#put(refreshToken);
  }

  async #currentVersion(): Promise<string | null> {
    try {
      return sha256(await readFile(this.path));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw this.#error(err, 'reading');
    }
  }

  async #put(refreshToken: string): Promise<void> {
    const body = `${JSON.stringify({ version: 1, refreshToken, updatedAt: new Date().toISOString() }, null, 2)}\n`;
    try {
      await writeFileAtomic(this.path, body, dirname(this.path));
    } catch (err) {
      throw this.#error(err, 'writing');
    }
  }

  /** The lock records its owner, so that the lock of a process that died (kill -9) is broken at once. */
  lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    return acquireLockFile(lockPath, {
      waitMs: this.#lockWaitMs,
      staleMs: this.#staleLockMs,
      backoff: (attempt) => Math.min(250, 10 * 2 ** Math.min(attempt, 5)) + Math.random() * 20,
      busy: () =>
        new OAuth2Error('EOAUTH2_STORE', `${this.location} is locked by another process refreshing the token (${lockPath})`, {
          retryable: true,
        }),
      failed: (err) =>
        isErrno(err, 'ENOENT')
          ? new OAuth2Error('EOAUTH2_STORE', `${this.location}: its folder does not exist; run mail-ingest auth first`)
          : this.#error(err, 'locking'),
    });
  }

  #error(err: unknown, doing: string): OAuth2Error {
    if (err instanceof OAuth2Error) return err;
    const code = (err as { code?: unknown } | null)?.code;
    const why = typeof code === 'string' ? code : String(err);
    return new OAuth2Error('EOAUTH2_STORE', `${doing} ${this.location} failed (${why})`, {
      cause: err,
      retryable: !(code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'EISDIR'),
    });
  }
}
