/**
 * The S3 lease against fauxqs. fauxqs ignores If-None-Match and If-Match, so, as in s3-store-conditional.test.ts,
 * the conditions are enforced by client middleware answering S3's own 412 (and a lost race is staged with it).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3MailboxLeases } from '../../lib/store/s3-lease.ts';
import { LeaseError } from '../../lib/store/types.ts';
import type { LeaseAttempt, LeaseRecord } from '../../lib/store/types.ts';
import { answerS3Requests, enforceConditionalWrites, startLocalAws } from '../helpers/fauxqs.ts';
import type { LocalAws } from '../helpers/fauxqs.ts';

function held(a: LeaseAttempt) {
  assert.equal(a.acquired, true, a.acquired ? '' : `held by ${JSON.stringify(a.holder)}`);
  return (a as Extract<LeaseAttempt, { acquired: true }>).lease;
}
function refused(a: LeaseAttempt): LeaseRecord {
  assert.equal(a.acquired, false, 'the lease should have been refused');
  return (a as Extract<LeaseAttempt, { acquired: false }>).holder;
}

describe('S3MailboxLeases (conditional lease objects)', () => {
  let aws: LocalAws;
  let n = 0;
  const mailbox = () => `mbox-${++n}`;
  before(async () => {
    aws = await startLocalAws();
  });
  after(async () => {
    await aws.stop();
  });

  /** A client that enforces the conditions and records every request it sends. */
  function client(): { client: S3Client; sent: Array<{ name: string; input: Record<string, unknown> }> } {
    const c = aws.newS3Client();
    const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
    c.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push({ name: context.commandName ?? '', input: { ...(args.input as Record<string, unknown>) } });
        return next(args);
      },
      { step: 'initialize' },
    );
    enforceConditionalWrites(c, aws.s3);
    return { client: c, sent };
  }
  const leasesOn = (c: S3Client) => new S3MailboxLeases({ client: c, bucket: aws.bucket, prefix: 'p' });
  const stored = async (mb: string) =>
    JSON.parse(
      await (await aws.s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: `p/state/leases/${mb}.json` }))).Body!.transformToString(),
    );
  const plant = (mb: string, over: Partial<LeaseRecord>) =>
    aws.s3.send(
      new PutObjectCommand({
        Bucket: aws.bucket,
        Key: `p/state/leases/${mb}.json`,
        Body: JSON.stringify({
          version: 1,
          mailbox: mb,
          host: 'lambda-xyz',
          pid: 8,
          runId: 'other',
          acquiredAt: new Date().toISOString(),
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
          ...over,
        }),
      }),
    );

  it('creates the lease with If-None-Match: *, refuses a second run, and is released by writing it expired (no DeleteObject)', async () => {
    const { client: c, sent } = client();
    const mb = mailbox();
    const lease = held(await leasesOn(c).acquire(mb, { ttlMs: 60_000 }));
    assert.equal((await stored(mb)).runId, lease.record.runId);
    assert.equal(refused(await leasesOn(client().client).acquire(mb)).runId, lease.record.runId);

    await lease.renew();
    await lease.release();
    const puts = sent.filter((s) => s.name === 'PutObjectCommand');
    assert.equal(puts[0]!.input.IfNoneMatch, '*');
    assert.ok(
      puts.slice(1).every((p) => typeof p.input.IfMatch === 'string'),
      'renew and release are If-Match writes',
    );
    assert.ok(!sent.some((s) => /Delete/.test(s.name)), 'never a DeleteObject');
    assert.ok(Date.parse((await stored(mb)).expiresAt) <= Date.now(), 'released = expired');
    held(await leasesOn(client().client).acquire(mb));
  });

  it('takes over an expired lease with If-Match on its ETag', async () => {
    const { client: c, sent } = client();
    const mb = mailbox();
    await plant(mb, { expiresAt: new Date(Date.now() - 1000).toISOString() });
    const lease = held(await leasesOn(c).acquire(mb));
    assert.equal((await stored(mb)).runId, lease.record.runId);
    assert.match(String(sent.find((s) => s.name === 'PutObjectCommand')!.input.IfMatch), /^"/);
    await plant(mb, {});
    assert.equal(refused(await leasesOn(c).acquire(mb)).host, 'lambda-xyz');
  });

  it('loses a creation race (412 to If-None-Match) gracefully: it reads and names the winner', async () => {
    const mb = mailbox();
    const c = aws.newS3Client();
    let first = true;
    // The other run's PutObject lands between our GetObject (404) and our PutObject.
    answerS3Requests(c, async (name) => {
      if (name !== 'PutObjectCommand' || !first) return undefined;
      first = false;
      await plant(mb, { runId: 'winner' });
      return { status: 412, code: 'PreconditionFailed', condition: 'If-None-Match' };
    });
    assert.equal(refused(await leasesOn(c).acquire(mb)).runId, 'winner');
  });

  it('loses a takeover race (412 to If-Match) gracefully too', async () => {
    const mb = mailbox();
    await plant(mb, { expiresAt: new Date(Date.now() - 1000).toISOString() });
    const c = aws.newS3Client();
    let first = true;
    answerS3Requests(c, async (name) => {
      if (name !== 'PutObjectCommand' || !first) return undefined;
      first = false;
      await plant(mb, { runId: 'faster' });
      return { status: 412, code: 'PreconditionFailed', condition: 'If-Match' };
    });
    assert.equal(refused(await leasesOn(c).acquire(mb)).runId, 'faster');
  });

  it('a renewal after another run took the lease over is ELEASELOST, and release then leaves it alone', async () => {
    const { client: c } = client();
    const mb = mailbox();
    const lease = held(await leasesOn(c).acquire(mb));
    await plant(mb, { runId: 'usurper' });
    await assert.rejects(lease.renew(), (e: unknown) => e instanceof LeaseError && e.code === 'ELEASELOST');
    await lease.release();
    assert.equal((await stored(mb)).runId, 'usurper');
  });

  it('fails closed with a StoreError when the bucket refuses access', async () => {
    const c = aws.newS3Client();
    answerS3Requests(c, () => ({ status: 403, code: 'AccessDenied' }));
    await assert.rejects(leasesOn(c).acquire(mailbox()), { name: 'StoreError', code: 'EACCESS' });
  });
});
