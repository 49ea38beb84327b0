import type { Readable, Writable } from 'node:stream';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { CodedError } from '../coded-error.ts';

/** Where a raw message lives in a store. On fs, `key` is relative to the store directory; on S3, the object key, with `bucket`. */
export interface RawRef {
  readonly key: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the raw bytes. */
  readonly sha256: string;
  readonly bucket?: string;
}

export interface CommitResult extends RawRef {
  /** True when an identical object (same sha256) was already stored under the key: nothing was written. */
  readonly existed: boolean;
}

/**
 * A staged write of one raw message. Bytes written to `writable` are invisible under any final key until
 * `commit`. The store hashes what it writes itself, independently of the caller.
 */
export interface StagedRaw {
  readonly writable: Writable;
  /**
   * Call after `writable` has finished. Makes the bytes durable under `key`: resolves only when the bytes the store
   * hashed while writing them equal `expected` and are durable (fs: fsync + link; the new directory entry is
   * durable after the store's next `flush()`; S3: the checksum S3 returns). An object already at `key` with the same
   * sha256 gives `existed: true`; with another sha256 a StoreError with code 'ECONFLICT' (never overwritten). Any
   * failure: StoreError, and nothing is at `key`.
   */
  commit(key: string, expected: { readonly sha256: string; readonly size: number }): Promise<CommitResult>;
  /** Drops the staged bytes. Safe to call more than once, and after a failed commit. */
  abort(): Promise<void>;
}

export interface MetadataQuery {
  readonly mailbox?: string;
  /** Only documents whose raw key's date partition is on or after this day (UTC). */
  readonly since?: Date;
  /**
   * Given, a stored document that cannot be read (not JSON, not a valid document) is reported here and skipped, and
   * the listing goes on (an index rebuild). Without it the S3 store refuses to list past one (EVERIFY), and the fs
   * store skips it with its warning.
   */
  readonly onDamaged?: (where: string, reason: string) => void;
}

export interface PutObjectOptions {
  /** Write only if nothing is at the key yet. @default false */
  readonly ifAbsent?: boolean;
}

export interface PutObjectResult {
  readonly key: string;
  readonly bucket?: string;
  /** With `ifAbsent`, the bytes already at the key: nothing was written. */
  readonly existing?: Buffer;
}

/** The raw archive: raw messages, their metadata documents (lib/store/document-packs.ts), and small blobs (claim checks, processor output). */
export interface RawStore {
  readonly kind: 'fs' | 's3';
  /** Bucket name (s3) or absolute directory (fs), for messages and `raw.bucket`. */
  readonly location: string;
  /**
   * Prefix under which this store files everything ('' for none). Keys passed to and returned by every method are
   * full keys, prefix included: the pipeline builds them with `rawKey(mailbox, date, sha256, store.keyPrefix)`.
   */
  readonly keyPrefix: string;
  /** `uidlHash` (hashUidl of the message's UIDL) is recorded with the object where the store keeps metadata (S3). */
  stage(mailbox: string, options?: { readonly uidlHash?: string }): Promise<StagedRaw>;
  exists(key: string): Promise<boolean>;
  getRaw(key: string): Promise<Readable>;
  /**
   * Files `doc` in its raw message's date partition, unless a document with its id is stored already: the first
   * one stands (a re-ingest must not give an archived message a second version with another `ingestedAt`). Every
   * UIDL has its own document, even when two UIDLs share the same bytes. Buffered: the document is durable, and
   * visible to getMetadata and listMetadata, after the next `flush()`.
   */
  putMetadata(doc: MetadataDocument): Promise<void>;
  /**
   * Makes everything committed and put before the call durable: the documents put since the last flush (written
   * together, one object or file per date partition) and, on fs, the directory entries of committed messages (one
   * fsync per directory). The pipeline calls it at each checkpoint, before it commits the state. A failure is a
   * StoreError; what was not written is tried again at the next flush.
   */
  flush(): Promise<void>;
  /** The document of one UIDL (`id`) of the raw message at `rawKey`; without `id`, the first one stored for it. */
  getMetadata(rawKey: string, id?: string): Promise<MetadataDocument | null>;
  /** Every stored metadata document matching the query (one per id), oldest partition first. */
  listMetadata(query?: MetadataQuery): AsyncIterable<MetadataDocument>;
  /**
   * A small object (claim-checked documents, processor output). Overwrites, unless `ifAbsent`: then an object
   * already at the key stays, and its bytes come back as `existing` (nothing written).
   */
  putObject(key: string, body: Buffer | string, contentType?: string, options?: PutObjectOptions): Promise<PutObjectResult>;
  getObject(key: string): Promise<Buffer | null>;
}

/** One UIDL already ingested from a mailbox. */
export interface IngestedEntry {
  /** The metadata document id published for it. */
  readonly id: string;
  readonly sha256: string;
  readonly key: string;
  readonly size: number;
  /**
   * The size LIST gave when the message was ingested. The same UIDL listed later with another size is another
   * message: some servers reuse UIDLs (numbering them by position) once the old message is gone.
   */
  readonly listedSize?: number;
  /** ISO 8601. */
  readonly ingestedAt: string;
  /** ISO 8601, set when a QUIT after its DELE succeeded. */
  readonly deletedAt?: string | null;
  /** Too large to fetch (over maxMessageBytes): only its headers were stored, via TOP. */
  readonly oversized?: boolean;
  /**
   * SHA-256 of the message's header block (what `TOP n 0` sends): on servers whose UIDLs look positional, a later
   * run compares it with TOP to tell a new message under a reused UIDL (and the same size) from the one ingested.
   */
  readonly headerSha256?: string;
}

export interface MailboxState {
  /** The stored format (lib/store/state-format.ts): stores read version 1 files and migrate them. */
  readonly version: 2;
  readonly mailbox: string;
  /**
   * Raw server UIDL -> entry; a UIDL the server gave to several messages is keyed `duplicateKey(uidl, sha256)`.
   * Any UIDL is a key, `__proto__` included: stores and the pipeline build this map without a prototype
   * (`uidlMap`), so look entries up with `Object.hasOwn`. A raw UIDL never becomes a file name or an object key.
   */
  readonly uidls: Readonly<Record<string, IngestedEntry>>;
  readonly lastRun?: {
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly ok: boolean;
    readonly stored: number;
    readonly deleted: number;
    readonly failed: number;
  } | null;
  readonly lastError?: { readonly at: string; readonly code: string; readonly message: string } | null;
}

export interface VersionedState {
  readonly state: MailboxState;
  /** Opaque token for compare-and-set: an ETag, a content hash. Null when no state exists yet. */
  readonly version: string | null;
}

export interface StateStore {
  /** A fresh empty state (`uidls: {}`) with version null when the mailbox has none yet. */
  read(mailbox: string): Promise<VersionedState>;
  /** Atomically replaces the state if its version is still `expectedVersion`; otherwise throws StoreError 'ECONFLICT'. Returns the new version. */
  write(mailbox: string, state: MailboxState, expectedVersion: string | null): Promise<string>;
}

export type StoreErrorCode = 'ECONFLICT' | 'EVERIFY' | 'EIO' | 'ENOTFOUND' | 'EACCESS';

export class StoreError extends CodedError<StoreErrorCode> {
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('StoreError', code, message, { cause: options?.cause, retryable: options?.retryable ?? code === 'EIO', failureClass: 'storage' });
  }
}

/**
 * A mailbox's lease as stored: who runs it, until when. POP3 servers such as Courier and Cyrus do not lock the
 * maildrop, so without it two runs at once would both ingest and publish everything.
 */
export interface LeaseRecord {
  readonly mailbox: string;
  readonly host: string;
  readonly pid: number;
  /** Unique per acquisition: tells this holder from an earlier or later one on the same host and pid. */
  readonly runId: string;
  /** ISO 8601. */
  readonly acquiredAt: string;
  /** ISO 8601. Past it, anyone may take the lease over; a released lease is written already expired. */
  readonly expiresAt: string;
}

export interface HeldLease {
  /** The record as last written by this holder. */
  readonly record: LeaseRecord;
  /** Extends the lease by its time-to-live. Rejects with LeaseError 'ELEASELOST' when it is no longer ours. */
  renew(): Promise<void>;
  /** Gives it up at once, if it is still ours (on S3 by writing it expired: the poller may not delete). */
  release(): Promise<void>;
}

export type LeaseAttempt =
  | { readonly acquired: true; readonly lease: HeldLease }
  /** Another run holds it and has not let it expire. */
  | { readonly acquired: false; readonly holder: LeaseRecord };

export interface LeaseOptions {
  /** How long the lease lasts unless renewed. @default 120000 */
  readonly ttlMs?: number;
}

/**
 * One lease per mailbox, beside its state: a run takes it before connecting and renews it while it runs; a second
 * run finds it held and skips the mailbox; a crashed holder's lease expires after its time-to-live.
 */
export interface MailboxLeases {
  acquire(mailbox: string, options?: LeaseOptions): Promise<LeaseAttempt>;
}

export const DEFAULT_LEASE_TTL_MS = 120_000;

export class LeaseError extends CodedError<'ELEASELOST'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LeaseError', 'ELEASELOST', message, { cause: options?.cause, retryable: true, failureClass: 'storage' });
  }
}
