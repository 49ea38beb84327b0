import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, type Readable, Writable } from 'node:stream';
import { AbortMultipartUploadCommand, CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CompleteMultipartUploadCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { isNotFound, isPreconditionFailed, toStoreError, type SseParams } from './s3-client.ts';
import { compareChecksum, DigestTracker, hashStream } from './s3-digest.ts';
import type { Digests } from './s3-digest.ts';
import { StoreError } from './types.ts';
import type { CommitResult, StagedRaw } from './types.ts';
import { ARCHIVE_LAYOUT } from './layout.ts';

/** What a staged write needs from its store. */
export interface S3WriteContext {
  readonly client: S3Client;
  readonly bucket: string;
  /** Full object key of a store key (adds the store's prefix when missing). */
  objectKey(key: string): string;
  /** `ServerSideEncryption` / `SSEKMSKeyId` for every write. */
  readonly sseParams: SseParams;
  readonly multipartThreshold: number;
  readonly partSize: number;
  readonly queueSize: number;
  /** A commit created `objectKey` (nothing was there): the store files its document without looking for an older one. */
  created?(objectKey: string): void;
}

export interface StageOptions {
  /** `hashUidl(mailbox, uidl)`, stored as object metadata so an object can be traced to its UIDL without the UIDL. */
  readonly uidlHash?: string;
}

type Phase = 'open' | 'finished' | 'committed' | 'aborted';

/**
 * One raw message on its way into S3. Bytes are hashed as they pass. A message that ends below the multipart
 * threshold stays in memory and `commit` sends one conditional PutObject straight to the final key. A larger one
 * streams through lib-storage (multipart, constant memory) to `staging/<mailbox>/<random>`, and `commit` copies it
 * to the final key with `If-None-Match: *`. The staging object is never deleted here: the poller has no delete
 * permission by design, and a bucket lifecycle rule on `staging/` expires it.
 */
export class S3StagedRaw implements StagedRaw {
  readonly writable: Writable;
  readonly #ctx: S3WriteContext;
  readonly #mailbox: string;
  readonly #options: StageOptions;
  readonly #tracker: DigestTracker;
  readonly #stagingKey: string;
  #phase: Phase = 'open';
  #chunks: Buffer[] = [];
  #buffered = 0;
  #upload: Upload | null = null;
  #feed: PassThrough | null = null;
  #uploadDone: Promise<CompleteMultipartUploadCommandOutput> | null = null;
  #uploadSucceeded = false;
  #multipartAborted = false;

  constructor(ctx: S3WriteContext, mailbox: string, options: StageOptions = {}) {
    this.#ctx = ctx;
    this.#mailbox = mailbox;
    this.#options = options;
    this.#tracker = new DigestTracker(ctx.partSize);
    this.#stagingKey = ctx.objectKey(`${ARCHIVE_LAYOUT.staging}${mailbox}/${randomUUID()}`);
    this.writable = new Writable({
      write: (chunk: Buffer, _enc, cb) => this.#write(chunk, cb),
      final: (cb) => this.#final(cb),
      destroy: (err, cb) => {
        if (this.#feed !== null && !this.#uploadSucceeded) this.#feed.destroy(err ?? new Error('staged write destroyed'));
        cb(err);
      },
    });
  }

  /** Staging object key of a large message (meaningful once the threshold was crossed). */
  get stagingKey(): string {
    return this.#stagingKey;
  }

  /** The multipart upload id, once lib-storage has created one: for tests and diagnostics. */
  get uploadId(): string | undefined {
    return this.#upload?.uploadId;
  }

  #write(chunk: Buffer, cb: (err?: Error | null) => void): void {
    if (this.#phase !== 'open') return cb(new StoreError('EIO', 'write to a staged raw that is no longer open'));
    this.#tracker.update(chunk);
    if (this.#feed === null) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered < this.#ctx.multipartThreshold) return cb();
      this.#startUpload();
      const pending = this.#chunks;
      this.#chunks = [];
      this.#buffered = 0;
      let ok = true;
      for (const c of pending) ok = this.#feed!.write(c);
      return this.#afterFeedWrite(ok, cb);
    }
    this.#afterFeedWrite(this.#feed.write(chunk), cb);
  }

  /** Honours the feed's backpressure; a failed upload ends the wait (it would never drain again). */
  #afterFeedWrite(ok: boolean, cb: (err?: Error | null) => void): void {
    if (ok) return cb();
    Promise.race([once(this.#feed!, 'drain'), this.#uploadDone!]).then(
      () => cb(),
      (err: unknown) => cb(toStoreError(err, 'upload', this.#stagingKey)),
    );
  }

  #final(cb: (err?: Error | null) => void): void {
    if (this.#feed === null) {
      this.#phase = 'finished';
      return cb();
    }
    this.#feed.end();
    this.#uploadDone!.then(
      () => {
        this.#phase = 'finished';
        cb();
      },
      (err: unknown) => cb(toStoreError(err, 'upload', this.#stagingKey)),
    );
  }

  #startUpload(): void {
    this.#feed = new PassThrough();
    this.#upload = new Upload({
      client: this.#ctx.client,
      params: {
        Bucket: this.#ctx.bucket,
        Key: this.#stagingKey,
        Body: this.#feed,
        ContentType: 'message/rfc822',
        ChecksumAlgorithm: 'SHA256',
        Metadata: { mailbox: this.#mailbox },
        ...this.#ctx.sseParams,
      },
      partSize: this.#ctx.partSize,
      queueSize: this.#ctx.queueSize,
      leavePartsOnError: false,
    });
    this.#uploadDone = this.#upload.done().then((result) => {
      this.#uploadSucceeded = true;
      return result as CompleteMultipartUploadCommandOutput;
    });
    // Observed by #final, #afterFeedWrite, commit and abort; never an unhandled rejection on its own.
    this.#uploadDone.catch(() => undefined);
  }

  async commit(key: string, expected: { readonly sha256: string; readonly size: number }): Promise<CommitResult> {
    if (this.#phase === 'committed' || this.#phase === 'aborted')
      throw new StoreError('EIO', 'staged raw already committed or aborted', { retryable: false });
    if (this.#phase !== 'finished' || !this.writable.writableFinished) {
      throw new StoreError('EIO', 'commit before the staged writable finished', { retryable: false });
    }
    const objectKey = this.#ctx.objectKey(key);
    const ours = this.#tracker.finish();
    if (ours.sha256Hex !== expected.sha256 || ours.size !== expected.size) {
      throw new StoreError(
        'EVERIFY',
        `staged bytes for ${objectKey} do not match: expected ${expected.size} bytes sha256 ${expected.sha256}, staged ${ours.size} bytes sha256 ${ours.sha256Hex}`,
      );
    }
    // On failure the staged bytes stay (in memory, or in the staging object), so a commit may be tried again.
    const existed = this.#upload === null ? await this.#putSmall(objectKey, ours) : await this.#copyLarge(objectKey, ours);
    this.#phase = 'committed';
    if (!existed) this.#ctx.created?.(objectKey);
    this.#chunks = [];
    return { key: objectKey, bucket: this.#ctx.bucket, size: ours.size, sha256: ours.sha256Hex, existed };
  }

  #metadata(ours: Digests): Record<string, string> {
    return {
      mailbox: this.#mailbox,
      sha256: ours.sha256Hex,
      ...(this.#options.uidlHash === undefined ? {} : { 'uidl-hash': this.#options.uidlHash }),
    };
  }

  /** One PutObject with our SHA-256: S3 rejects a body that does not match it (BadDigest) and never overwrites. */
  async #putSmall(objectKey: string, ours: Digests): Promise<boolean> {
    let reported: string | undefined;
    try {
      const res = await this.#ctx.client.send(
        new PutObjectCommand({
          Bucket: this.#ctx.bucket,
          Key: objectKey,
          Body: this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks),
          ContentLength: ours.size,
          ContentType: 'message/rfc822',
          ChecksumSHA256: ours.sha256Base64,
          IfNoneMatch: '*',
          Metadata: this.#metadata(ours),
          ...this.#ctx.sseParams,
        }),
      );
      reported = res.ChecksumSHA256;
    } catch (err) {
      if (isPreconditionFailed(err)) return this.#resolveExisting(objectKey, ours);
      throw toStoreError(err, 'PutObject', objectKey);
    }
    await this.#verifyWritten(objectKey, ours, reported, 'PutObject');
    return false;
  }

  async #copyLarge(objectKey: string, ours: Digests): Promise<boolean> {
    const staged = await this.#uploadDone!.catch((err: unknown) => {
      throw toStoreError(err, 'upload', this.#stagingKey);
    });
    // The staging object must hold exactly our bytes before it may become the message; its parts were cut by us.
    if (compareChecksum(staged.ChecksumSHA256, ours, true) === 'mismatch') {
      throw new StoreError(
        'EVERIFY',
        `S3 reports checksum ${String(staged.ChecksumSHA256)} for staging object ${this.#stagingKey}, not ours`,
      );
    }
    let reported: string | undefined;
    try {
      const res = await this.#ctx.client.send(
        new CopyObjectCommand({
          Bucket: this.#ctx.bucket,
          Key: objectKey,
          CopySource: `${this.#ctx.bucket}/${this.#stagingKey.split('/').map(encodeURIComponent).join('/')}`,
          IfNoneMatch: '*',
          // A copy with a checksum algorithm makes S3 compute a full-object SHA-256 of the new object.
          ChecksumAlgorithm: 'SHA256',
          MetadataDirective: 'REPLACE',
          ContentType: 'message/rfc822',
          Metadata: this.#metadata(ours),
          ...this.#ctx.sseParams,
        }),
      );
      reported = res.CopyObjectResult?.ChecksumSHA256;
    } catch (err) {
      if (isPreconditionFailed(err)) return this.#resolveExisting(objectKey, ours);
      throw toStoreError(err, 'CopyObject', objectKey);
    }
    await this.#verifyWritten(objectKey, ours, reported, 'CopyObject');
    return false;
  }

  /**
   * Our write succeeded; the checksum S3 reported must be ours. When S3 reported none (or one we cannot compare),
   * the stored object is checked. A mismatch leaves a wrong object at the key that we cannot delete: the error
   * stops the DELE, and the next attempt finds it and fails with ECONFLICT, which is alarm-worthy.
   */
  async #verifyWritten(objectKey: string, ours: Digests, reported: string | undefined, op: string): Promise<void> {
    const verdict = compareChecksum(reported, ours, false);
    if (verdict === 'match') return;
    if (verdict === 'mismatch') {
      throw new StoreError('EVERIFY', `S3 ${op} reports checksum ${String(reported)} for ${objectKey}, ours is ${ours.sha256Base64}`);
    }
    if (!(await this.#storedMatches(objectKey, ours))) {
      throw new StoreError('EVERIFY', `object stored at ${objectKey} does not match the staged bytes`);
    }
  }

  /** 412: an object is already at the key. It counts as stored only if it holds our bytes; it is never overwritten. */
  async #resolveExisting(objectKey: string, ours: Digests): Promise<boolean> {
    if (await this.#storedMatches(objectKey, ours)) return true;
    throw new StoreError(
      'ECONFLICT',
      `a different object is already stored at ${objectKey} (sha256 ${ours.sha256Hex} expected); it is never overwritten`,
      { retryable: false },
    );
  }

  /**
   * HeadObject with checksums: a full-object SHA-256 or a size difference decides. Otherwise (no checksum, or a
   * composite one from other part boundaries) the object is read back and hashed, in constant memory.
   */
  async #storedMatches(objectKey: string, ours: Digests): Promise<boolean> {
    const { client, bucket } = this.#ctx;
    let head;
    try {
      head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey, ChecksumMode: 'ENABLED' }));
    } catch (err) {
      throw toStoreError(err, 'HeadObject', objectKey);
    }
    if (head.ContentLength !== undefined && head.ContentLength !== ours.size) return false;
    const verdict = compareChecksum(head.ChecksumSHA256, ours, false);
    if (verdict !== 'unknown') return verdict === 'match';
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }));
      const actual = await hashStream(res.Body as Readable);
      return actual.sha256Hex === ours.sha256Hex && actual.size === ours.size;
    } catch (err) {
      throw toStoreError(err, 'GetObject', objectKey);
    }
  }

  async abort(): Promise<void> {
    if (this.#phase !== 'committed') this.#phase = 'aborted';
    this.#chunks = [];
    if (!this.writable.destroyed && !this.writable.writableFinished) this.writable.destroy();
    if (this.#upload === null || this.#uploadSucceeded || this.#multipartAborted) return;
    if (this.#feed !== null && !this.#feed.destroyed) this.#feed.destroy(new Error('staged write aborted'));
    await this.#uploadDone!.catch(() => undefined);
    const uploadId = this.#upload.uploadId;
    if (this.#uploadSucceeded || uploadId === undefined) return;
    // lib-storage aborts on its own failures, but an abort must not depend on that having happened.
    try {
      await this.#ctx.client.send(new AbortMultipartUploadCommand({ Bucket: this.#ctx.bucket, Key: this.#stagingKey, UploadId: uploadId }));
    } catch (err) {
      if (!isNotFound(err)) throw toStoreError(err, 'AbortMultipartUpload', this.#stagingKey);
    }
    this.#multipartAborted = true;
  }
}
