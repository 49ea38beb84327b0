import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dispatchPollJobs, scheduledAtOf } from '../../functions/commons/dispatch.ts';
import { parsePollJob, pollJobDedupId } from '../../functions/commons/poll-job.ts';
import { SendBatchError } from '../../functions/commons/send-batch.ts';
import { fakeSqs } from './fake-sqs.ts';

const QUEUE = 'http://127.0.0.1/000000000000/poll.fifo';
const TICK = '2025-03-01T10:05:00.000Z';
const noWait = async () => {};
const boxes = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `box-${i}` }));

describe('dispatcher: poll jobs', () => {
  it('sends one job per enabled mailbox in chunks of 10, grouped by mailbox', async () => {
    const sqs = fakeSqs();
    const mailboxes = [...boxes(23), { id: 'off', enabled: false }];

    const out = await dispatchPollJobs(sqs.client, QUEUE, mailboxes, TICK, { backoff: noWait });

    assert.deepEqual(out, { scheduledAt: TICK, mailboxes: 23, sent: 23, disabled: 1 });
    assert.deepEqual(
      sqs.calls.map((c) => c.Entries.length),
      [10, 10, 3],
    );
    const entries = sqs.calls.flatMap((c) => c.Entries);
    assert.deepEqual(
      entries.map((e) => e.MessageGroupId),
      mailboxes.slice(0, 23).map((m) => m.id),
    );
    assert.deepEqual(parsePollJob(entries[0]!.MessageBody), { mailboxId: 'box-0', scheduledAt: TICK });
    assert.ok(entries.every((e) => e.MessageDeduplicationId === pollJobDedupId(parsePollJob(e.MessageBody))));
    assert.ok(sqs.calls.every((c) => c.QueueUrl === QUEUE));
  });

  it('gives the same dedup id for the same mailbox and tick, and a different one otherwise', () => {
    const a = pollJobDedupId({ mailboxId: 'a', scheduledAt: TICK });
    assert.equal(a, pollJobDedupId({ mailboxId: 'a', scheduledAt: TICK }));
    assert.notEqual(a, pollJobDedupId({ mailboxId: 'a', scheduledAt: '2025-03-01T10:10:00.000Z' }));
    assert.notEqual(a, pollJobDedupId({ mailboxId: 'b', scheduledAt: TICK }));
    assert.match(a, /^[0-9a-f]{64}$/);
  });

  it('retries only the entries SQS lists as Failed', async () => {
    const sqs = fakeSqs((_batch, call) => (call === 1 ? { failIds: ['j3', 'j7'] } : {}));
    const out = await dispatchPollJobs(sqs.client, QUEUE, boxes(10), TICK, { backoff: noWait });
    assert.equal(out.sent, 10);
    assert.deepEqual(
      sqs.calls.map((c) => c.Entries.map((e) => e.Id)),
      [
        ['j0', 'j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7', 'j8', 'j9'],
        ['j3', 'j7'],
      ],
    );
  });

  it('gives up after maxAttempts and names the entries that never got in', async () => {
    const sqs = fakeSqs(() => ({ failIds: ['j1'] }));
    await assert.rejects(dispatchPollJobs(sqs.client, QUEUE, boxes(3), TICK, { backoff: noWait, maxAttempts: 3 }), (err: unknown) => {
      assert.ok(err instanceof SendBatchError);
      assert.deepEqual(err.failedIds, ['j1']);
      return true;
    });
    assert.equal(sqs.calls.length, 3);
  });

  it('does not retry a sender fault, which would fail the same way again', async () => {
    const sqs = fakeSqs(() => ({ failIds: ['j0'], senderFault: true }));
    await assert.rejects(dispatchPollJobs(sqs.client, QUEUE, boxes(2), TICK, { backoff: noWait }), SendBatchError);
    assert.equal(sqs.calls.length, 1);
  });

  it('sends nothing when no mailbox is enabled', async () => {
    const sqs = fakeSqs();
    assert.deepEqual(await dispatchPollJobs(sqs.client, QUEUE, [{ id: 'x', enabled: false }], TICK), {
      scheduledAt: TICK,
      mailboxes: 0,
      sent: 0,
      disabled: 1,
    });
    assert.equal(sqs.calls.length, 0);
  });
});

describe('dispatcher: schedule tick', () => {
  it('uses the EventBridge event time, so duplicate deliveries share it', () => {
    assert.equal(scheduledAtOf({ time: '2025-03-01T10:05:00Z' }, new Date()), TICK);
  });
  it('falls back to the current minute for an event without a time', () => {
    assert.equal(scheduledAtOf({}, new Date('2025-03-01T10:05:42.123Z')), TICK);
    assert.equal(scheduledAtOf({ time: 'garbage' }, new Date('2025-03-01T10:05:42.123Z')), TICK);
  });
});

describe('poll job body', () => {
  it('rejects bodies that are not a job, saying why', () => {
    assert.throws(() => parsePollJob('not json'), /not JSON/);
    assert.throws(() => parsePollJob('{"mailboxId":""}'), /mailboxId|scheduledAt/);
    assert.throws(() => parsePollJob('{"mailboxId":"a","scheduledAt":"t","extra":1}'), /invalid/);
  });
});
