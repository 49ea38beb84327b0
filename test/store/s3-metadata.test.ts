import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
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

/** Counts the S3 commands sent through `client`, by name. */
function countRequests(client: S3Client): Record<string, number> {
  const counts: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'testRequestCounter' },
  );
  return counts;
}

async function keysUnder(aws: LocalAws, prefix: string): Promise<string[]> {
  const res = await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

async function collect(it: AsyncIterable<MetadataDocument>): Promise<string[]> {
  const ids: string[] = [];
  for await (const d of it) ids.push(d.id);
  return ids;
}

/** Writes documents 1-3 of one partition under `prefix` as one pack, then cuts the second one's line short. */
async function packWithDamagedSecondLine(aws: LocalAws, prefix: string): Promise<{ docs: MetadataDocument[]; pack: string }> {
  const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix });
  const docs = [1, 2, 3].map((n) => docFor(store, 'support', '2025-01-01', n));
  for (const d of docs) await store.putMetadata(d);
  await store.flush();
  const [pack] = await keysUnder(aws, `${prefix}/`);
  const lines = (await store.getObject(pack!))!.toString('utf8').trimEnd().split('\n');
  lines[1] = lines[1]!.slice(0, 40);
  await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: pack!, Body: `${lines.join('\n')}\n` }));
  return { docs, pack: pack! };
}

describe('S3RawStore metadata and small objects', () => {
  let aws: LocalAws;
  before(async () => {
    aws = await startLocalAws();
  });
  after(async () => {
    await aws.stop();
  });

  it('writes the documents of a flush as one pack per partition: one PutObject for many documents', async () => {
    const client = aws.newS3Client();
    const counts = countRequests(client);
    const store = new S3RawStore({ client, bucket: aws.bucket, prefix: 'm1' });
    const docs = Array.from({ length: 50 }, (_, i) => docFor(store, 'support', '2025-01-02', i));
    for (const d of docs) await store.putMetadata(d);
    assert.equal(counts.PutObjectCommand ?? 0, 0, 'buffered until the flush');
    await store.flush();
    assert.equal(counts.PutObjectCommand, 1);
    const keys = await keysUnder(aws, 'm1/raw/support/2025/01/02/');
    assert.equal(keys.length, 1);
    assert.match(keys[0]!, /^m1\/raw\/support\/2025\/01\/02\/docs-\d{8}T\d{9}Z-[0-9a-f]{12}\.jsonl$/);
    const stored = await aws.s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: keys[0]! }));
    assert.equal(stored.ContentType, 'application/x-ndjson');
    assert.deepEqual(await store.getMetadata(docs[7]!.raw.key), docs[7]);
    assert.deepEqual(await store.getMetadata(docs[7]!.raw.key, docs[7]!.id), docs[7]);
    assert.equal(await store.getMetadata(docs[7]!.raw.key, docs[8]!.id), null, "another UIDL's id is not this raw key's");
    assert.equal(await store.getMetadata(rawKey('support', new Date(), '1'.repeat(64), 'm1')), null);
    assert.deepEqual((await collect(store.listMetadata())).length, 50);
  });

  it('keeps one document per UIDL of identical bytes, and the first document of an id (no new version)', async () => {
    const client = aws.newS3Client();
    const counts = countRequests(client);
    const store = new S3RawStore({ client, bucket: aws.bucket, prefix: 'm6' });
    const first = docFor(store, 'support', '2025-01-02', 1);
    const sameBytesOtherUidl = { ...first, id: 'other-uidl-id', uidl: 'other-uidl' };
    await store.putMetadata(first);
    await store.putMetadata(sameBytesOtherUidl);
    await store.flush();
    assert.deepEqual((await collect(store.listMetadata())).sort(), [first.id, 'other-uidl-id'].sort());
    // A re-ingest after a lost state, by a new process: same id, another ingestedAt.
    const restarted = new S3RawStore({ client, bucket: aws.bucket, prefix: 'm6' });
    const puts = counts.PutObjectCommand;
    await restarted.putMetadata({ ...first, ingestedAt: '2030-01-01T00:00:00.000Z' });
    await restarted.flush();
    assert.equal(counts.PutObjectCommand, puts, 'nothing written');
    assert.equal((await restarted.getMetadata(first.raw.key, first.id))?.ingestedAt, first.ingestedAt);
    assert.equal((await keysUnder(aws, 'm6/')).length, 1);
  });

  it('reads legacy <sha256>.json documents before packs, each id once', async () => {
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm7' });
    const doc = docFor(store, 'support', '2025-01-02', 1);
    const legacy = { ...doc, ingestedAt: '2020-01-01T00:00:00.000Z' };
    await aws.s3.send(
      new PutObjectCommand({ Bucket: aws.bucket, Key: doc.raw.key.replace(/\.eml$/, '.json'), Body: JSON.stringify(legacy) }),
    );
    await store.putMetadata(doc);
    await store.putMetadata({ ...doc, id: 'second-uidl', uidl: 'second' });
    await store.flush();
    const docs: MetadataDocument[] = [];
    for await (const d of store.listMetadata()) docs.push(d);
    assert.deepEqual(
      docs.map((d) => [d.id, d.ingestedAt]),
      [
        [doc.id, legacy.ingestedAt],
        ['second-uidl', doc.ingestedAt],
      ],
    );
    assert.deepEqual(await store.getMetadata(doc.raw.key), legacy);
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
    await store.flush();
    // A raw object and a stray file in the same folders are not metadata.
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: docs[1]!.raw.key, Body: 'raw bytes' }));
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: 'm2/raw/support/2025/01/31/notes.json', Body: '{}' }));

    const all = await collect(store.listMetadata());
    const byDay = (ids: string[]) =>
      ids.map((id) => docs.find((d) => d.id === id)!).map((d) => `${d.mailbox} ${d.raw.key.split('/').slice(3, 6).join('-')}`);
    assert.deepEqual(byDay(all), [
      'sales 2024-06-01',
      'sales 2025-02-01',
      'support 2024-12-31',
      'support 2025-01-01',
      'support 2025-01-01',
      'support 2025-01-31',
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
    await store.flush();

    const since = new Date('2025-01-01T23:59:00Z');
    assert.deepEqual((await collect(store.listMetadata({ mailbox: 'support', since }))).sort(), [docs[1]!.id, docs[2]!.id].sort());
    assert.deepEqual(await collect(store.listMetadata({ since })), [docs[3]!.id, ...[docs[1]!.id, docs[2]!.id]]);
    assert.deepEqual(await collect(store.listMetadata({ mailbox: 'sales' })), [docs[3]!.id]);
    assert.deepEqual(await collect(store.listMetadata({ mailbox: 'nobody' })), []);
  });

  it('refuses to list a metadata object that is not a valid document (EVERIFY), rather than skip it', async () => {
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm4' });
    const doc = docFor(store, 'support', '2025-01-01', 1);
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: aws.bucket,
        Key: doc.raw.key.replace(/\.eml$/, '.json'),
        Body: JSON.stringify({ ...doc, schemaVersion: 2 }),
      }),
    );
    await assert.rejects(collect(store.listMetadata()), (e: unknown) => e instanceof StoreError && e.code === 'EVERIFY');
    const packed = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm8' });
    const good = docFor(packed, 'support', '2025-01-01', 2);
    await packed.putMetadata(good);
    await packed.flush();
    const [pack] = await keysUnder(aws, 'm8/');
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: pack!, Body: `${JSON.stringify(good)}\n{"broken":\n` }));
    await assert.rejects(
      collect(packed.listMetadata()),
      (e: unknown) => e instanceof StoreError && e.code === 'EVERIFY' && /line 2/.test(e.message),
    );
  });

  it('with onDamaged, lists past a damaged document and reports where it is', async () => {
    // The second document's line cut short; a legacy document of the first that is not a valid document.
    const { docs, pack } = await packWithDamagedSecondLine(aws, 'm9');
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm9' });
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: aws.bucket,
        Key: docs[0]!.raw.key.replace(/\.eml$/, '.json'),
        Body: JSON.stringify({ ...docs[0], schemaVersion: 2 }),
      }),
    );
    const damaged: string[] = [];
    const listed = await collect(store.listMetadata({ onDamaged: (where) => damaged.push(where) }));
    assert.deepEqual(listed, [docs[0]!.id, docs[2]!.id]);
    assert.equal(damaged.length, 2, damaged.join('; '));
    assert.ok(
      damaged.some((w) => w === `${pack} line 2`),
      damaged.join('; '),
    );
    assert.ok(
      damaged.some((w) => w.endsWith('.json')),
      damaged.join('; '),
    );
    // Without it the listing still refuses to go past them.
    await assert.rejects(collect(store.listMetadata()), (e: unknown) => e instanceof StoreError && e.code === 'EVERIFY');
  });

  it('getMetadata reads past damage in a pack, names it for a document it cannot read, and a new write mends it', async () => {
    const { docs, pack } = await packWithDamagedSecondLine(aws, 'm10');
    const reader = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm10' });
    assert.deepEqual(await reader.getMetadata(docs[0]!.raw.key), docs[0], 'a neighbour of the damaged line');
    assert.deepEqual(await reader.getMetadata(docs[2]!.raw.key, docs[2]!.id), docs[2]);
    await assert.rejects(
      reader.getMetadata(docs[1]!.raw.key),
      (e: unknown) => e instanceof StoreError && e.code === 'EVERIFY' && e.message.includes(`${pack} line 2`) && /verify/.test(e.message),
    );
    assert.equal(
      await reader.getMetadata(rawKey('sales', new Date('2025-01-01T12:00:00Z'), '1'.repeat(64), 'm10')),
      null,
      'no damage there',
    );
    // The message ingested again: the partition's damage does not stop the write, and its document is readable again.
    const writer = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm10' });
    await writer.putMetadata(docs[1]!);
    await writer.flush();
    const after = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm10' });
    assert.deepEqual(await after.getMetadata(docs[1]!.raw.key), docs[1]);
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
    await assert.rejects(
      store.getRaw(`raw/support/2025/01/01/${'f'.repeat(64)}.eml`),
      (e: unknown) => e instanceof StoreError && e.code === 'ENOTFOUND',
    );
    assert.throws(
      () => store.objectKey('claims/../../etc'),
      (e: unknown) => e instanceof StoreError,
    );
  });

  it('putObject with ifAbsent leaves an object that is there and returns its bytes', async () => {
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: 'm9' });
    assert.deepEqual(await store.putObject('claims/x.json', 'first', 'application/json', { ifAbsent: true }), {
      key: 'm9/claims/x.json',
      bucket: aws.bucket,
    });
    const again = await store.putObject('claims/x.json', 'second', 'application/json', { ifAbsent: true });
    assert.equal(again.existing?.toString('utf8'), 'first');
    assert.equal((await store.getObject('claims/x.json'))?.toString('utf8'), 'first');
  });
});
