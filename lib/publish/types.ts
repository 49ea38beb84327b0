import type { MetadataDocument } from '../ingest/metadata-schema.ts';

export interface PublishResult {
  /** Documents accepted by at least every target whose filter matched them. */
  readonly published: number;
  /** Per target name, how many documents went there. */
  readonly perTarget: Readonly<Record<string, number>>;
}

/** Fans metadata documents out to downstream processors. */
export interface Publisher {
  /** Resolves only when every document is durably accepted by every matching target; rejects (PublishError) otherwise. Safe to call again with the same documents: consumers deduplicate by `id`. */
  publish(docs: readonly MetadataDocument[]): Promise<PublishResult>;
  close?(): Promise<void>;
}

export class PublishError extends Error {
  readonly code: 'EPUBLISH';
  readonly retryable: boolean;
  /** Ids of the documents that were not accepted. */
  readonly failedIds: readonly string[];
  constructor(message: string, failedIds: readonly string[], options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PublishError';
    this.code = 'EPUBLISH';
    this.failedIds = failedIds;
    this.retryable = options?.retryable ?? true;
  }
}
