import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { MemoryPublisher, MemoryRawStore, MemoryStateStore, fakeMetadataDocument } from './memory-adapters.ts';
import { rawKey } from '../../lib/store/keys.ts';
import { emptyState } from '../../lib/store/state-format.ts';
import { StoreError } from '../../lib/store/types.ts';
import { PublishError } from '../../lib/publish/types.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function stageBytes(store: MemoryRawStore, bytes: Buffer) {
  const staged = await store.stage('support');
  await pipeline(Readable.from([bytes]), staged.writable);
  return staged;
}

describe('MemoryRawStore', () => {
  const bytes = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
  const key = rawKey('support', new Date('2025-01-02T00:00:00Z'), sha(bytes));

  it('keeps staged bytes invisible until commit, then stores them verified', async () => {
    const store = new MemoryRawStore();
    const staged = await stageBytes(store, bytes);
    assert.equal(await store.exists(key), false);
    const r = await staged.commit(key, { sha256: sha(bytes), size: bytes.length });
    assert.deepEqual(r, { key, size: bytes.length, sha256: sha(bytes), existed: false });
    assert.deepEqual(store.objects.get(key), bytes);
    assert.equal(store.openStages.size, 0);
  });

  it('reports existed for identical bytes and ECONFLICT for different ones', async () => {
    const store = new MemoryRawStore();
    await (await stageBytes(store, bytes)).commit(key, { sha256: sha(bytes), size: bytes.length });
    const again = await (await stageBytes(store, bytes)).commit(key, { sha256: sha(bytes), size: bytes.length });
    assert.equal(again.existed, true);
    const other = Buffer.from('other');
    const staged = await stageBytes(store, other);
    await assert.rejects(staged.commit(key, { sha256: sha(other), size: other.length }), { code: 'ECONFLICT' });
    assert.deepEqual(store.objects.get(key), bytes);
  });

  it('rejects a commit whose bytes differ from expected (EVERIFY), and corruption on the way', async () => {
    const store = new MemoryRawStore();
    const staged = await stageBytes(store, bytes);
    await assert.rejects(staged.commit(key, { sha256: sha(Buffer.from('x')), size: 1 }), { code: 'EVERIFY' });
    assert.equal(store.objects.has(key), false);
    store.corruptNextCommit();
    const staged2 = await stageBytes(store, bytes);
    await assert.rejects(staged2.commit(key, { sha256: sha(bytes), size: bytes.length }), { code: 'EVERIFY' });
    assert.equal(store.objects.has(key), false);
  });

  it('injects faults once per failNext: stage, write, commit (before and after the effect)', async () => {
    const store = new MemoryRawStore();
    store.failNext('stage');
    await assert.rejects(store.stage('support'), (e: unknown) => e instanceof StoreError && e.code === 'EIO');
    store.failNext('write');
    const staged = await store.stage('support');
    await assert.rejects(pipeline(Readable.from([bytes]), staged.writable), /injected write failure/);
    await staged.abort();
    store.failNext('commit');
    const s2 = await stageBytes(store, bytes);
    await assert.rejects(s2.commit(key, { sha256: sha(bytes), size: bytes.length }), /injected commit/);
    assert.equal(store.objects.has(key), false);
    store.failNext('commit', new Error('lost response'), { afterEffect: true });
    const s3 = await stageBytes(store, bytes);
    await assert.rejects(s3.commit(key, { sha256: sha(bytes), size: bytes.length }), /lost response/);
    assert.equal(store.objects.has(key), true, 'afterEffect: the object was written before the error');
    assert.equal(store.faults.pending(), 0);
  });

  it('stores metadata at the flush, the first document of an id standing, and lists it by mailbox and since', async () => {
    const store = new MemoryRawStore();
    const k1 = rawKey('support', new Date('2025-01-01T10:00:00Z'), 'a'.repeat(64));
    const k2 = rawKey('support', new Date('2025-01-03T10:00:00Z'), 'b'.repeat(64));
    const k3 = rawKey('sales', new Date('2025-01-03T10:00:00Z'), 'c'.repeat(64));
    for (const [id, k] of [
      ['2', k2],
      ['1', k1],
      ['3', k3],
    ] as const)
      await store.putMetadata(fakeMetadataDocument({ id, raw: { key: k, size: 1, sha256: '0'.repeat(64) } }));
    assert.equal(await store.getMetadata(k1), null, 'not before the flush');
    await store.flush();
    await store.putMetadata(fakeMetadataDocument({ id: '1', snippet: 'later', raw: { key: k1, size: 1, sha256: '0'.repeat(64) } }));
    await store.flush();
    assert.equal((await store.getMetadata(k1))?.id, '1');
    assert.equal((await store.getMetadata(k1, '1'))?.snippet, '', 'the first document stands');
    assert.equal(await store.getMetadata(rawKey('support', new Date(), 'd'.repeat(64))), null);
    const ids = async (q?: Parameters<MemoryRawStore['listMetadata']>[0]) => {
      const out: string[] = [];
      for await (const d of store.listMetadata(q)) out.push(d.id);
      return out;
    };
    assert.deepEqual(await ids(), ['3', '1', '2']);
    assert.deepEqual(await ids({ mailbox: 'support' }), ['1', '2']);
    assert.deepEqual(await ids({ mailbox: 'support', since: new Date('2025-01-02T23:00:00Z') }), ['2']);
  });
});

describe('MemoryStateStore', () => {
  it('starts empty with version null and compare-and-sets', async () => {
    const s = new MemoryStateStore();
    const r = await s.read('support');
    assert.deepEqual(r, { state: emptyState('support'), version: null });
    const v1 = await s.write('support', { ...r.state, uidls: { a: { id: 'x', sha256: 's', key: 'k', size: 1, ingestedAt: 't' } } }, null);
    await assert.rejects(s.write('support', r.state, null), { code: 'ECONFLICT' });
    const v2 = await s.write('support', r.state, v1);
    assert.notEqual(v1, v2);
    assert.equal(s.stateWrites, 2);
    assert.equal(s.conflicts, 1);
  });

  it('detects another writer and injects read/write faults', async () => {
    const s = new MemoryStateStore();
    const r = await s.read('m');
    s.set('m', { version: 2, mailbox: 'm', uidls: {} });
    await assert.rejects(s.write('m', r.state, r.version), { code: 'ECONFLICT' });
    s.failNext('stateRead');
    await assert.rejects(s.read('m'), { code: 'EIO' });
    s.failNext('stateWrite', undefined, { afterEffect: true });
    const cur = await s.read('m');
    await assert.rejects(s.write('m', cur.state, cur.version), { code: 'EIO' });
    assert.notEqual(s.version('m'), cur.version, 'afterEffect: the write happened');
  });
});

describe('MemoryPublisher', () => {
  it('records batches and fails with the batch ids', async () => {
    const p = new MemoryPublisher();
    const docs = [fakeMetadataDocument({ id: 'a' }), fakeMetadataDocument({ id: 'b' })];
    assert.deepEqual(await p.publish(docs), { published: 2, perTarget: { memory: 2 } });
    p.failNext();
    await assert.rejects(p.publish(docs), (e: unknown) => e instanceof PublishError && e.failedIds.join() === 'a,b');
    assert.deepEqual(p.ids(), ['a', 'b']);
    p.failNext('publish', undefined, { afterEffect: true });
    await assert.rejects(p.publish(docs), PublishError);
    assert.deepEqual(p.ids(), ['a', 'b', 'a', 'b']);
    assert.equal(p.calls, 3);
  });
});
