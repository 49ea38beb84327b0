import { createHash } from 'node:crypto';
// A namespace import lets esbuild tree-shake zod (about 290 KiB less in a bundle than `import { z }`).
import * as z from 'zod';
import type { SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';

/** The body of one poll job on the FIFO poll queue. */
export const pollJobSchema = z.strictObject({
  mailboxId: z.string().min(1).max(64),
  /** The schedule tick that asked for the poll (the EventBridge event's `time`). */
  scheduledAt: z.string().min(1),
});
export type PollJob = z.infer<typeof pollJobSchema>;

export function parsePollJob(body: string): PollJob {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new TypeError('poll job body is not JSON');
  }
  const parsed = pollJobSchema.safeParse(json);
  if (!parsed.success)
    throw new TypeError(
      `poll job body is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/**
 * The FIFO deduplication id of a job: the same mailbox and schedule tick always give the same id, so an
 * EventBridge event delivered twice (at-least-once) within the 5-minute dedup window enqueues one poll.
 */
export function pollJobDedupId(job: PollJob): string {
  return createHash('sha256').update(`${job.mailboxId}\n${job.scheduledAt}`, 'utf8').digest('hex');
}

/** SendMessageBatch entries: MessageGroupId = mailbox, so one mailbox is never polled by two pollers at once. */
export function pollJobEntries(jobs: readonly PollJob[]): SendMessageBatchRequestEntry[] {
  return jobs.map((job, i) => ({
    Id: `j${i}`,
    MessageBody: JSON.stringify({ mailboxId: job.mailboxId, scheduledAt: job.scheduledAt }),
    MessageGroupId: job.mailboxId,
    MessageDeduplicationId: pollJobDedupId(job),
  }));
}
