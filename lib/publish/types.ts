import type { MetadataDocument } from '../document/metadata-schema.ts';
import { CodedError } from '../coded-error.ts';

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
  /**
   * Once per run, before the mailboxes: lets in-process consumers catch up and retry what failed last time (the
   * local processors). Never rejects for a consumer's failure. Returns documents handled per consumer.
   */
  drain?(): Promise<Readonly<Record<string, number>>>;
  close?(): Promise<void>;
}

export class PublishError extends CodedError<'EPUBLISH'> {
  /** Ids of the documents that were not accepted. */
  readonly failedIds: readonly string[];
  constructor(message: string, failedIds: readonly string[], options?: { cause?: unknown; retryable?: boolean }) {
    super('PublishError', 'EPUBLISH', message, { cause: options?.cause, retryable: options?.retryable ?? true, failureClass: 'publish' });
    this.failedIds = failedIds;
  }
}
