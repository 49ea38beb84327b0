import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { CodedError } from '../../lib/coded-error.ts';

export class SendBatchError extends CodedError<'ESENDBATCH'> {
  /** Entry ids that were never accepted. */
  readonly failedIds: readonly string[];
  constructor(message: string, failedIds: readonly string[]) {
    super('SendBatchError', 'ESENDBATCH', message, { retryable: true, failureClass: 'publish' });
    this.failedIds = failedIds;
  }
}

export interface SendBatchOptions {
  /** Attempts for entries SQS lists as Failed (a whole-request failure is retried by the SDK). @default 5 */
  readonly maxAttempts?: number;
  readonly backoff?: (attempt: number) => Promise<void>;
}

const SQS_BATCH_LIMIT = 10;

function defaultBackoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt) * (0.5 + Math.random())));
}

/**
 * Sends entries in SendMessageBatch chunks of 10. A batch call can succeed while some entries fail: those are
 * sent again with backoff; sender faults (a malformed entry) are not, since they would fail the same way.
 * Resolves with the number sent; rejects with SendBatchError naming every entry that never got in.
 */
export async function sendInBatches(
  sqs: SQSClient,
  queueUrl: string,
  entries: readonly SendMessageBatchRequestEntry[],
  options: SendBatchOptions = {},
): Promise<number> {
  const maxAttempts = options.maxAttempts ?? 5;
  const backoff = options.backoff ?? defaultBackoff;
  const failed: Array<{ id: string; reason: string }> = [];
  let sent = 0;
  for (let i = 0; i < entries.length; i += SQS_BATCH_LIMIT) {
    let pending = entries.slice(i, i + SQS_BATCH_LIMIT);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
      sent += out.Successful?.length ?? 0;
      const retry = new Set<string>();
      for (const f of out.Failed ?? []) {
        if (f.SenderFault === true || attempt >= maxAttempts) failed.push({ id: f.Id ?? '?', reason: f.Code ?? 'unknown' });
        else retry.add(f.Id ?? '');
      }
      pending = pending.filter((e) => retry.has(e.Id!));
      if (pending.length > 0) await backoff(attempt);
    }
  }
  if (failed.length > 0) {
    throw new SendBatchError(
      `${failed.length} of ${entries.length} messages were not accepted: ${failed.map((f) => `${f.id} (${f.reason})`).join(', ')}`,
      failed.map((f) => f.id),
    );
  }
  return sent;
}
