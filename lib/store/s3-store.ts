import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { metadataDocumentSchema } from '../document/metadata-schema.ts';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { assertMailboxId, metadataKeyFor, normalizePrefix, parseRawKey } from './keys.ts';
import { isNotFound, toStoreError } from './s3-client.ts';
import { S3StagedRaw } from './s3-staged-raw.ts';
import { ARCHIVE_LAYOUT } from './layout.ts';
import type { S3WriteContext, StageOptions } from './s3-staged-raw.ts';
import { StoreError } from './types.ts';
import type { MetadataQuery, RawStore, StagedRaw } from './types.ts';

const MiB = 1024 * 1024;
/** S3's smallest multipart part (except the last). */
const MIN_PART_SIZE = 5 * MiB;
/** Top-level folders of the layout: a prefix starting with one would make store keys and object keys ambiguous. */
const LAYOUT_ROOTS = new Set(['raw', 'staging', 'state', 'claims']);
/** Metadata documents fetched ahead while listing, in order. */
const LIST_PREFETCH = 8;

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
  readonly #listPageSize: number | undefined;

  constructor(options: S3RawStoreOptions) {
    if (options.bucket === '') throw new TypeError('S3RawStore: bucket is required');
    const prefix = normalizePrefix(options.prefix ?? '');
    const first = prefix.split('/')[0]!;
    if (LAYOUT_ROOTS.has(first)) {
      throw new TypeError(`S3RawStore: prefix ${JSON.stringify(options.prefix)} must not start with a layout folder (${[...LAYOUT_ROOTS].join(', ')})`);
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
    this.#listPageSize = options.listPageSize;
    this.#sseParams = {
      ...(options.sse === undefined ? {} : { ServerSideEncryption: options.sse }),
      ...(options.kmsKeyId === undefined ? {} : { SSEKMSKeyId: options.kmsKeyId }),
    };
    this.#ctx = {
      client: options.client,
      bucket: options.bucket,
      objectKey: (key) => this.objectKey(key),
      sseParams: this.#sseParams,
      multipartThreshold,
      partSize,
      queueSize: options.queueSize ?? 3,
    };
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
    await this.#put(metadataKeyFor(doc.raw.key), JSON.stringify(doc), 'application/json', { mailbox: doc.mailbox });
  }

  async getMetadata(rawKey: string): Promise<MetadataDocument | null> {
    const objectKey = this.objectKey(metadataKeyFor(rawKey));
    const body = await this.#get(objectKey);
    return body === null ? null : this.#parseMetadata(objectKey, body);
  }

  /**
   * Walks `raw/<mailbox>/` with ListObjectsV2 (mailboxes in key order, then date partitions oldest first, as the
   * fs store walks its folders). `since` starts each mailbox's listing after the partitions before that day.
   */
  async *listMetadata(query: MetadataQuery = {}): AsyncIterable<MetadataDocument> {
    const since = query.since === undefined
      ? null
      : new Date(Date.UTC(query.since.getUTCFullYear(), query.since.getUTCMonth(), query.since.getUTCDate()));
    const mailboxes = query.mailbox === undefined ? await this.#listMailboxes() : [query.mailbox];
    for (const mailbox of mailboxes) {
      assertMailboxId(mailbox);
      const base = `${this.objectKey(`${ARCHIVE_LAYOUT.raw}${mailbox}`)}/`;
      const startAfter = since === null
        ? undefined
        // Everything in the partition of `since` sorts after its folder name without the trailing slash.
        : `${base}${String(since.getUTCFullYear()).padStart(4, '0')}/${String(since.getUTCMonth() + 1).padStart(2, '0')}/${String(since.getUTCDate()).padStart(2, '0')}`;
      const pending: Array<Promise<MetadataDocument | null>> = [];
      for await (const key of this.#listKeys(base, startAfter)) {
        if (!key.endsWith('.json')) continue;
        const parsed = parseRawKey(`${key.slice(0, -'.json'.length)}.eml`);
        if (parsed === null || parsed.mailbox !== mailbox) continue;
        if (since !== null && parsed.date.getTime() < since.getTime()) continue;
        const next = this.#get(key).then((body) => (body === null ? null : this.#parseMetadata(key, body)));
        // A consumer that stops early leaves prefetched reads behind: they must not become unhandled rejections.
        next.catch(() => undefined);
        pending.push(next);
        if (pending.length >= LIST_PREFETCH) {
          const doc = await pending.shift()!;
          if (doc !== null) yield doc;
        }
      }
      while (pending.length > 0) {
        const doc = await pending.shift()!;
        if (doc !== null) yield doc;
      }
    }
  }

  async putObject(key: string, body: Buffer | string, contentType?: string): Promise<{ readonly key: string; readonly bucket?: string }> {
    const objectKey = await this.#put(key, body, contentType ?? 'application/octet-stream');
    return { key: objectKey, bucket: this.bucket };
  }

  /** `bucket`, when given, must be this store's: a claim check from another bucket is not ours to read. */
  async getObject(key: string, bucket?: string): Promise<Buffer | null> {
    if (bucket !== undefined && bucket !== this.bucket) {
      throw new StoreError('EACCESS', `object ${key} is in bucket ${bucket}, not this store's ${this.bucket}`, { retryable: false });
    }
    return this.#get(this.objectKey(key));
  }

  async #put(key: string, body: Buffer | string, contentType: string, metadata?: Record<string, string>): Promise<string> {
    const objectKey = this.objectKey(key);
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const sha256 = createHash('sha256').update(bytes).digest();
    try {
      const res = await this.#client.send(new PutObjectCommand({
        Bucket: this.bucket,
        Key: objectKey,
        Body: bytes,
        ContentLength: bytes.length,
        ContentType: contentType,
        ChecksumSHA256: sha256.toString('base64'),
        Metadata: { ...metadata, sha256: sha256.toString('hex') },
        ...this.#sseParams,
      }));
      if (res.ChecksumSHA256 !== undefined && res.ChecksumSHA256 !== sha256.toString('base64')) {
        throw new StoreError('EVERIFY', `S3 PutObject reports checksum ${res.ChecksumSHA256} for ${objectKey}, ours is ${sha256.toString('base64')}`);
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

  #parseMetadata(objectKey: string, body: Buffer): MetadataDocument {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new StoreError('EVERIFY', `metadata at ${objectKey} is not JSON`, { cause: err, retryable: false });
    }
    const parsed = metadataDocumentSchema.safeParse(json);
    if (!parsed.success) throw new StoreError('EVERIFY', `metadata at ${objectKey} is not a valid document: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { retryable: false });
    return parsed.data;
  }

  async #listMailboxes(): Promise<string[]> {
    const base = `${this.objectKey('raw')}/`;
    const out: string[] = [];
    let token: string | undefined;
    do {
      let res;
      try {
        res = await this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, Delimiter: '/', ContinuationToken: token, MaxKeys: this.#listPageSize }));
      } catch (err) {
        throw toStoreError(err, 'ListObjectsV2', base);
      }
      for (const p of res.CommonPrefixes ?? []) {
        const name = p.Prefix?.slice(base.length, -1);
        if (name !== undefined && name !== '') out.push(name);
      }
      token = res.IsTruncated === true ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out.sort();
  }

  async *#listKeys(prefix: string, startAfter: string | undefined): AsyncIterable<string> {
    let token: string | undefined;
    do {
      let res;
      try {
        res = await this.#client.send(new ListObjectsV2Command({
          Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: this.#listPageSize, ...(token === undefined && startAfter !== undefined ? { StartAfter: startAfter } : {}),
        }));
      } catch (err) {
        throw toStoreError(err, 'ListObjectsV2', prefix);
      }
      for (const o of res.Contents ?? []) if (o.Key !== undefined) yield o.Key;
      token = res.IsTruncated === true ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
  }
}
