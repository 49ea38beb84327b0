import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { S3RawStore } from '../../lib/store/s3-store.ts';
import { answerS3Requests, startLocalAws, type LocalAws } from '../helpers/fauxqs.ts';
import { endlessBody, forUids, listWithSizes } from '../helpers/fake-pop3-faults.ts';
import { startFakePop3Server } from '../helpers/fake-pop3-server.ts';
import { MemoryPublisher, MemoryStateStore } from '../helpers/memory-adapters.ts';
import { sampleMessage } from '../helpers/memory-pop3.ts';
import { fakeServerJob } from './fault-server-helpers.ts';

const MiB = 1024 * 1024;

describe('an over-limit message against S3 (fauxqs)', () => {
  let aws: LocalAws;
  before(async () => {
    aws = await startLocalAws();
  });
  after(async () => {
    await aws?.stop();
  });

  it('a never-ending RETR is never completed in S3: its multipart upload is aborted, only its headers are stored', async () => {
    const headers = 'From: a@example.com\r\nSubject: endless\r\nDate: Thu, 26 Nov 2026 09:00:00 +0900';
    const endless = endlessBody(headers);
    const server = await startFakePop3Server({
      messages: [sampleMessage(1), Buffer.from(`${headers}\r\n\r\nx\r\n`)],
      handlers: { LIST: listWithSizes({ 'uid-2': 1000 }), RETR: forUids('RETR', ['uid-2'], endless.handler) },
    });
    const client = aws.newS3Client();
    const sent: Array<{ command: string; bytes: number }> = [];
    answerS3Requests(client, (command, input) => {
      const body = input.Body;
      sent.push({ command, bytes: Buffer.isBuffer(body) || body instanceof Uint8Array ? body.length : 0 });
      return undefined;
    });
    const bucket = await aws.createBucket();
    try {
      const store = new S3RawStore({ client, bucket, multipartThreshold: 5 * MiB, partSize: 5 * MiB });
      const limit = 12 * MiB;
      const s = await runMailbox({
        job: fakeServerJob(server, { maxMessageBytes: limit }),
        store,
        state: new MemoryStateStore(),
        publisher: new MemoryPublisher(),
      });
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.deepEqual({ stored: s.stored, oversized: s.oversized }, { stored: 1, oversized: 1 });
      const commands = sent.map((c) => c.command);
      assert.ok(commands.includes('CreateMultipartUploadCommand'), 'the body streamed past the multipart threshold');
      assert.ok(!commands.includes('CompleteMultipartUploadCommand'), `no over-limit object was completed: ${commands.join(' ')}`);
      assert.ok(commands.includes('AbortMultipartUploadCommand'), 'its upload was aborted');
      const uploaded = sent.filter((c) => c.command === 'UploadPartCommand').reduce((n, c) => n + c.bytes, 0);
      assert.ok(uploaded <= limit, `${uploaded} bytes of parts uploaded for a ${limit}-byte limit`);
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (listed.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size! }));
      assert.deepEqual(
        keys.filter((o) => o.key.startsWith('staging/')),
        [],
        'no staging object left behind',
      );
      const raws = keys.filter((o) => o.key.endsWith('.eml'));
      assert.equal(raws.length, 2);
      assert.ok(
        raws.every((o) => o.size < 4096),
        `only small objects stored: ${JSON.stringify(raws)}`,
      );
    } finally {
      await server.close();
    }
  });
});
