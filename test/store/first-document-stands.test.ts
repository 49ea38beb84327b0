// Issue 9: every ingested UIDL keeps its own metadata document, and a re-ingest after a lost state writes neither a
// document nor a claim check again: the first one stands.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { storeClaimCheck } from '../../lib/publish/claim-check.ts';
import { LocalPublisher } from '../../lib/publish/local-publisher.ts';
import type { Publisher } from '../../lib/publish/types.ts';
import { resolveDocument } from '../../lib/publish/resolve-document.ts';
import { FsRawStore } from '../../lib/store/fs-store.ts';
import { S3RawStore } from '../../lib/store/s3-store.ts';
import type { RawStore } from '../../lib/store/types.ts';
import { cli } from '../cli/cli-helpers.ts';
import { writeFsConfig } from '../helpers/fs-archive.ts';
import { enforceConditionalWrites, startLocalAws, type LocalAws } from '../helpers/fauxqs.ts';
import { fakeMetadataDocument, MemoryPublisher, MemoryStateStore } from '../helpers/memory-adapters.ts';
import { JOB_DEFAULTS } from '../helpers/job.ts';
import { MemoryMaildrop, sampleMessage } from '../helpers/memory-pop3.ts';

const T1 = new Date('2026-11-26T01:00:00.000Z');
const T2 = new Date('2026-12-24T01:00:00.000Z');

function maildrop(): MemoryMaildrop {
  const drop = new MemoryMaildrop();
  // Two UIDLs with identical bytes (a server that delivered one message twice), and two ordinary messages.
  drop.add('uid-1', sampleMessage(1));
  drop.add('uid-1-again', sampleMessage(1));
  drop.add('uid-2', sampleMessage(2));
  drop.add('uid-3', sampleMessage(3));
  return drop;
}

async function ingest(store: RawStore, drop: MemoryMaildrop, now: Date, publisher: Publisher = new MemoryPublisher()) {
  const summary = await runMailbox({
    job: { ...JOB_DEFAULTS, id: 'support', connect: { host: '127.0.0.1', user: 'u', password: 'p' } },
    store,
    state: new MemoryStateStore(),
    publisher,
    connect: drop.connect,
    now: () => now,
  });
  assert.equal(summary.ok, true, JSON.stringify(summary.error));
  return summary;
}

async function documents(store: RawStore): Promise<MetadataDocument[]> {
  const out: MetadataDocument[] = [];
  for await (const d of store.listMetadata()) out.push(d);
  return out;
}

/** Counts PutObject requests by the kind of key they write. */
function countPuts(client: S3Client): { packs: number; claims: number } {
  const counts = { packs: 0, claims: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = String((args.input as { Key?: unknown }).Key ?? '');
      if (context.commandName === 'PutObjectCommand' && key.endsWith('.jsonl')) counts.packs++;
      if (context.commandName === 'PutObjectCommand' && key.includes('/claims/')) counts.claims++;
      return next(args);
    },
    { step: 'initialize', name: 'testPutCounter' },
  );
  return counts;
}

describe('every UIDL keeps its own document; the first document stands', () => {
  let root: string;
  let aws: LocalAws;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'first-doc-'));
    aws = await startLocalAws();
  });
  after(async () => {
    await aws.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('fs: two UIDLs with identical bytes keep two documents, and replay republishes both', async () => {
    const dir = join(root, 'replay');
    const store = new FsRawStore({ dir });
    await ingest(store, maildrop(), T1, new LocalPublisher({ dir }));
    const docs = await documents(store);
    assert.deepEqual(docs.map((d) => d.uidl).sort(), ['uid-1', 'uid-1-again', 'uid-2', 'uid-3']);
    const twins = docs.filter((d) => d.uidl.startsWith('uid-1'));
    assert.equal(twins[0]!.raw.key, twins[1]!.raw.key, 'one raw message');
    assert.notEqual(twins[0]!.id, twins[1]!.id, 'two documents');

    const config = await writeFsConfig(dir);
    const out = await cli(['replay', '--config', config, '--json']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(JSON.parse(out.stdout).replayed, 4);
  });

  it('fs: a re-ingest after a lost state writes no document again; each keeps its first ingestedAt', async () => {
    const dir = join(root, 'lost-state');
    const drop = maildrop();
    await ingest(new FsRawStore({ dir }), drop, T1);
    const files = async () => (await readdir(join(dir, 'raw'), { recursive: true })).sort();
    const before = await files();
    // A new process, a fresh state: everything is fetched and published again, but the archive does not change.
    const again = new FsRawStore({ dir });
    const summary = await ingest(again, drop, T2);
    assert.equal(summary.stored, 4);
    const docs = await documents(again);
    assert.deepEqual([...new Set(docs.map((d) => d.ingestedAt))], [T1.toISOString()]);
    assert.deepEqual(await files(), before, 'no new pack');
    assert.equal(docs.length, 4);
  });

  it('S3: one document per UIDL, and no pack PUT when a lost state is re-ingested', async () => {
    const client = aws.newS3Client();
    // As S3 does (fauxqs does not): an existing raw key refuses a create, so the store knows it was there.
    enforceConditionalWrites(client, aws.s3);
    const puts = countPuts(client);
    const drop = maildrop();
    await ingest(new S3RawStore({ client, bucket: aws.bucket, prefix: 'stands' }), drop, T1);
    assert.equal(puts.packs, 1, 'the four documents of one checkpoint and day in one object');
    const again = new S3RawStore({ client, bucket: aws.bucket, prefix: 'stands' });
    await ingest(again, drop, T2);
    assert.equal(puts.packs, 1, 'nothing written again');
    const docs = await documents(again);
    assert.deepEqual(docs.map((d) => d.uidl).sort(), ['uid-1', 'uid-1-again', 'uid-2', 'uid-3']);
    assert.deepEqual([...new Set(docs.map((d) => d.ingestedAt))], [T1.toISOString()]);
  });

  it('claim checks are uploaded once: publishing again points at the first copy', async () => {
    const client = aws.newS3Client();
    const puts = countPuts(client);
    const store = new S3RawStore({ client, bucket: aws.bucket, prefix: 'claimed' });
    const first = fakeMetadataDocument({ id: 'c'.repeat(64), ingestedAt: T1.toISOString(), snippet: '見積書 '.repeat(100) });
    const p1 = await storeClaimCheck(store, 'claimed/', first);
    const p2 = await storeClaimCheck(store, 'claimed/', { ...first, ingestedAt: T2.toISOString() });
    assert.equal(puts.claims, 1);
    assert.deepEqual(p2, p1);
    const resolved = await resolveDocument(JSON.stringify(p2), { getObject: (key, bucket) => store.getObject(key, bucket) });
    assert.equal(resolved.ingestedAt, T1.toISOString());
    assert.equal(p1.claimCheck.sha256, createHash('sha256').update(JSON.stringify(first)).digest('hex'));
  });

  it('a damaged claim copy is replaced, so the pointer always resolves', async () => {
    const store = new FsRawStore({ dir: join(root, 'claims') });
    const doc = fakeMetadataDocument({ id: 'd'.repeat(64) });
    await store.putObject(`claims/${doc.id}.json`, '{"half a docu');
    const pointer = await storeClaimCheck(store, '', doc);
    assert.deepEqual(await resolveDocument(JSON.stringify(pointer), { getObject: (key) => store.getObject(key) }), doc);
  });
});
