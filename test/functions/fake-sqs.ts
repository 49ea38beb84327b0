import type { SQSClient } from '@aws-sdk/client-sqs';

export interface SentBatch {
  QueueUrl: string;
  Entries: Array<{ Id: string; MessageBody: string; MessageGroupId?: string; MessageDeduplicationId?: string }>;
}

/**
 * An SQSClient stand-in that records SendMessageBatch calls and answers them with `respond` (default: all
 * Successful), so tests can script partial failures that fauxqs never produces.
 */
export function fakeSqs(respond?: (batch: SentBatch, call: number) => { failIds?: string[]; senderFault?: boolean }) {
  const calls: SentBatch[] = [];
  const client = {
    async send(command: { input: SentBatch }) {
      const batch = command.input;
      calls.push(batch);
      const { failIds = [], senderFault = false } = respond?.(batch, calls.length) ?? {};
      return {
        Successful: batch.Entries.filter((e) => !failIds.includes(e.Id)).map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
        Failed: batch.Entries.filter((e) => failIds.includes(e.Id)).map((e) => ({
          Id: e.Id,
          Code: senderFault ? 'InvalidParameterValue' : 'InternalError',
          SenderFault: senderFault,
        })),
      };
    },
  } as unknown as SQSClient;
  return { client, calls };
}
