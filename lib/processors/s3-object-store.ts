import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PreconditionFailedError, type ObjectStore, type PutOptions, type RawOpener, type StoredObject } from './object-store.ts';
import { isConditionalConflict, isNotFound, isPreconditionFailed, sseParams, type SseParams } from '../store/s3-client.ts';

/** 412 is a lost compare-and-set; 409 ConditionalRequestConflict is a concurrent conditional write still in flight. Both: re-read and retry. */
const isConditionFailure = (err: unknown) => isPreconditionFailed(err) || isConditionalConflict(err);

export interface S3ObjectStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** SSE settings for what processors write; absent: the bucket's default encryption (SSE-KMS in the stack). */
  readonly sse?: 'aws:kms' | 'AES256';
  readonly kmsKeyId?: string;
}

/**
 * The processors' ObjectStore on S3. Conditional writes use S3's `If-Match` / `If-None-Match` (PutObject, since
 * August and November 2024). Local S3 stand-ins such as fauxqs accept these headers without enforcing them, so
 * there the concurrency guarantees hold only in the in-memory tests.
 */
export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly sseParams: SseParams;

  constructor(options: S3ObjectStoreOptions) {
    if (options.bucket === '') throw new TypeError('S3ObjectStore: bucket is required');
    this.client = options.client;
    this.bucket = options.bucket;
    this.sseParams = sseParams(options);
  }

  async get(key: string): Promise<StoredObject | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = Buffer.from(await out.Body!.transformToByteArray());
      return { body, etag: out.ETag ?? '' };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async put(key: string, body: Buffer | string, options: PutOptions = {}): Promise<{ etag: string }> {
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
          ContentType: options.contentType ?? 'application/octet-stream',
          ...(options.ifMatch === undefined ? {} : { IfMatch: options.ifMatch }),
          ...(options.ifNoneMatch === undefined ? {} : { IfNoneMatch: options.ifNoneMatch }),
          ...this.sseParams,
        }),
      );
      return { etag: out.ETag ?? '' };
    } catch (err) {
      if (isConditionFailure(err)) throw new PreconditionFailedError(key, { cause: err });
      throw err;
    }
  }
}

/** Opens raw messages as a stream straight from S3 (the document's bucket, or `defaultBucket`). */
export function s3RawOpener(client: S3Client, defaultBucket: string): RawOpener {
  return async (ref) => {
    const out = await client.send(new GetObjectCommand({ Bucket: ref.bucket ?? defaultBucket, Key: ref.key }));
    const body = out.Body;
    if (body instanceof Readable) return body;
    return Readable.from(Buffer.from(await body!.transformToByteArray()));
  };
}
