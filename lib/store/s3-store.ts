import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { assertMailboxId, normalizePrefix } from './keys.ts';
import { MetadataBuffer } from './metadata-buffer.ts';
import { isNotFound, sseParams, toStoreError } from './s3-client.ts';
import { S3Documents } from './s3-documents.ts';
import { S3StagedRaw } from './s3-staged-raw.ts';
import type { S3WriteContext, StageOptions } from './s3-staged-raw.ts';
import { StoreError } from './types.ts';
import type { MetadataQuery, PutObjectOptions, PutObjectResult, RawStore, StagedRaw } from './types.ts';

const MiB = 1024 * 1024;
/** S3's smallest multipart part (except the last). */
const MIN_PART_SIZE = 5 * MiB;
/** Top-level folders of the layout: a prefix starting with one would make store keys and object keys ambiguous. */
const LAYOUT_ROOTS = new Set(['raw', 'staging', 'state', 'claims']);

export interface S3RawStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix for everything this store writes (`<prefix>/raw/...`). @default '' */
  readonly prefix?: string;
  /** Server-side encryption: SSE-KMS (with `kmsKeyId`, or the AWS-managed key) or SSE-S3. @default bucket default */
  readonly sse?: 'aws:kms' | 'AES256';
  readonly kmsKeyId?: string;
  /** Messages reaching this size stream as multipart through a staging key; smaller ones are one PutObject. @default 8 MiB */
  readonly multipartThreshold?: number;
  /** Multipart part size, at least 5 MiB. @default 8 MiB */
  readonly partSize?: number;
  /** Parts uploaded concurrently; memory is about `partSize * (queueSize + 1)` per large message. @default 3 */
  readonly queueSize?: number;
  /** ListObjectsV2 page size (S3's maximum and default is 1000; smaller only in tests). */
  readonly listPageSize?: number;
}

/**
 * The raw archive in S3, with the fs store's layout under a prefix. Keys handed out (commit results, putObject)
 * are full object keys, so `raw.key` with `raw.bucket` addresses the object for any consumer; keys taken in may be
 * either full or relative to the prefix.
 */
export class S3RawStore implements RawStore {
  readonly kind = 's3' as const;
  readonly location: string;
  readonly bucket: string;
  /** Normalized prefix ('' or `a/b`), for `rawKey(..., prefix)`. */
  readonly keyPrefix: string;
  readonly #client: S3Client;
  readonly #ctx: S3WriteContext;
  readonly #sseParams: S3WriteContext['sseParams'];
  readonly #documents: S3Documents;
  readonly #buffer: MetadataBuffer;
  #flushTail: Promise<void> = Promise.resolve();

  constructor(options: S3RawStoreOptions) {
    if (options.bucket === '') throw new TypeError('S3RawStore: bucket is required');
    const prefix = normalizePrefix(options.prefix ?? '');
    const first = prefix.split('/')[0]!;
    if (LAYOUT_ROOTS.has(first)) {
      throw new TypeError(
        `S3RawStore: prefix ${JSON.stringify(options.prefix)} must not start with a layout folder (${[...LAYOUT_ROOTS].join(', ')})`,
      );
    }
    if (options.kmsKeyId !== undefined && options.sse !== 'aws:kms') {
      throw new TypeError('S3RawStore: kmsKeyId needs sse "aws:kms"');
    }
    const partSize = options.partSize ?? 8 * MiB;
    if (partSize < MIN_PART_SIZE) throw new TypeError(`S3RawStore: partSize ${partSize} is below S3's minimum of ${MIN_PART_SIZE}`);
    const multipartThreshold = options.multipartThreshold ?? 8 * MiB;
    if (!(multipartThreshold > 0)) throw new TypeError(`S3RawStore: multipartThreshold ${multipartThreshold} must be positive`);
    this.#client = options.client;
    this.bucket = options.bucket;
    this.location = options.bucket;
    this.keyPrefix = prefix;
    this.#sseParams = sseParams(options);
    this.#ctx = {
      client: options.client,
      bucket: options.bucket,
      objectKey: (key) => this.objectKey(key),
      sseParams: this.#sseParams,
      multipartThreshold,
      partSize,
      queueSize: options.queueSize ?? 3,
      // Nothing was at the key: no document can refer to it yet, so its document needs no look-up before it is filed.
      created: (objectKey) => this.#buffer.markFresh(objectKey),
    };
    this.#documents = new S3Documents({
      client: options.client,
      bucket: options.bucket,
      objectKey: (key) => this.objectKey(key),
      put: async (objectKey, body, contentType, o) => {
        await this.#put(objectKey, body, contentType, o.metadata, o.ifNoneMatch);
      },
      get: (objectKey) => this.#get(objectKey),
      ...(options.listPageSize === undefined ? {} : { listPageSize: options.listPageSize }),
    });
    this.#buffer = new MetadataBuffer(this.#documents);
  }

  /** The full object key of a store key: the prefix is added unless already there. */
  objectKey(key: string): string {
    const k = key.replace(/^\/+/, '');
    if (k === '' || k.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new StoreError('EIO', `invalid store key ${JSON.stringify(key)}`, { retryable: false });
    }
    if (this.keyPrefix === '' || k.startsWith(`${this.keyPrefix}/`)) return k;
    return `${this.keyPrefix}/${k}`;
  }

  async stage(mailbox: string, options?: StageOptions): Promise<StagedRaw> {
    assertMailboxId(mailbox);
    return new S3StagedRaw(this.#ctx, mailbox, options);
  }

  async exists(key: string): Promise<boolean> {
    const objectKey = this.objectKey(key);
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw toStoreError(err, 'HeadObject', objectKey);
    }
  }

  async getRaw(key: string): Promise<Readable> {
    const objectKey = this.objectKey(key);
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return res.Body as Readable;
    } catch (err) {
      throw toStoreError(err, 'GetObject', objectKey);
    }
  }

  async putMetadata(doc: MetadataDocument): Promise<void> {
    this.objectKey(doc.raw.key);
    this.#buffer.add(doc);
  }

  /** Writes the pending documents: one PutObject per date partition (and per 1,000 documents). */
  flush(): Promise<void> {
    const run = this.#flushTail.catch(() => undefined).then(() => this.#buffer.flush());
    this.#flushTail = run;
    return run;
  }

  getMetadata(rawKey: string, id?: string): Promise<MetadataDocument | null> {
    return this.#documents.get(rawKey, id);
  }

  listMetadata(query: MetadataQuery = {}): AsyncIterable<MetadataDocument> {
    return this.#documents.list(query);
  }

  /**
   * `ifAbsent` looks first and then writes with `If-None-Match: *`: S3 itself refuses to replace an object that
   * appeared in between (412), and a look-up first keeps S3-compatible servers that ignore the condition honest.
   */
  async putObject(key: string, body: Buffer | string, contentType?: string, options: PutObjectOptions = {}): Promise<PutObjectResult> {
    const objectKey = this.objectKey(key);
    if (options.ifAbsent === true) {
      const existing = await this.#get(objectKey);
      if (existing !== null) return { key: objectKey, bucket: this.bucket, existing };
      try {
        await this.#put(key, body, contentType ?? 'application/octet-stream', undefined, true);
      } catch (err) {
        if (!(err instanceof StoreError) || err.code !== 'ECONFLICT') throw err;
        const raced = await this.#get(objectKey);
        if (raced === null) throw err;
        return { key: objectKey, bucket: this.bucket, existing: raced };
      }
      return { key: objectKey, bucket: this.bucket };
    }
    await this.#put(key, body, contentType ?? 'application/octet-stream');
    return { key: objectKey, bucket: this.bucket };
  }

  /** `bucket`, when given, must be this store's: a claim check from another bucket is not ours to read. */
  async getObject(key: string, bucket?: string): Promise<Buffer | null> {
    if (bucket !== undefined && bucket !== this.bucket) {
      throw new StoreError('EACCESS', `object ${key} is in bucket ${bucket}, not this store's ${this.bucket}`, { retryable: false });
    }
    return this.#get(this.objectKey(key));
  }

  async #put(
    key: string,
    body: Buffer | string,
    contentType: string,
    metadata?: Record<string, string>,
    ifNoneMatch = false,
  ): Promise<string> {
    const objectKey = this.objectKey(key);
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const sha256 = createHash('sha256').update(bytes).digest();
    try {
      const res = await this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Body: bytes,
          ContentLength: bytes.length,
          ContentType: contentType,
          ChecksumSHA256: sha256.toString('base64'),
          Metadata: { ...metadata, sha256: sha256.toString('hex') },
          ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          ...this.#sseParams,
        }),
      );
      if (res.ChecksumSHA256 !== undefined && res.ChecksumSHA256 !== sha256.toString('base64')) {
        throw new StoreError(
          'EVERIFY',
          `S3 PutObject reports checksum ${res.ChecksumSHA256} for ${objectKey}, ours is ${sha256.toString('base64')}`,
        );
      }
    } catch (err) {
      throw toStoreError(err, 'PutObject', objectKey);
    }
    return objectKey;
  }

  async #get(objectKey: string): Promise<Buffer | null> {
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw toStoreError(err, 'GetObject', objectKey);
    }
  }
}
