import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { dovecotSkipReason, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { startLocalAws, type LocalAws } from '../helpers/fauxqs.ts';
import { bundleHandler, type Bundle } from './bundle.ts';
import { invokeBundle, loopbackQueueUrl, sqsEvent, sqsRecord, lambdaEnv } from './run-bundle.ts';
import { startSecretsStandIn, type SecretsStandIn } from './secrets-stand-in.ts';
import { pollJobDedupId } from '../../functions/commons/poll-job.ts';

const skip = dovecotSkipReason();

function mail(i: number): string {
  return `From: Customer ${i} <c${i}@example.com>\nTo: support@example.jp\nSubject: Question ${i}\nMessage-ID: <q${i}@example.com>\nDate: Sat, 01 Mar 2025 10:00:00 +0900\n\nBody ${i}\n`;
}

function job(mailboxId: string, scheduledAt = '2025-03-01T10:05:00.000Z') {
  const body = { mailboxId, scheduledAt };
  return sqsRecord(JSON.stringify(body), { groupId: mailboxId, dedupId: pollJobDedupId(body) });
}

describe('bundled poller (SQS FIFO batch → Dovecot → S3 + SQS)', { skip: skip ?? false }, () => {
  let aws: LocalAws;
  let dovecot: DovecotServer;
  let secrets: SecretsStandIn;
  let dir: string;
  let bundle: Bundle;
  let env: Record<string, string>;
  let targetQueue: string;

  const rawKeys = async (mailbox: string) => {
    const out = await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.bucket, Prefix: `mail/raw/${mailbox}/` }));
    return (out.Contents ?? []).map((o) => o.Key!).filter((k) => k.endsWith('.eml'));
  };
  const metric = (emf: Array<Record<string, unknown>>, name: string, mailbox: string) =>
    emf.find((e) => e.mailbox === mailbox && name in e)?.[name];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bundled-poller-'));
    [aws, dovecot, secrets, bundle] = await Promise.all([
      startLocalAws(),
      startDovecot({
        users: [
          { user: 'alice', password: 'secret-alice' },
          { user: 'bob', password: 'secret-bob' },
          { user: 'carol', password: 'secret-carol' },
        ],
      }),
      startSecretsStandIn({
        'mail-ingest/alice': JSON.stringify({ password: 'secret-alice' }),
        'mail-ingest/bob': 'WRONG-canary-7f3a', // bob's secret holds a wrong password: an auth failure
        'mail-ingest/carol': 'secret-carol',
      }),
      bundleHandler('poller', dir),
    ]);
    targetQueue = loopbackQueueUrl(await aws.createQueue());
    const mailbox = (id: string) => ({
      id,
      host: dovecot.host,
      port: dovecot.tlsPort,
      tls: 'implicit',
      ca: dovecot.caPem,
      user: id,
      password: { secretId: `mail-ingest/${id}` },
    });
    const config = {
      store: { type: 's3', bucket: aws.bucket, prefix: 'mail' },
      publish: { type: 'sqs', targets: [{ name: 'all', queueUrl: targetQueue }] },
      mailboxes: [mailbox('alice'), mailbox('bob'), mailbox('carol'), { ...mailbox('paused'), enabled: false }],
    };
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: 'config.json', Body: JSON.stringify(config) }));
    env = lambdaEnv(aws, {
      CONFIG_BUCKET: aws.bucket,
      CONFIG_KEY: 'config.json',
      POWERTOOLS_SERVICE_NAME: 'poller',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    });
    await dovecot.seed('alice', [mail(1), mail(2), mail(3)]);
    await dovecot.seed(
      'carol',
      Array.from({ length: 5 }, (_, i) => mail(10 + i)),
    );
  });
  after(async () => {
    await Promise.all([aws?.stop(), dovecot?.stop(), secrets?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests the mailbox a job names: raw messages in S3, documents on the target queue, EMF metrics per mailbox', async () => {
    const record = job('alice');

    const out = await invokeBundle(bundle.file, sqsEvent([record]), env);

    assert.equal(out.ok, true, JSON.stringify(out.error) + out.stderr.slice(-2000));
    assert.deepEqual(out.result, { batchItemFailures: [] });
    assert.equal((await rawKeys('alice')).length, 3);
    const docs = (await aws.drainQueue(targetQueue)).map((m) => JSON.parse(m.Body!));
    assert.deepEqual(docs.map((d) => d.subject).sort(), ['Question 1', 'Question 2', 'Question 3']);
    assert.ok(docs.every((d) => d.mailbox === 'alice' && d.raw.bucket === aws.bucket));
    assert.equal(metric(out.emf, 'MessagesIngested', 'alice'), 3);
    assert.equal(metric(out.emf, 'PollFailures', 'alice'), 0);
    assert.ok((metric(out.emf, 'BytesIngested', 'alice') as number) > 0);
    assert.equal(typeof metric(out.emf, 'PollDurationMs', 'alice'), 'number');
    const done = out.logs.find((l) => l.message === 'mailbox run finished');
    assert.equal(done?.mailbox, 'alice');
    assert.equal(done?.stored, 3);
    assert.equal(secrets.requests.filter((r) => r === 'mail-ingest/alice').length, 1);
    assert.ok(!`${out.stdout}${out.stderr}`.includes('secret-alice'), 'the password appears in no log line');
  });

  it('ingests nothing twice: a second job finds no new messages', async () => {
    const out = await invokeBundle(bundle.file, sqsEvent([job('alice', '2025-03-01T10:10:00.000Z')]), env);
    assert.deepEqual(out.result, { batchItemFailures: [] });
    assert.equal(metric(out.emf, 'MessagesIngested', 'alice'), 0);
    assert.equal((await rawKeys('alice')).length, 3);
    assert.equal((await aws.drainQueue(targetQueue)).length, 0);
  });

  it('reports an authentication failure as a batch item failure, with AuthFailures, and never logs the password', async () => {
    const record = job('bob');
    const out = await invokeBundle(bundle.file, sqsEvent([record]), env);
    assert.deepEqual(out.result, { batchItemFailures: [{ itemIdentifier: record.messageId }] });
    assert.equal(metric(out.emf, 'AuthFailures', 'bob'), 1);
    assert.equal(metric(out.emf, 'PollFailures', 'bob'), 1);
    const failed = out.logs.find((l) => l.message === 'mailbox run failed');
    assert.equal(failed?.mailbox, 'bob');
    assert.equal((failed!.error as { class: string }).class, 'auth');
    assert.ok(!`${out.stdout}${out.stderr}`.includes('WRONG-canary-7f3a'), 'the password appears in no log line');
  });

  it('stops fetching at the deadline from the Lambda context and leaves the rest for the next run', async () => {
    // No time left beyond the safety margin: the run connects, sees 5 new messages, fetches none, and QUITs.
    const late = await invokeBundle(
      bundle.file,
      sqsEvent([job('carol')]),
      { ...env, POLL_SAFETY_MARGIN_MS: '60000' },
      { remainingMs: 60_000 },
    );
    assert.deepEqual(late.result, { batchItemFailures: [] });
    const summary = late.logs.find((l) => l.message === 'mailbox run finished');
    assert.equal(summary?.new, 5);
    assert.equal(summary?.stored, 0);
    assert.equal(summary?.skipped, 5);

    const next = await invokeBundle(bundle.file, sqsEvent([job('carol', '2025-03-01T10:10:00.000Z')]), env);
    assert.deepEqual(next.result, { batchItemFailures: [] });
    assert.equal(metric(next.emf, 'MessagesIngested', 'carol'), 5);
    assert.equal((await rawKeys('carol')).length, 5);
  });

  it('drops jobs for mailboxes removed from or disabled in the config, and fails a job it cannot read', async () => {
    const gone = job('removed-mailbox');
    const paused = job('paused');
    const poisoned = sqsRecord('{"mailbox":"alice"}', { groupId: 'poison' });
    const out = await invokeBundle(bundle.file, sqsEvent([gone, paused, poisoned]), env);
    assert.deepEqual(out.result, { batchItemFailures: [{ itemIdentifier: poisoned.messageId }] });
    assert.ok(out.logs.some((l) => l.message === 'unreadable poll job'));
  });

  it('fails the batch item when the secret does not exist', async () => {
    secrets.secrets.delete('mail-ingest/carol');
    const record = job('carol', '2025-03-01T10:20:00.000Z');
    const out = await invokeBundle(bundle.file, sqsEvent([record]), env);
    assert.deepEqual(out.result, { batchItemFailures: [{ itemIdentifier: record.messageId }] });
    const failed = out.logs.find((l) => l.message === 'mailbox poll failed before the run');
    assert.equal(failed?.errorCode, 'ESECRET');
    assert.match(String(failed?.errorMessage), /mail-ingest\/carol.*ResourceNotFoundException/);
    assert.equal(metric(out.emf, 'PollFailures', 'carol'), 1);
  });
});
