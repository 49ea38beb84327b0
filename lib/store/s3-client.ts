import { createHash } from 'node:crypto';
import {
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandInput,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { StoreError } from './types.ts';

/** The connection part of `"store": { "type": "s3", ... }`. Credentials come from the standard AWS chain only. */
export interface S3ClientSettings {
  readonly region?: string;
  /** An S3-compatible endpoint (a local server, a VPC endpoint). Absent: the regional AWS endpoint. */
  readonly endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which local servers need. @default false */
  readonly forcePathStyle?: boolean;
  /** SDK-level attempts for throttling and 5xx (its standard retry strategy). @default 3 */
  readonly maxAttempts?: number;
}

/**
 * Builds the S3 client the store and the state use. The SDK's default checksum behaviour is kept on purpose
 * (request checksums WHEN_SUPPORTED, response validation WHEN_SUPPORTED): we add SHA-256 on top of it, never
 * instead of it.
 */
export function createS3Client(settings: S3ClientSettings = {}): S3Client {
  return new S3Client({
    ...(settings.region === undefined ? {} : { region: settings.region }),
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    forcePathStyle: settings.forcePathStyle ?? false,
    maxAttempts: settings.maxAttempts ?? 3,
  });
}

/** What the SDK puts on a service or transport error; all optional, since network errors carry none of it. */
interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $retryable?: unknown;
}

export function httpStatusOf(err: unknown): number | undefined {
  const status = (err as SdkErrorShape | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function errorNameOf(err: unknown): string {
  const e = err as SdkErrorShape | null;
  if (typeof e?.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e?.code === 'string') return e.code;
  return 'Error';
}

/** S3 answers a failed `If-None-Match` / `If-Match` with 412 PreconditionFailed. */
export function isPreconditionFailed(err: unknown): boolean {
  return httpStatusOf(err) === 412 || errorNameOf(err) === 'PreconditionFailed';
}

/** 409 ConditionalRequestConflict: another conditional write to the same key is in flight; retry later. */
export function isConditionalConflict(err: unknown): boolean {
  return errorNameOf(err) === 'ConditionalRequestConflict';
}

export function isNotFound(err: unknown): boolean {
  const name = errorNameOf(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (httpStatusOf(err) === 404 && name !== 'NoSuchBucket');
}

const ACCESS_NAMES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'KMS.AccessDeniedException',
]);
const DIGEST_NAMES = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch', 'InvalidChecksum']);
const THROTTLE_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
]);

/**
 * Maps an SDK error to a StoreError. The message names the operation, the key and S3's error name: never a
 * body, never a credential. A missing HTTP status means the request never got an answer (reset, timeout, DNS):
 * retryable.
 */
export function toStoreError(err: unknown, operation: string, key: string): StoreError {
  if (err instanceof StoreError) return err;
  const name = errorNameOf(err);
  const status = httpStatusOf(err);
  const where = `S3 ${operation} ${key}: ${name}${status === undefined ? '' : ` (HTTP ${status})`}`;
  if (ACCESS_NAMES.has(name) || status === 403) return new StoreError('EACCESS', where, { cause: err, retryable: false });
  // A body that does not match the checksum we sent was changed in transit; sending it again may well succeed.
  if (DIGEST_NAMES.has(name)) return new StoreError('EVERIFY', where, { cause: err, retryable: true });
  if (isNotFound(err)) return new StoreError('ENOTFOUND', where, { cause: err, retryable: false });
  if (isPreconditionFailed(err) || isConditionalConflict(err)) return new StoreError('ECONFLICT', where, { cause: err, retryable: true });
  if (status === undefined || status >= 500 || status === 429 || THROTTLE_NAMES.has(name)) {
    return new StoreError('EIO', where, { cause: err, retryable: true });
  }
  return new StoreError('EIO', where, { cause: err, retryable: false });
}

/** The server-side encryption parameters of every PutObject and CreateMultipartUpload, from a store's options. */
export interface SseParams {
  readonly ServerSideEncryption?: 'aws:kms' | 'AES256';
  readonly SSEKMSKeyId?: string;
}

export function sseParams(options: { readonly sse?: 'aws:kms' | 'AES256'; readonly kmsKeyId?: string }): SseParams {
  return {
    ...(options.sse === undefined ? {} : { ServerSideEncryption: options.sse }),
    ...(options.kmsKeyId === undefined ? {} : { SSEKMSKeyId: options.kmsKeyId }),
  };
}

/** Every page of a ListObjectsV2 listing, continuation tokens followed; a failed request is a StoreError. */
export async function* listObjectPages(
  client: S3Client,
  input: Omit<ListObjectsV2CommandInput, 'ContinuationToken'> & { readonly Prefix: string },
): AsyncIterable<ListObjectsV2CommandOutput> {
  let token: string | undefined;
  do {
    let res: ListObjectsV2CommandOutput;
    try {
      // StartAfter only means something on the first request; the token carries the position after it.
      res = await client.send(
        new ListObjectsV2Command(token === undefined ? input : { ...input, StartAfter: undefined, ContinuationToken: token }),
      );
    } catch (err) {
      throw toStoreError(err, 'ListObjectsV2', input.Prefix);
    }
    yield res;
    token = res.IsTruncated === true ? res.NextContinuationToken : undefined;
  } while (token !== undefined);
}

/**
 * PutObject of a small JSON record (state, lease) under a condition, with its SHA-256 for S3 to check; resolves
 * with the new ETag, the version the next conditional write names. SDK errors pass through for the caller to judge
 * (a lost race reads differently for each).
 */
export async function putJsonIf(
  client: S3Client,
  o: {
    readonly bucket: string;
    readonly key: string;
    readonly body: Buffer;
    readonly condition: { IfNoneMatch: '*' } | { IfMatch: string };
    readonly sse: SseParams;
  },
): Promise<string> {
  const res = await client.send(
    new PutObjectCommand({
      Bucket: o.bucket,
      Key: o.key,
      Body: o.body,
      ContentLength: o.body.length,
      ContentType: 'application/json',
      ChecksumSHA256: createHash('sha256').update(o.body).digest('base64'),
      ...o.condition,
      ...o.sse,
    }),
  );
  if (res.ETag === undefined || res.ETag === '')
    throw new StoreError('EIO', `S3 PutObject ${o.key}: no ETag returned`, { retryable: true });
  return res.ETag;
}
