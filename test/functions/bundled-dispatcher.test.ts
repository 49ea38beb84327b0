import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalAws, type LocalAws } from '../helpers/fauxqs.ts';
import { bundleHandler, type Bundle } from './bundle.ts';
import { invokeBundle, loopbackQueueUrl, scheduledEvent, lambdaEnv } from './run-bundle.ts';
import { pollJobDedupId } from '../../functions/commons/poll-job.ts';

function configFor(aws: LocalAws, queueUrl: string, ids: Array<{ id: string; enabled?: boolean }>) {
  return {
    store: { type: 's3', bucket: aws.bucket, prefix: 'mail' },
    publish: { type: 'sqs', targets: [{ name: 'tickets', queueUrl }] },
    mailboxes: ids.map((m) => ({
      id: m.id,
      host: 'pop.example.jp',
      user: m.id,
      password: { secretId: `mail-ingest/${m.id}` },
      ...(m.enabled === undefined ? {} : { enabled: m.enabled }),
    })),
  };
}

describe('bundled dispatcher (scheduled event → FIFO poll queue)', () => {
  let aws: LocalAws;
  let dir: string;
  let bundle: Bundle;
  let env: Record<string, string>;
  let pollQueue: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bundled-dispatcher-'));
    [aws, bundle] = await Promise.all([startLocalAws(), bundleHandler('dispatcher', dir)]);
    pollQueue = await aws.createQueue({ fifo: true, attributes: { ContentBasedDeduplication: 'false' } });
    // fauxqs names queues http://sqs.<region>.127.0.0.1:<port>/..., which the config's URL check refuses; the SDK
    // sends to its endpoint whatever the URL's host, so the loopback form is equivalent.
    const targetQueue = loopbackQueueUrl(await aws.createQueue());
    const ids = [...Array.from({ length: 12 }, (_, i) => ({ id: `box-${String(i).padStart(2, '0')}` })), { id: 'paused', enabled: false }];
    await aws.s3.send(
      new PutObjectCommand({ Bucket: aws.bucket, Key: 'config/mail-ingest.json', Body: JSON.stringify(configFor(aws, targetQueue, ids)) }),
    );
    env = lambdaEnv(aws, {
      CONFIG_BUCKET: aws.bucket,
      CONFIG_KEY: 'config/mail-ingest.json',
      POLL_QUEUE_URL: pollQueue,
      POWERTOOLS_SERVICE_NAME: 'dispatcher',
    });
  });
  after(async () => {
    await aws?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends one job per enabled mailbox, grouped by mailbox, and a duplicate delivery of the tick adds none', async () => {
    const event = scheduledEvent('2025-03-01T10:05:00Z');

    const first = await invokeBundle(bundle.file, event, env);
    const again = await invokeBundle(bundle.file, event, env);

    assert.equal(first.ok, true, JSON.stringify(first.error));
    assert.deepEqual(first.result, { scheduledAt: '2025-03-01T10:05:00.000Z', mailboxes: 12, sent: 12, disabled: 1 });
    assert.equal(again.ok, true);
    const messages = await aws.drainQueue(pollQueue);
    const jobs = messages.map((m) => ({
      body: JSON.parse(m.Body!),
      group: m.Attributes?.MessageGroupId,
      dedup: m.Attributes?.MessageDeduplicationId,
    }));
    assert.equal(jobs.length, 12, 'the second delivery collapsed by deduplication id');
    assert.deepEqual(
      jobs.map((j) => j.body.mailboxId).sort(),
      Array.from({ length: 12 }, (_, i) => `box-${String(i).padStart(2, '0')}`),
    );
    for (const j of jobs) {
      assert.deepEqual(j.body, { mailboxId: j.group, scheduledAt: '2025-03-01T10:05:00.000Z' });
      assert.equal(j.dedup, pollJobDedupId({ mailboxId: j.group!, scheduledAt: j.body.scheduledAt }));
    }
    const emf = first.emf.find((e) => 'PollJobsSent' in e);
    assert.equal(emf?.PollJobsSent, 12);
    assert.equal((emf!._aws as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics[0]!.Namespace, 'MailIngest');
  });

  it('sends a new round for the next tick', async () => {
    const out = await invokeBundle(bundle.file, scheduledEvent('2025-03-01T10:10:00Z'), env);
    assert.equal(out.ok, true);
    assert.equal((await aws.drainQueue(pollQueue)).length, 12);
  });

  it('fails at cold start, naming the variable, when the stack did not set one', async () => {
    const { POLL_QUEUE_URL: _, ...without } = env;
    const out = await invokeBundle(bundle.file, scheduledEvent('2025-03-01T10:05:00Z'), without);
    assert.equal(out.ok, false);
    assert.equal(out.error?.message, 'Environment variable POLL_QUEUE_URL is required');
  });

  it('fails the invocation (so EventBridge retries) when the config is missing, and sends nothing', async () => {
    const out = await invokeBundle(bundle.file, scheduledEvent('2025-03-01T10:15:00Z'), { ...env, CONFIG_KEY: 'config/absent.json' });
    assert.equal(out.ok, false);
    assert.match(out.error!.message, /cannot read the config at s3:\/\/.+\/config\/absent\.json: NoSuchKey/);
    assert.ok(out.logs.some((l) => l.level === 'ERROR' && l.message === 'dispatch failed'));
    assert.equal((await aws.drainQueue(pollQueue)).length, 0);
  });

  it('reports every problem of an invalid config', async () => {
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: aws.bucket,
        Key: 'config/bad.json',
        Body: JSON.stringify({ store: { type: 's3', bucket: aws.bucket }, mailboxes: [{ id: '../x', host: 'h', user: 'u' }] }),
      }),
    );
    const out = await invokeBundle(bundle.file, scheduledEvent('2025-03-01T10:20:00Z'), { ...env, CONFIG_KEY: 'config/bad.json' });
    assert.equal(out.ok, false);
    assert.match(out.error!.message, /is invalid: invalid configuration/);
    assert.match(out.error!.message, /mailboxes\[0\]\.id/);
  });
});
