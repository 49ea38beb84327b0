import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SendMessageBatchCommandInput, SendMessageBatchCommandOutput, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';
import { resolveDocument } from '../../lib/publish/resolve-document.ts';
import { messageAttributes, SqsPublisher, sqsMessageSize, sqsSafeJson } from '../../lib/publish/sqs-publisher.ts';
import { PublishError } from '../../lib/publish/types.ts';
import { S3RawStore } from '../../lib/store/s3-store.ts';
import { startLocalAws } from '../helpers/fauxqs.ts';
import type { LocalAws } from '../helpers/fauxqs.ts';
import { fakeMetadataDocument } from '../helpers/memory-adapters.ts';

function docs(n: number, overrides: (i: number) => Partial<MetadataDocument> = () => ({})): MetadataDocument[] {
  return Array.from({ length: n }, (_, i) =>
    fakeMetadataDocument({
      id: `${String(i).padStart(4, '0')}${'d'.repeat(60)}`,
      // A UIDL no batch entry id may contain.
      uidl: `<${i}@pop.example> spaces/slashes`,
      subject: `件名 ${i}`,
      ...overrides(i),
    }),
  );
}

const bodyDoc = (m: Message) => JSON.parse(m.Body!) as MetadataDocument;

/** Records every SendMessageBatch (its entries) and lets a test rewrite requests and responses. */
function spyBatches(
  client: SQSClient,
  rewrite?: (
    input: SendMessageBatchCommandInput,
    call: number,
  ) => {
    input: SendMessageBatchCommandInput;
    patch?: (out: SendMessageBatchCommandOutput) => void;
  },
) {
  const calls: SendMessageBatchCommandInput[] = [];
  let gets = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetQueueAttributesCommand') gets++;
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const original = args.input as SendMessageBatchCommandInput;
      calls.push(original);
      const r = rewrite?.(original, calls.length) ?? { input: original };
      // SQS refuses an empty batch: when every entry is made to fail, answer for it.
      const result =
        r.input.Entries!.length === 0
          ? { output: { Successful: [], Failed: [], $metadata: {} } as SendMessageBatchCommandOutput, response: {} }
          : await next({ ...args, input: r.input });
      r.patch?.(result.output as SendMessageBatchCommandOutput);
      return result;
    },
    { step: 'initialize', name: 'spyBatches' },
  );
  return { calls, gets: () => gets };
}

describe('SqsPublisher on a local SQS (fauxqs)', () => {
  let aws: LocalAws;
  let store: S3RawStore;
  before(async () => {
    aws = await startLocalAws();
    store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'pub' });
  });
  after(async () => {
    await aws.stop();
  });

  it('sends 23 documents in batches of at most 10 with position-based entry ids and only safe attributes', async () => {
    const queueUrl = await aws.createQueue();
    const client = aws.newSqsClient();
    const spy = spyBatches(client);
    const publisher = new SqsPublisher({ client, targets: [{ name: 'all', queueUrl }], claimCheck: { store } });
    const sent = docs(23, (i) =>
      i === 3
        ? {
            flags: { ...fakeMetadataDocument().flags, autoReply: true },
            attachments: [
              { filename: 'a.pdf', contentType: 'application/pdf', size: 1, sha256: '0'.repeat(64), contentId: null, inline: false },
            ],
          }
        : {},
    );

    const result = await publisher.publish(sent);

    assert.deepEqual(result, { published: 23, perTarget: { all: 23 } });
    assert.deepEqual(
      spy.calls.map((c) => c.Entries!.length),
      [10, 10, 3],
    );
    for (const c of spy.calls) for (const [i, e] of c.Entries!.entries()) assert.equal(e.Id, `m${i}`);
    const received = await aws.drainQueue(queueUrl);
    assert.deepEqual(received.map((m) => bodyDoc(m).id).sort(), sent.map((d) => d.id).sort());
    const third = received.find((m) => bodyDoc(m).id === sent[3]!.id)!;
    assert.deepEqual(bodyDoc(third), sent[3]);
    const attrs = Object.fromEntries(Object.entries(third.MessageAttributes!).map(([k, v]) => [k, `${v.DataType}:${v.StringValue}`]));
    assert.deepEqual(attrs, {
      mailbox: 'String:support',
      schemaVersion: 'Number:1',
      autoReply: 'String:true',
      bounce: 'String:false',
      list: 'String:false',
      hasAttachments: 'String:true',
    });
  });

  it('fans each document out to every target whose filter matches', async () => {
    const [tickets, attachments, everything, sales] = await Promise.all([
      aws.createQueue(),
      aws.createQueue(),
      aws.createQueue(),
      aws.createQueue(),
    ]);
    const publisher = new SqsPublisher({
      client: aws.sqs,
      targets: [
        { name: 'tickets', queueUrl: tickets, filter: { to: ['@support.example.jp'], autoReply: false } },
        { name: 'attachments', queueUrl: attachments, filter: { hasAttachments: true } },
        { name: 'everything', queueUrl: everything },
        { name: 'sales', queueUrl: sales, filter: { mailbox: ['sales'] } },
      ],
      claimCheck: { store },
    });
    const att = [{ filename: 'x.pdf', contentType: 'application/pdf', size: 3, sha256: '1'.repeat(64), contentId: null, inline: false }];
    const flags = fakeMetadataDocument().flags;
    const [toSupport, autoReply, withAttachment, other] = docs(
      4,
      (i) =>
        [
          { to: [{ name: '', address: 'help@support.example.jp' }] },
          { cc: [{ name: '', address: 'Help@Support.Example.JP' }], flags: { ...flags, autoReply: true } },
          { to: [{ name: '', address: 'a@support.example.jp' }], attachments: att },
          { to: [{ name: '', address: 'a@sub.support.example.jp' }] },
        ][i]!,
    );

    const result = await publisher.publish([toSupport!, autoReply!, withAttachment!, other!]);

    assert.deepEqual(result, { published: 4, perTarget: { tickets: 2, attachments: 1, everything: 4, sales: 0 } });
    const ids = async (q: string) => (await aws.drainQueue(q)).map((m) => bodyDoc(m).id).sort();
    assert.deepEqual(await ids(tickets), [toSupport!.id, withAttachment!.id].sort());
    assert.deepEqual(await ids(attachments), [withAttachment!.id]);
    assert.deepEqual(await ids(everything), [toSupport!.id, autoReply!.id, withAttachment!.id, other!.id].sort());
    assert.deepEqual(await ids(sales), []);
  });

  it('sends to a FIFO queue with the mailbox as group and the document id as deduplication id', async () => {
    const queueUrl = await aws.createQueue({ fifo: true });
    const publisher = new SqsPublisher({ client: aws.sqs, targets: [{ name: 'fifo', queueUrl }], claimCheck: { store } });
    const sent = docs(12, (i) => ({ mailbox: i % 2 === 0 ? 'support' : 'sales' }));

    await publisher.publish(sent);
    await publisher.publish(sent.slice(0, 5));

    const received = await aws.drainQueue(queueUrl);
    assert.equal(received.length, 12, 'the second publish was deduplicated by id');
    for (const m of received) {
      const d = bodyDoc(m);
      assert.equal(m.Attributes?.MessageGroupId, d.mailbox);
      assert.equal(m.Attributes?.MessageDeduplicationId, d.id);
    }
    const supportOrder = received.filter((m) => bodyDoc(m).mailbox === 'support').map((m) => bodyDoc(m).id);
    assert.deepEqual(
      supportOrder,
      sent.filter((d) => d.mailbox === 'support').map((d) => d.id),
      'in order within a group',
    );
  });

  it("sends a document of exactly the queue's MaximumMessageSize inline and one byte more as a claim check", async () => {
    const limit = 2048;
    const queueUrl = await aws.createQueue({ attributes: { MaximumMessageSize: String(limit) } });
    const client = aws.newSqsClient();
    const spy = spyBatches(client);
    const publisher = new SqsPublisher({ client, targets: [{ name: 'small', queueUrl }], claimCheck: { store } });
    const sized = (id: string, bytes: number) => {
      const base = fakeMetadataDocument({ id, snippet: '' });
      const size = sqsMessageSize(sqsSafeJson(JSON.stringify(base)), messageAttributes(base));
      return { ...base, snippet: 'x'.repeat(bytes - size) };
    };
    const atLimit = sized('at-limit', limit);
    const overLimit = sized('over-limit', limit + 1);

    await publisher.publish([atLimit, overLimit]);
    await publisher.publish([atLimit]);

    assert.equal(spy.gets(), 1, 'MaximumMessageSize read once per queue');
    const received = await aws.drainQueue(queueUrl);
    assert.equal(received.length, 3);
    const inline = received.filter((m) => !m.Body!.includes('"claimCheck"'));
    assert.equal(inline.length, 2);
    assert.deepEqual(bodyDoc(inline[0]!), atLimit);
    const claimed = received.find((m) => m.Body!.includes('"claimCheck"'))!;
    const pointer = JSON.parse(claimed.Body!);
    assert.deepEqual(
      { ...pointer, claimCheck: { ...pointer.claimCheck, sha256: '-', size: '-' } },
      {
        claimCheck: { bucket: aws.bucket, key: 'pub/claims/over-limit.json', sha256: '-', size: '-' },
        id: 'over-limit',
        mailbox: 'support',
        schemaVersion: 1,
      },
    );
    assert.equal(claimed.MessageAttributes?.mailbox?.StringValue, 'support');
    assert.deepEqual(await resolveDocument(claimed.Body!, { getObject: (key, bucket) => store.getObject(key, bucket) }), overLimit);
    assert.deepEqual(await resolveDocument(inline[0]!.Body!, { getObject: async () => null }), atLimit);
  });

  it('escapes characters SQS refuses, so any Japanese or emoji subject arrives as the same JSON value', async () => {
    const queueUrl = await aws.createQueue();
    const publisher = new SqsPublisher({ client: aws.sqs, targets: [{ name: 'q', queueUrl }], claimCheck: { store } });
    const [d] = docs(1, () => ({ subject: '①～ＡＢＣ 🍣 \uFFFE \u0001 end', snippet: '𠮷野家' }));
    await publisher.publish([d!]);
    const [m] = await aws.drainQueue(queueUrl);
    assert.deepEqual(bodyDoc(m!), d);
  });

  it('retries entries listed as Failed with backoff until they are accepted, each document arriving once', async () => {
    const queueUrl = await aws.createQueue();
    const client = aws.newSqsClient();
    const failOnce = new Set<string>();
    const spy = spyBatches(client, (input, call) => {
      if (call !== 1) return { input };
      // SQS accepts the batch but lists entries 2 and 5 as Failed (a server-side fault).
      const dropped = input.Entries!.filter((_, i) => i === 2 || i === 5);
      for (const e of dropped) failOnce.add(e.Id!);
      return {
        input: { ...input, Entries: input.Entries!.filter((e) => !failOnce.has(e.Id!)) },
        patch: (out) => {
          out.Failed = [...(out.Failed ?? []), ...dropped.map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'InternalError' }))];
        },
      };
    });
    const publisher = new SqsPublisher({ client, targets: [{ name: 'q', queueUrl }], claimCheck: { store }, baseDelayMs: 5 });
    const sent = docs(8);

    const result = await publisher.publish(sent);

    assert.deepEqual(result, { published: 8, perTarget: { q: 8 } });
    assert.deepEqual(
      spy.calls.map((c) => c.Entries!.length),
      [8, 2],
    );
    assert.deepEqual(
      spy.calls[1]!.Entries!.map((e) => JSON.parse(e.MessageBody!).id),
      [sent[2]!.id, sent[5]!.id],
    );
    const received = await aws.drainQueue(queueUrl);
    assert.deepEqual(received.map((m) => bodyDoc(m).id).sort(), sent.map((d) => d.id).sort());
  });

  it('gives up after maxAttempts with a retryable PublishError naming exactly the documents not accepted', async () => {
    const queueUrl = await aws.createQueue();
    const client = aws.newSqsClient();
    const spy = spyBatches(client, (input) => {
      const bad = input.Entries!.filter((e) => JSON.parse(e.MessageBody!).id.startsWith('0001'));
      return {
        input: { ...input, Entries: input.Entries!.filter((e) => !bad.includes(e)) },
        patch: (out) => {
          out.Failed = bad.map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'ServiceUnavailable' }));
        },
      };
    });
    const publisher = new SqsPublisher({
      client,
      targets: [{ name: 'q', queueUrl }],
      claimCheck: { store },
      maxAttempts: 3,
      baseDelayMs: 1,
    });
    const sent = docs(3);
    await assert.rejects(
      publisher.publish(sent),
      (e: unknown) =>
        e instanceof PublishError &&
        e.retryable &&
        e.failedIds.length === 1 &&
        e.failedIds[0] === sent[1]!.id &&
        /ServiceUnavailable/.test(e.message),
    );
    assert.equal(spy.calls.length, 3);
    assert.equal((await aws.drainQueue(queueUrl)).length, 2);
  });

  it('does not retry a sender fault, and fails every document of a queue that does not exist', async () => {
    const queueUrl = await aws.createQueue();
    const client = aws.newSqsClient();
    const spy = spyBatches(client, (input) => ({
      input,
      patch: (out) => {
        const first = out.Successful!.shift()!;
        out.Failed = [{ Id: first.Id!, SenderFault: true, Code: 'InvalidParameterValue' }];
      },
    }));
    const publisher = new SqsPublisher({ client, targets: [{ name: 'q', queueUrl }], claimCheck: { store }, baseDelayMs: 1 });
    const sent = docs(2);
    await assert.rejects(
      publisher.publish(sent),
      (e: unknown) => e instanceof PublishError && !e.retryable && e.failedIds.join() === sent[0]!.id,
    );
    assert.equal(spy.calls.length, 1);

    const missing = new SqsPublisher({
      client: aws.sqs,
      targets: [{ name: 'gone', queueUrl: `${aws.endpoint}/000000000000/no-such-queue` }],
      claimCheck: { store },
    });
    await assert.rejects(
      missing.publish(sent),
      (e: unknown) => e instanceof PublishError && e.failedIds.length === 2 && /gone/.test(e.message),
    );
  });

  it('publishes nothing and succeeds for an empty list, and refuses duplicate target names', async () => {
    const queueUrl = await aws.createQueue();
    const publisher = new SqsPublisher({ client: aws.sqs, targets: [{ name: 'q', queueUrl }], claimCheck: { store } });
    assert.deepEqual(await publisher.publish([]), { published: 0, perTarget: { q: 0 } });
    assert.throws(
      () =>
        new SqsPublisher({
          client: aws.sqs,
          targets: [
            { name: 'q', queueUrl },
            { name: 'q', queueUrl },
          ],
          claimCheck: { store },
        }),
      /duplicate/,
    );
  });
});
