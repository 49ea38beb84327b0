import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureDir, FILE_MODE, isErrno, toStoreError, writeFully } from '../fs/atomic.ts';
import { assertMailboxId } from './keys.ts';
import { LEASES_PREFIX } from './layout.ts';
import { decodeLease, encodeLease, isFree, newLeaseRecord } from './lease-record.ts';
import { DEFAULT_LEASE_TTL_MS, LeaseError, StoreError } from './types.ts';
import type { HeldLease, LeaseAttempt, LeaseOptions, LeaseRecord, MailboxLeases } from './types.ts';

const ATTEMPTS = 4;

export interface FsLeaseFilesOptions {
  /** The folder of the lease files: `<dir>/<name>.json`. */
  readonly dir: string;
  /** Refuses a name that is not safe as a file name (throws). */
  readonly checkName: (name: string) => void;
}

/**
 * Leases as lock files with their owner and expiry. A lease file only ever appears whole: it is written to a temp
 * file and link(2)ed into place, which fails with EEXIST when a lease is there (O_EXCL semantics, without a
 * half-written file a reader could see). An expired lease (or one of a dead process on this host) is taken over
 * by renaming it aside, checking that what was moved is the lease judged stale, and linking the new one in.
 *
 * Nothing is fsynced: a lease matters only between live processes, which see each other's files in the page
 * cache; after a power loss every holder on this machine is gone, so a lease lost with it is a lease released.
 */
export class FsLeaseFiles {
  readonly dir: string;
  readonly #checkName: (name: string) => void;

  constructor(options: FsLeaseFilesOptions) {
    this.dir = resolve(options.dir);
    this.#checkName = options.checkName;
  }

  pathFor(name: string): string {
    this.#checkName(name);
    return join(this.dir, `${name}.json`);
  }

  async acquire(name: string, options: LeaseOptions = {}): Promise<LeaseAttempt> {
    const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    const path = this.pathFor(name);
    try {
      await ensureDir(this.dir);
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const record = newLeaseRecord(name, ttlMs);
        const tmp = await this.#writeTemp(name, record);
        const grave = join(this.dir, `.${name}.${randomUUID()}.stale`);
        try {
          if (await linkIfAbsent(tmp, path)) return this.#held(path, record, ttlMs);
          const current = await readIfPresent(path);
          if (current === null) continue; // released meanwhile
          const holder = decodeLease(current.toString('utf8'), name);
          if (!isFree(holder)) return { acquired: false, holder: holder! };
          try {
            await rename(path, grave);
          } catch (err) {
            if (isErrno(err, 'ENOENT')) continue;
            throw err;
          }
          const moved = await readFile(grave);
          if (!moved.equals(current)) {
            // Another run took it over between our read and our rename: that fresh lease is theirs, put it back.
            await linkIfAbsent(grave, path);
            const now = await readIfPresent(path);
            const other = now === null ? null : decodeLease(now.toString('utf8'), name);
            if (other !== null && !isFree(other)) return { acquired: false, holder: other };
            continue;
          }
          if (await linkIfAbsent(tmp, path)) return this.#held(path, record, ttlMs);
        } finally {
          await unlink(tmp).catch(() => undefined);
          await unlink(grave).catch(() => undefined);
        }
      }
    } catch (err) {
      throw toStoreError(err, `taking the lease ${path}`);
    }
    throw new StoreError('EIO', `the lease ${path} kept changing hands while this run tried to take it`, { retryable: true });
  }

  async #writeTemp(name: string, record: LeaseRecord): Promise<string> {
    const tmp = join(this.dir, `.${name}.${randomUUID()}.tmp`);
    const fh = await open(tmp, 'wx', FILE_MODE);
    try {
      await writeFully(fh, encodeLease(record));
    } finally {
      await fh.close();
    }
    return tmp;
  }

  async #held(path: string, record: LeaseRecord, ttlMs: number): Promise<LeaseAttempt> {
    return { acquired: true, lease: new FsHeldLease(this, path, record, ttlMs) };
  }

  /** Replaces the lease file with `record` (temp file + rename, so a reader sees the old or the new one). */
  async replace(path: string, record: LeaseRecord): Promise<void> {
    const tmp = await this.#writeTemp(record.mailbox, record);
    try {
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}

class FsHeldLease implements HeldLease {
  readonly #leases: FsLeaseFiles;
  readonly #path: string;
  readonly #ttlMs: number;
  #record: LeaseRecord;

  constructor(leases: FsLeaseFiles, path: string, record: LeaseRecord, ttlMs: number) {
    this.#leases = leases;
    this.#path = path;
    this.#record = record;
    this.#ttlMs = ttlMs;
  }

  get record(): LeaseRecord {
    return this.#record;
  }

  /** Ours when the file still names this run. */
  async #stillOurs(): Promise<boolean> {
    const current = await readIfPresent(this.#path);
    return current !== null && decodeLease(current.toString('utf8'), this.#record.mailbox)?.runId === this.#record.runId;
  }

  async renew(): Promise<void> {
    const { mailbox } = this.#record;
    let ours: boolean;
    try {
      ours = await this.#stillOurs();
    } catch (err) {
      throw toStoreError(err, `renewing the lease of mailbox ${mailbox}`);
    }
    if (!ours) throw new LeaseError(`the lease of mailbox ${mailbox} was taken over by another run (${this.#path})`);
    // Read-then-replace is not atomic: it is safe only while nobody may take the lease over, i.e. before it expires.
    // Too close to the expiry, another run may be taking it over right now: give it up instead.
    const margin = Math.min(5_000, this.#ttlMs / 4);
    if (Date.parse(this.#record.expiresAt) - Date.now() < margin) {
      throw new LeaseError(`the lease of mailbox ${mailbox} expired before it could be renewed (${this.#path})`);
    }
    const next = { ...this.#record, expiresAt: new Date(Date.now() + this.#ttlMs).toISOString() };
    try {
      await this.#leases.replace(this.#path, next);
    } catch (err) {
      throw toStoreError(err, `renewing the lease of mailbox ${mailbox}`);
    }
    this.#record = next;
  }

  async release(): Promise<void> {
    try {
      // Only a lease that is ours and unexpired: once it has expired, the file may already be another run's.
      if (Date.parse(this.#record.expiresAt) <= Date.now() || !(await this.#stillOurs())) return;
      await unlink(this.#path);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw toStoreError(err, `releasing the lease of mailbox ${this.#record.mailbox}`);
    }
  }
}

export interface FsMailboxLeasesOptions {
  /** The fs store's directory: leases are `<dir>/state/leases/<mailbox>.json`, beside the state. */
  readonly dir: string;
}

/** The mailbox leases of an fs store. */
export class FsMailboxLeases extends FsLeaseFiles implements MailboxLeases {
  constructor(options: FsMailboxLeasesOptions) {
    super({ dir: join(resolve(options.dir), ...LEASES_PREFIX.split('/').filter(Boolean)), checkName: assertMailboxId });
  }
}

/** link(2) `from` to `to` unless `to` exists: true when linked. */
async function linkIfAbsent(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  }
}

async function readIfPresent(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
}
