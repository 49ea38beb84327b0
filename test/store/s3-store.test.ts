import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortMultipartUploadCommand, HeadObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { rawKey } from '../../lib/store/keys.ts';
import { S3RawStore } from '../../lib/store/s3-store.ts';
import type { S3StagedRaw } from '../../lib/store/s3-staged-raw.ts';
import { StoreError } from '../../lib/store/types.ts';
import type { StagedRaw } from '../../lib/store/types.ts';
import { startLocalAws } from '../helpers/fauxqs.ts';
import type { LocalAws } from '../helpers/fauxqs.ts';

const MiB = 1024 * 1024;
const DAY = new Date('2025-03-04T05:06:07Z');

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

function* chunksOf(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function stageBytes(store: S3RawStore, mailbox: string, bytes: Buffer, chunk = 64 * 1024): Promise<StagedRaw> {
  const staged = await store.stage(mailbox);
  await pipeline(Readable.from(chunksOf(bytes, chunk)), staged.writable);
  return staged;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function head(client: S3Client, bucket: string, key: string) {
  return client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
}

describe('S3RawStore on a local S3 (fauxqs)', () => {
  let aws: LocalAws;
  before(async () => {
    aws = await startLocalAws();
  });
  after(async () => {
    await aws.stop();
  });

  describe('a message below the multipart threshold', () => {
    it('is stored byte-exact under the prefixed key with our SHA-256 as its checksum and metadata', async () => {
      const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'archive/' });
      const bytes = Buffer.concat([Buffer.from('Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\r\n\r\n'), randomBytes(300 * 1024)]);
      const staged = await store.stage('support', { uidlHash: 'a'.repeat(64) });
      await pipeline(Readable.from(chunksOf(bytes, 4096)), staged.writable);
      const key = rawKey('support', DAY, sha256(bytes), store.keyPrefix);
      assert.equal(key, `archive/raw/support/2025/03/04/${sha256(bytes)}.eml`);

      const result = await staged.commit(key, { sha256: sha256(bytes), size: bytes.length });

      assert.deepEqual(result, { key, bucket: aws.bucket, size: bytes.length, sha256: sha256(bytes), existed: false });
      assert.deepEqual(await readAll(await store.getRaw(key)), bytes);
      const h = await head(aws.s3, aws.bucket, key);
      assert.equal(h.ChecksumSHA256, createHash('sha256').update(bytes).digest('base64'));
      assert.equal(h.ContentType, 'message/rfc822');
      assert.deepEqual(h.Metadata, { mailbox: 'support', sha256: sha256(bytes), 'uidl-hash': 'a'.repeat(64) });
      assert.equal(await store.exists(key), true);
      assert.equal(await store.exists(`raw/support/2025/03/04/${'0'.repeat(64)}.eml`), false);
    });

    it('accepts keys relative to the prefix and hands out full object keys', async () => {
      const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'rel' });
      const bytes = Buffer.from('Subject: relative\r\n\r\nbody\r\n');
      const staged = await stageBytes(store, 'support', bytes);
      const result = await staged.commit(rawKey('support', DAY, sha256(bytes)), { sha256: sha256(bytes), size: bytes.length });
      assert.equal(result.key, `rel/raw/support/2025/03/04/${sha256(bytes)}.eml`);
      assert.deepEqual(await readAll(await store.getRaw(rawKey('support', DAY, sha256(bytes)))), bytes);
    });

    it('rejects a commit whose expected checksum differs (EVERIFY) and leaves nothing at the key', async () => {
      const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket });
      const bytes = Buffer.from('Subject: x\r\n\r\nhello\r\n');
      const staged = await stageBytes(store, 'support', bytes);
      const wrong = sha256(Buffer.from('something else'));
      const key = rawKey('support', DAY, wrong);
      await assert.rejects(
        staged.commit(key, { sha256: wrong, size: bytes.length }),
        (e: unknown) => e instanceof StoreError && e.code === 'EVERIFY',
      );
      assert.equal(await store.exists(key), false);
      await staged.abort();
      await staged.abort();
    });

    it('refuses a commit before the writable finished', async () => {
      const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket });
      const staged = await store.stage('support');
      staged.writable.write(Buffer.from('partial'));
      const key = rawKey('support', DAY, sha256(Buffer.from('partial')));
      await assert.rejects(
        staged.commit(key, { sha256: sha256(Buffer.from('partial')), size: 7 }),
        (e: unknown) => e instanceof StoreError && e.code === 'EIO',
      );
      await staged.abort();
      assert.equal(await store.exists(key), false);
    });
  });

  describe('a message above the multipart threshold', () => {
    it('streams 20 MB as a multipart upload through a staging key and copies it byte-exact to the final key', async () => {
      const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'big', multipartThreshold: 5 * MiB, partSize: 5 * MiB });
      const bytes = randomBytes(20 * MiB + 12345);
      const staged = (await stageBytes(store, 'support', bytes)) as S3StagedRaw;
      assert.ok(staged.uploadId !== undefined, 'a multipart upload was created');
      const key = rawKey('support', DAY, sha256(bytes), store.keyPrefix);

      const result = await staged.commit(key, { sha256: sha256(bytes), size: bytes.length });

      assert.deepEqual(result, { key, bucket: aws.bucket, size: bytes.length, sha256: sha256(bytes), existed: false });
      const stored = await readAll(await store.getRaw(key));
      assert.equal(stored.length, bytes.length);
      assert.ok(stored.equals(bytes), 'byte-exact');
      const h = await head(aws.s3, aws.bucket, key);
      assert.deepEqual(h.Metadata, { mailbox: 'support', sha256: sha256(bytes) });
      assert.equal(h.ContentType, 'message/rfc822');
      // The staging object is left for the bucket's lifecycle rule: the poller has no delete permission.
      assert.match(staged.stagingKey, /^big\/staging\/support\/[0-9a-f-]{36}$/);
      assert.equal((await head(aws.s3, aws.bucket, staged.stagingKey)).ContentLength, bytes.length);
    });

    it('stores a message between the threshold and one part with a single staged PutObject', async () => {
      const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, multipartThreshold: 1 * MiB, partSize: 5 * MiB });
      const bytes = randomBytes(3 * MiB);
      const staged = await stageBytes(store, 'support', bytes);
      const key = rawKey('support', DAY, sha256(bytes));
      const result = await staged.commit(key, { sha256: sha256(bytes), size: bytes.length });
      assert.equal(result.existed, false);
      assert.ok((await readAll(await store.getRaw(key))).equals(bytes));
    });

    it('rejects a wrong expected checksum (EVERIFY) without writing the final key', async () => {
      const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, multipartThreshold: 5 * MiB, partSize: 5 * MiB });
      const bytes = randomBytes(11 * MiB);
      const staged = await stageBytes(store, 'support', bytes);
      const wrong = sha256(Buffer.from('not these bytes'));
      const key = rawKey('support', DAY, wrong);
      await assert.rejects(
        staged.commit(key, { sha256: wrong, size: bytes.length }),
        (e: unknown) => e instanceof StoreError && e.code === 'EVERIFY',
      );
      assert.equal(await store.exists(key), false);
    });

    it('aborts the multipart upload of a stream that fails mid-upload: nothing at any key, no dangling upload', async () => {
      const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, multipartThreshold: 5 * MiB, partSize: 5 * MiB });
      const staged = (await store.stage('support')) as S3StagedRaw;
      const failing = Readable.from(
        (async function* () {
          for (let i = 0; i < 12; i++) yield randomBytes(MiB);
          // Fail only once parts are on their way, as a connection dropping in the middle of a large message does.
          for (let i = 0; i < 100 && staged.uploadId === undefined; i++) await new Promise((r) => setTimeout(r, 20));
          yield randomBytes(MiB);
          throw new Error('connection reset by the POP3 server');
        })(),
      );
      await assert.rejects(pipeline(failing, staged.writable), /connection reset/);
      const uploadId = staged.uploadId;
      assert.ok(uploadId !== undefined, 'the failure came after the multipart upload had started');

      await staged.abort();
      await staged.abort();

      assert.equal(await store.exists(staged.stagingKey), false);
      await assert.rejects(
        aws.s3.send(
          new UploadPartCommand({ Bucket: aws.bucket, Key: staged.stagingKey, UploadId: uploadId, PartNumber: 9, Body: Buffer.from('x') }),
        ),
        (e: Error) => e.name === 'NoSuchUpload',
      );
      await assert.rejects(
        aws.s3.send(new AbortMultipartUploadCommand({ Bucket: aws.bucket, Key: staged.stagingKey, UploadId: uploadId })),
        (e: Error) => e.name === 'NoSuchUpload',
      );
    });

    it('aborts an upload still in progress when abort() is called before the stream ends', async () => {
      const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, multipartThreshold: 5 * MiB, partSize: 5 * MiB });
      const staged = (await store.stage('support')) as S3StagedRaw;
      for (const c of chunksOf(randomBytes(12 * MiB), MiB)) {
        if (!staged.writable.write(c)) await new Promise((r) => staged.writable.once('drain', r));
      }
      // Let lib-storage create the upload and send a part.
      for (let i = 0; i < 50 && staged.uploadId === undefined; i++) await new Promise((r) => setTimeout(r, 20));
      const uploadId = staged.uploadId;
      assert.ok(uploadId !== undefined);
      await staged.abort();
      await assert.rejects(
        aws.s3.send(new AbortMultipartUploadCommand({ Bucket: aws.bucket, Key: staged.stagingKey, UploadId: uploadId })),
        (e: Error) => e.name === 'NoSuchUpload',
      );
      assert.equal(await store.exists(staged.stagingKey), false);
    });
  });

  describe('configuration', () => {
    it('refuses a prefix that would alias the layout, a part below 5 MiB, and a KMS key without SSE-KMS', () => {
      assert.throws(() => new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'raw/x' }), /layout folder/);
      assert.throws(() => new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: '../x' }), /invalid key prefix/);
      assert.throws(() => new S3RawStore({ client: aws.s3, bucket: aws.bucket, partSize: MiB }), /minimum/);
      assert.throws(() => new S3RawStore({ client: aws.s3, bucket: aws.bucket, sse: 'AES256', kmsKeyId: 'k' }), /kmsKeyId/);
    });

    it('refuses a mailbox id that is not a safe key segment', async () => {
      const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket });
      await assert.rejects(store.stage('../etc'), /invalid mailbox id/);
    });
  });
});
