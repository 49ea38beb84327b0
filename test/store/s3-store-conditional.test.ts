/**
 * The paths fauxqs cannot exercise on its own: it ignores If-None-Match, never answers BadDigest, 403 or 503.
 * Those answers come from client middleware that produces the HTTP responses S3 sends, parsed by the SDK itself.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { rawKey } from '../../lib/store/keys.ts';
import { S3RawStore } from '../../lib/store/s3-store.ts';
import { StoreError } from '../../lib/store/types.ts';
import { answerS3Requests, enforceConditionalWrites, startLocalAws } from '../helpers/fauxqs.ts';
import type { LocalAws } from '../helpers/fauxqs.ts';

const MiB = 1024 * 1024;
const DAY = new Date('2025-03-04T00:00:00Z');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function storeOnce(store: S3RawStore, bytes: Buffer, key: string, expected = { sha256: sha256(bytes), size: bytes.length }) {
  const staged = await store.stage('support');
  await pipeline(Readable.from([bytes]), staged.writable);
  try {
    return await staged.commit(key, expected);
  } catch (err) {
    await staged.abort();
    throw err;
  }
}

const isStoreError = (code: string, retryable?: boolean) => (e: unknown) =>
  e instanceof StoreError && e.code === code && (retryable === undefined || e.retryable === retryable);

describe('S3RawStore conditional writes and S3 error answers', () => {
  let aws: LocalAws;
  before(async () => {
    aws = await startLocalAws();
  });
  after(async () => {
    await aws.stop();
  });

  for (const size of ['small', 'multipart'] as const) {
    describe(`a ${size} message whose key is already taken (412 PreconditionFailed)`, () => {
      const make = () => (size === 'small' ? randomBytes(2048) : randomBytes(11 * MiB));
      const options = size === 'small' ? {} : { multipartThreshold: 5 * MiB, partSize: 5 * MiB };

      it('counts as stored (existed: true) when the stored object has the same SHA-256', async () => {
        const client = aws.newS3Client();
        const { answered } = enforceConditionalWrites(client, aws.s3);
        const store = new S3RawStore({ client, bucket: aws.bucket, ...options });
        const bytes = make();
        const key = rawKey('support', DAY, sha256(bytes));
        assert.equal((await storeOnce(store, bytes, key)).existed, false);

        const second = await storeOnce(store, bytes, key);

        assert.equal(second.existed, true);
        assert.equal(second.sha256, sha256(bytes));
        assert.equal(answered.length, 1);
        assert.match(answered[0]!, /412 PreconditionFailed/);
      });

      it('is an ECONFLICT, never an overwrite, when a different object sits at the key', async () => {
        const client = aws.newS3Client();
        enforceConditionalWrites(client, aws.s3);
        const store = new S3RawStore({ client, bucket: aws.bucket, ...options });
        const bytes = make();
        const key = rawKey('support', DAY, sha256(bytes));
        // Same size, other bytes: only the checksum can tell them apart.
        const squatter = randomBytes(bytes.length);
        await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: key, Body: squatter, ChecksumAlgorithm: 'SHA256' }));

        await assert.rejects(storeOnce(store, bytes, key), isStoreError('ECONFLICT', false));

        const kept = await store.getObject(key);
        assert.ok(kept?.equals(squatter), 'the existing object is untouched');
      });

      it('compares by re-reading when the existing object has no full-object checksum', async () => {
        const client = aws.newS3Client();
        enforceConditionalWrites(client, aws.s3);
        let reads = 0;
        client.middlewareStack.add(
          (next, context) => async (args) => {
            if (context.commandName === 'GetObjectCommand') reads++;
            return next(args);
          },
          { step: 'initialize' },
        );
        const store = new S3RawStore({ client, bucket: aws.bucket, ...options });
        const bytes = make();
        const key = rawKey('support', DAY, sha256(bytes));
        // Written without any checksum (as an older tool might have): only the bytes can tell.
        await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
        assert.equal((await storeOnce(store, bytes, key)).existed, true);
        assert.equal(reads, 1);
      });
    });
  }

  it('maps BadDigest (body changed in transit) to a retryable EVERIFY, with nothing stored', async () => {
    const client = aws.newS3Client();
    answerS3Requests(client, (name) =>
      name === 'PutObjectCommand'
        ? { status: 400, code: 'BadDigest', message: 'The SHA256 you specified did not match the calculated checksum.' }
        : undefined,
    );
    const store = new S3RawStore({ client, bucket: aws.bucket });
    const bytes = randomBytes(1000);
    const key = rawKey('support', DAY, sha256(bytes));
    await assert.rejects(storeOnce(store, bytes, key), isStoreError('EVERIFY', true));
    assert.equal(await new S3RawStore({ client: aws.s3, bucket: aws.bucket }).exists(key), false);
  });

  it('lets a commit be tried again after a transient failure, and refuses a second commit once committed', async () => {
    const client = aws.newS3Client({ maxAttempts: 1 });
    let failures = 1;
    answerS3Requests(client, (name) => {
      if (name !== 'PutObjectCommand' || failures === 0) return undefined;
      failures--;
      return { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' };
    });
    const store = new S3RawStore({ client, bucket: aws.bucket });
    const bytes = randomBytes(500);
    const key = rawKey('support', DAY, sha256(bytes));
    const staged = await store.stage('support');
    await pipeline(Readable.from([bytes]), staged.writable);
    await assert.rejects(staged.commit(key, { sha256: sha256(bytes), size: bytes.length }), isStoreError('EIO', true));
    assert.equal(await store.exists(key), false);

    assert.equal((await staged.commit(key, { sha256: sha256(bytes), size: bytes.length })).existed, false);
    assert.ok((await store.getObject(key))?.equals(bytes));
    await assert.rejects(staged.commit(key, { sha256: sha256(bytes), size: bytes.length }), isStoreError('EIO', false));
  });

  it('rejects with EVERIFY when S3 reports a checksum other than ours', async () => {
    const client = aws.newS3Client();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'PutObjectCommand')
          (result.output as { ChecksumSHA256?: string }).ChecksumSHA256 = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
        return result;
      },
      { step: 'initialize' },
    );
    const store = new S3RawStore({ client, bucket: aws.bucket });
    const bytes = randomBytes(1000);
    await assert.rejects(storeOnce(store, bytes, rawKey('support', DAY, sha256(bytes))), isStoreError('EVERIFY'));
  });

  it('maps 403 AccessDenied to EACCESS (not retryable) and 503 SlowDown to a retryable EIO', async () => {
    const denied = aws.newS3Client();
    answerS3Requests(denied, () => ({ status: 403, code: 'AccessDenied', message: 'Access Denied' }));
    const bytes = randomBytes(100);
    const key = rawKey('support', DAY, sha256(bytes));
    await assert.rejects(storeOnce(new S3RawStore({ client: denied, bucket: aws.bucket }), bytes, key), isStoreError('EACCESS', false));

    const throttled = aws.newS3Client();
    const { answered } = answerS3Requests(throttled, () => ({
      status: 503,
      code: 'SlowDown',
      message: 'Please reduce your request rate.',
    }));
    await assert.rejects(storeOnce(new S3RawStore({ client: throttled, bucket: aws.bucket }), bytes, key), isStoreError('EIO', true));
    assert.ok(answered.length >= 2, 'the SDK retried the throttled request itself first');
  });

  it('sends the SSE-KMS settings with every write, the multipart and copy included', async () => {
    const client = aws.newS3Client();
    const seen: Array<{ name: string; sse: unknown; kms: unknown }> = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { ServerSideEncryption?: string; SSEKMSKeyId?: string };
        if (/Put|Create|Copy/.test(context.commandName ?? ''))
          seen.push({ name: context.commandName!, sse: input.ServerSideEncryption, kms: input.SSEKMSKeyId });
        return next(args);
      },
      { step: 'initialize' },
    );
    const store = new S3RawStore({
      client,
      bucket: aws.bucket,
      sse: 'aws:kms',
      kmsKeyId: 'alias/mail',
      multipartThreshold: 5 * MiB,
      partSize: 5 * MiB,
    });
    const big = randomBytes(11 * MiB);
    await storeOnce(store, big, rawKey('support', DAY, sha256(big)));
    const small = randomBytes(10);
    await storeOnce(store, small, rawKey('support', DAY, sha256(small)));
    await store.putObject('claims/x.json', '{}', 'application/json');
    assert.deepEqual(seen.map((s) => s.name).sort(), [
      'CopyObjectCommand',
      'CreateMultipartUploadCommand',
      'PutObjectCommand',
      'PutObjectCommand',
    ]);
    for (const s of seen) assert.deepEqual({ sse: s.sse, kms: s.kms }, { sse: 'aws:kms', kms: 'alias/mail' }, s.name);
  });
});
