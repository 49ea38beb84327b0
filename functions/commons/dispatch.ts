import type { SQSClient } from '@aws-sdk/client-sqs';
import { pollJobEntries, type PollJob } from './poll-job.ts';
import { sendInBatches, type SendBatchOptions } from './send-batch.ts';

/** The part of a mailbox's config the dispatcher reads. */
export interface DispatchMailbox {
  readonly id: string;
  readonly enabled?: boolean;
}

export interface DispatchResult {
  readonly scheduledAt: string;
  readonly mailboxes: number;
  readonly sent: number;
  readonly disabled: number;
}

/**
 * The schedule tick a poll answers. EventBridge's `time` is the same for every delivery of one tick, which is
 * what lets FIFO deduplication collapse duplicates; its absence (a manual test invoke) falls back to the minute.
 */
export function scheduledAtOf(event: { readonly time?: unknown } | null | undefined, now: Date): string {
  const t = typeof event?.time === 'string' ? new Date(event.time) : null;
  if (t !== null && !Number.isNaN(t.getTime())) return t.toISOString();
  const minute = new Date(now);
  minute.setUTCSeconds(0, 0);
  return minute.toISOString();
}

/** One poll job per enabled mailbox, to the FIFO poll queue. */
export async function dispatchPollJobs(
  sqs: SQSClient,
  queueUrl: string,
  mailboxes: readonly DispatchMailbox[],
  scheduledAt: string,
  options?: SendBatchOptions,
): Promise<DispatchResult> {
  const enabled = mailboxes.filter((m) => m.enabled !== false);
  const jobs: PollJob[] = enabled.map((m) => ({ mailboxId: m.id, scheduledAt }));
  const sent = await sendInBatches(sqs, queueUrl, pollJobEntries(jobs), options);
  return { scheduledAt, mailboxes: enabled.length, sent, disabled: mailboxes.length - enabled.length };
}
