import type { Readable } from 'node:stream';
import { CodedError } from '../coded-error.ts';

/** An object read with the version token a conditional write can be made against. */
export interface StoredObject {
  readonly body: Buffer;
  /** Opaque version (S3: the ETag). */
  readonly etag: string;
}

export interface PutOptions {
  readonly contentType?: string;
  /** Write only if the current object still has this etag (S3 `If-Match`). */
  readonly ifMatch?: string;
  /** Write only if no object exists at the key (S3 `If-None-Match: *`). */
  readonly ifNoneMatch?: '*';
}

/**
 * The little the processors need from a bucket. Keeping it this small lets the processor logic run against S3 in
 * Lambda, against a folder from the CLI, and against an in-memory map in unit tests.
 */
export interface ObjectStore {
  get(key: string): Promise<StoredObject | null>;
  /** Throws `PreconditionFailedError` when `ifMatch` / `ifNoneMatch` does not hold. */
  put(key: string, body: Buffer | string, options?: PutOptions): Promise<{ readonly etag: string }>;
  exists(key: string): Promise<boolean>;
}

/** Opens the raw bytes of an archived message as a stream. */
export type RawOpener = (ref: { readonly key: string; readonly bucket?: string }) => Promise<Readable>;

/** A conditional write lost: someone else wrote the object first. Retry after re-reading. */
export class PreconditionFailedError extends CodedError<'EPRECONDITION'> {
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown }) {
    super('PreconditionFailedError', 'EPRECONDITION', `conditional write to ${JSON.stringify(key)} failed: the object changed`, {
      cause: options?.cause,
      retryable: true,
      failureClass: 'storage',
    });
    this.key = key;
  }
}

export function isPreconditionFailed(err: unknown): err is PreconditionFailedError {
  return err instanceof PreconditionFailedError || (err as { code?: unknown } | null)?.code === 'EPRECONDITION';
}

/** A view of `store` under `prefix` (`''` or ending without a slash: `out` → `out/<key>`). */
export function prefixedStore(store: ObjectStore, prefix: string): ObjectStore {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  if (p === '') return store;
  const k = (key: string) => `${p}/${key}`;
  return {
    get: (key) => store.get(k(key)),
    put: (key, body, options) => store.put(k(key), body, options),
    exists: (key) => store.exists(k(key)),
  };
}
