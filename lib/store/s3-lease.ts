import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { normalizePrefix } from './keys.ts';
import { decodeLease, encodeLease, isFree, leaseKey, newLeaseRecord } from './lease-record.ts';
import {
  isConditionalConflict,
  isNotFound,
  isPreconditionFailed,
  putJsonIf,
  sseParams,
  toStoreError,
  type SseParams,
} from './s3-client.ts';
import { DEFAULT_LEASE_TTL_MS, LeaseError, StoreError } from './types.ts';
import type { HeldLease, LeaseAttempt, LeaseOptions, LeaseRecord, MailboxLeases } from './types.ts';

const ATTEMPTS = 4;

export interface S3MailboxLeasesOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** The store's prefix: leases are `<prefix>/state/leases/<mailbox>.json`. @default '' */
  readonly prefix?: string;
  readonly sse?: 'aws:kms' | 'AES256';
  readonly kmsKeyId?: string;
}

/** Lost a conditional write: 412, 409 while another one is in flight, or 404 for If-Match on a vanished object. */
function lostRace(err: unknown, ifMatch: boolean): boolean {
  return isPreconditionFailed(err) || isConditionalConflict(err) || (ifMatch && isNotFound(err));
}

/**
 * Mailbox leases as conditional objects: created with `If-None-Match: *` (only when there is none), renewed and
 * taken over after expiry with `If-Match: <etag>` (only the version that was read). A lease is released by writing
 * it expired, never by DeleteObject: the poller may not delete anything in the archive bucket.
 */
export class S3MailboxLeases implements MailboxLeases {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #sse: SseParams;

  constructor(options: S3MailboxLeasesOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = normalizePrefix(options.prefix ?? '');
    this.#sse = sseParams(options);
  }

  keyFor(mailbox: string): string {
    return leaseKey(mailbox, this.#prefix);
  }

  async acquire(mailbox: string, options: LeaseOptions = {}): Promise<LeaseAttempt> {
    const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    const key = this.keyFor(mailbox);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const current = await this.#get(key, mailbox);
      if (current !== null && !isFree(current.record)) return { acquired: false, holder: current.record! };
      const record = newLeaseRecord(mailbox, ttlMs);
      try {
        const etag = await this.put(key, record, current === null ? { IfNoneMatch: '*' } : { IfMatch: current.etag });
        return { acquired: true, lease: new S3HeldLease(this, key, record, etag, ttlMs) };
      } catch (err) {
        if (!lostRace(err, current !== null)) throw toStoreError(err, 'PutObject', key);
        // Another run wrote the lease first: read what it wrote.
      }
    }
    throw new StoreError(
      'EIO',
      `the lease of mailbox ${mailbox} (s3://${this.#bucket}/${key}) kept changing hands while this run tried to take it`,
      { retryable: true },
    );
  }

  async #get(key: string, mailbox: string): Promise<{ record: LeaseRecord | null; etag: string } | null> {
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      const body = await res.Body!.transformToString('utf8');
      if (res.ETag === undefined || res.ETag === '')
        throw new StoreError('EIO', `S3 GetObject ${key}: no ETag, a conditional lease is impossible`, { retryable: false });
      return { record: decodeLease(body, mailbox), etag: res.ETag };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw toStoreError(err, 'GetObject', key);
    }
  }

  /** Writes `record` under the condition; returns the new ETag. Errors are the SDK's, for the caller to judge. */
  async put(key: string, record: LeaseRecord, condition: { IfNoneMatch: '*' } | { IfMatch: string }): Promise<string> {
    return putJsonIf(this.#client, { bucket: this.#bucket, key, body: encodeLease(record), condition, sse: this.#sse });
  }
}

class S3HeldLease implements HeldLease {
  readonly #leases: S3MailboxLeases;
  readonly #key: string;
  readonly #ttlMs: number;
  #record: LeaseRecord;
  #etag: string;

  constructor(leases: S3MailboxLeases, key: string, record: LeaseRecord, etag: string, ttlMs: number) {
    this.#leases = leases;
    this.#key = key;
    this.#record = record;
    this.#etag = etag;
    this.#ttlMs = ttlMs;
  }

  get record(): LeaseRecord {
    return this.#record;
  }

  async #write(next: LeaseRecord): Promise<void> {
    try {
      this.#etag = await this.#leases.put(this.#key, next, { IfMatch: this.#etag });
      this.#record = next;
    } catch (err) {
      if (lostRace(err, true))
        throw new LeaseError(`the lease of mailbox ${next.mailbox} was taken over by another run (${this.#key})`, { cause: err });
      throw toStoreError(err, 'PutObject', this.#key);
    }
  }

  renew(): Promise<void> {
    return this.#write({ ...this.#record, expiresAt: new Date(Date.now() + this.#ttlMs).toISOString() });
  }

  async release(): Promise<void> {
    try {
      await this.#write({ ...this.#record, expiresAt: new Date().toISOString() });
    } catch (err) {
      // Taken over already: nothing of ours is left to release.
      if (!(err instanceof LeaseError)) throw err;
    }
  }
}
