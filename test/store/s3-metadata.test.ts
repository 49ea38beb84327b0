import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';
import { rawKey } from '../../lib/store/keys.ts';
import { S3RawStore } from '../../lib/store/s3-store.ts';
import { StoreError } from '../../lib/store/types.ts';
import { startLocalAws } from '../helpers/fauxqs.ts';
import type { LocalAws } from '../helpers/fauxqs.ts';
import { fakeMetadataDocument } from '../helpers/memory-adapters.ts';

function docFor(store: S3RawStore, mailbox: string, day: string, n: number): MetadataDocument {
  const sha = createHash('sha256').update(`${mailbox}-${day}-${n}`).digest('hex');
  return fakeMetadataDocument({
    id: `${mailbox}-${day}-${n}`,
    mailbox,
    subject: `件名 ${n}`,
    raw: { key: rawKey(mailbox, new Date(`${day}T12:00:00Z`), sha, store.keyPrefix), size: n, sha256: sha, bucket: store.bucket },
  });
}

async function collect(it: AsyncIterable<MetadataDocument>): Promise<string[]> {
  const ids: string[] = [];
  for await (const d of it) ids.push(d.id);
  return ids;
}

describe('S3RawStore metadata and small objects', () => {
  let aws: LocalAws;
  before(async () => {
    aws = await startLocalAws();
  });
  after(async () => {
    await aws.stop();
  });

  it('writes the metadata JSON beside the raw key, replaces it, and reads it back by raw key', async () => {
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm1' });
    const doc = docFor(store, 'support', '2025-01-02', 1);
    await store.putMetadata(doc);
    await store.putMetadata({ ...doc, snippet: 'second version' });

    const jsonKey = doc.raw.key.replace(/\.eml$/, '.json');
    assert.match(jsonKey, /^m1\/raw\/support\/2025\/01\/02\/[0-9a-f]{64}\.json$/);
    const stored = await aws.s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: jsonKey }));
    assert.equal(stored.ContentType, 'application/json');
    assert.deepEqual(await store.getMetadata(doc.raw.key), { ...doc, snippet: 'second version' });
    assert.equal(await store.getMetadata(rawKey('support', new Date(), '1'.repeat(64), 'm1')), null);
  });

  it('lists every mailbox in key order, oldest partition first, across continuation pages', async () => {
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm2', listPageSize: 2 });
    const docs = [
      docFor(store, 'sales', '2025-02-01', 1),
      docFor(store, 'support', '2025-01-31', 2),
      docFor(store, 'support', '2024-12-31', 3),
      docFor(store, 'support', '2025-01-01', 4),
      docFor(store, 'support', '2025-01-01', 5),
      docFor(store, 'sales', '2024-06-01', 6),
    ];
    for (const d of docs) await store.putMetadata(d);
    // A raw object and a stray file in the same folders are not metadata.
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: docs[1]!.raw.key, Body: 'raw bytes' }));
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: 'm2/raw/support/2025/01/31/notes.json', Body: '{}' }));

    const all = await collect(store.listMetadata());
    const byDay = (ids: string[]) => ids.map((id) => docs.find((d) => d.id === id)!).map((d) => `${d.mailbox} ${d.raw.key.split('/').slice(3, 6).join('-')}`);
    assert.deepEqual(byDay(all), [
      'sales 2024-06-01', 'sales 2025-02-01',
      'support 2024-12-31', 'support 2025-01-01', 'support 2025-01-01', 'support 2025-01-31',
    ]);
    assert.equal(all.length, 6);
  });

  it('filters by mailbox and by the partition day of `since` (UTC, inclusive)', async () => {
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm3', listPageSize: 3 });
    const docs = [
      docFor(store, 'support', '2024-12-31', 1),
      docFor(store, 'support', '2025-01-01', 2),
      docFor(store, 'support', '2025-01-02', 3),
      docFor(store, 'sales', '2025-01-01', 4),
    ];
    for (const d of docs) await store.putMetadata(d);

    const since = new Date('2025-01-01T23:59:00Z');
    assert.deepEqual((await collect(store.listMetadata({ mailbox: 'support', since }))).sort(), [docs[1]!.id, docs[2]!.id].sort());
    assert.deepEqual(await collect(store.listMetadata({ since })), [docs[3]!.id, ...[docs[1]!.id, docs[2]!.id]]);
    assert.deepEqual(await collect(store.listMetadata({ mailbox: 'sales' })), [docs[3]!.id]);
    assert.deepEqual(await collect(store.listMetadata({ mailbox: 'nobody' })), []);
  });

  it('refuses to list a metadata object that is not a valid document (EVERIFY), rather than skip it', async () => {
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm4' });
    const doc = docFor(store, 'support', '2025-01-01', 1);
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: doc.raw.key.replace(/\.eml$/, '.json'), Body: JSON.stringify({ ...doc, schemaVersion: 2 }) }));
    await assert.rejects(collect(store.listMetadata()), (e: unknown) => e instanceof StoreError && e.code === 'EVERIFY');
  });

  it('puts and gets small objects under the prefix, null when absent, and refuses another bucket', async () => {
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm5' });
    const ref = await store.putObject('claims/abc.json', '{"a":"日本語"}', 'application/json');
    assert.deepEqual(ref, { key: 'm5/claims/abc.json', bucket: aws.bucket });
    assert.equal((await store.getObject('claims/abc.json'))?.toString('utf8'), '{"a":"日本語"}');
    assert.equal((await store.getObject(ref.key, ref.bucket))?.toString('utf8'), '{"a":"日本語"}');
    await store.putObject('claims/abc.json', Buffer.from('{}'));
    assert.equal((await store.getObject(ref.key))?.toString('utf8'), '{}');
    assert.equal(await store.getObject('claims/missing.json'), null);
    await assert.rejects(store.getObject(ref.key, 'another-bucket'), (e: unknown) => e instanceof StoreError && e.code === 'EACCESS');
    await assert.rejects(store.getRaw('raw/support/2025/01/01/' + 'f'.repeat(64) + '.eml'), (e: unknown) => e instanceof StoreError && e.code === 'ENOTFOUND');
    assert.throws(() => store.objectKey('claims/../../etc'), (e: unknown) => e instanceof StoreError);
  });
});
