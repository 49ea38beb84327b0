import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FsRawStore } from '../../lib/store/fs-store.ts';
import { FsStaged } from '../../lib/store/fs-staged.ts';
import type { FsCommitStep } from '../../lib/store/fs-store.ts';
import { rawKey } from '../../lib/store/keys.ts';
import { StoreError } from '../../lib/store/types.ts';
import { fakeMetadataDocument } from '../helpers/memory-adapters.ts';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const DAY = new Date('2025-03-04T05:06:07Z');

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-store-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function freshStore(options: Partial<ConstructorParameters<typeof FsRawStore>[0]> = {}) {
  const dir = join(root, `s${++n}`);
  return new FsRawStore({ dir, ...options });
}

async function put(store: FsRawStore, bytes: Buffer, key = rawKey('support', DAY, sha(bytes))) {
  const staged = await store.stage('support');
  await pipeline(Readable.from([bytes]), staged.writable);
  return staged.commit(key, { sha256: sha(bytes), size: bytes.length });
}

/** What is left in tmp/ once the store's background removals of committed or aborted temp files are done. */
async function tmpFiles(store: FsRawStore): Promise<string[]> {
  await store.tempFilesRemoved();
  try {
    return await readdir(store.tmpDir);
  } catch {
    return [];
  }
}

describe('FsRawStore staging and commit', () => {
  const bytes = Buffer.from('From: a@example.jp\r\nSubject: =?ISO-2022-JP?B?GyRCJEgkbBsoQg==?=\r\n\r\n\x1b$B$3\x1b(B\r\n', 'latin1');

  it('stores the bytes exactly under the content-addressed key, invisible until commit', async () => {
    const store = await freshStore();
    const key = rawKey('support', DAY, sha(bytes));
    const staged = await store.stage('support');
    await pipeline(Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]), staged.writable);
    assert.equal(await store.exists(key), false, 'nothing at the key before commit');
    const result = await staged.commit(key, { sha256: sha(bytes), size: bytes.length });
    assert.deepEqual(result, { key, size: bytes.length, sha256: sha(bytes), existed: false });
    assert.equal(key, `raw/support/2025/03/04/${sha(bytes)}.eml`);
    assert.deepEqual(await readFile(join(store.location, key)), bytes);
    assert.equal((await stat(join(store.location, key))).mode & 0o777, 0o600);
    assert.deepEqual(await tmpFiles(store), [], 'temp file gone');
    assert.equal(await store.exists(key), true);
    const chunks: Buffer[] = [];
    for await (const c of await store.getRaw(key)) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), bytes);
  });

  it('moves the committed temp file into place, so no file is removed per message; an aborted one is removed', async () => {
    // ext4 passes over recently freed inodes when it allocates one: a removal per message slows every later create.
    const dir = join(root, `direct-${++n}`);
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const removals: Array<Promise<void>> = [];
    const context = {
      location: dir,
      tmpDir: join(dir, 'tmp'),
      created: () => undefined,
      removing: (p: Promise<void>) => void removals.push(p),
    };
    const key = rawKey('support', DAY, sha(bytes));
    const staged = new FsStaged(context, join(dir, 'tmp', 'one.part'));
    await pipeline(Readable.from([bytes]), staged.writable);
    assert.equal((await staged.commit(key, { sha256: sha(bytes), size: bytes.length })).existed, false);
    assert.equal(removals.length, 0, 'nothing to remove after a commit');
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    assert.deepEqual(await readFile(join(dir, key)), bytes);
    const aborted = new FsStaged(context, join(dir, 'tmp', 'two.part'));
    await pipeline(Readable.from([bytes]), aborted.writable);
    await aborted.abort();
    assert.equal(removals.length, 1, 'the aborted temp file is removed');
    await Promise.all(removals);
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  });

  it('returns existed: true for identical bytes already stored, and leaves no temp', async () => {
    const store = await freshStore();
    await put(store, bytes);
    const again = await put(store, bytes);
    assert.equal(again.existed, true);
    assert.deepEqual(await tmpFiles(store), []);
  });

  it('refuses to overwrite different bytes at the key (ECONFLICT) and keeps the original', async () => {
    const store = await freshStore();
    const key = rawKey('support', DAY, sha(bytes));
    await put(store, bytes, key);
    const other = Buffer.from('different message');
    await assert.rejects(put(store, other, key), (e: unknown) => e instanceof StoreError && e.code === 'ECONFLICT' && !e.retryable);
    assert.deepEqual(await readFile(join(store.location, key)), bytes);
    assert.deepEqual(await tmpFiles(store), []);
  });

  it('rejects bytes that differ from what the caller expected (EVERIFY) and stores nothing', async () => {
    const store = await freshStore();
    const key = rawKey('support', DAY, sha(bytes));
    const staged = await store.stage('support');
    // The caller hashed a different stream than the one that reached the store (a lost chunk, a bad buffer).
    await pipeline(Readable.from([bytes.subarray(1)]), staged.writable);
    await assert.rejects(staged.commit(key, { sha256: sha(bytes), size: bytes.length }), { code: 'EVERIFY' });
    assert.equal(await store.exists(key), false);
    assert.deepEqual(await tmpFiles(store), []);
    await staged.abort();
  });

  it('rejects a commit with the right hash but the wrong size', async () => {
    const store = await freshStore();
    const staged = await store.stage('support');
    await pipeline(Readable.from([bytes]), staged.writable);
    await assert.rejects(staged.commit(rawKey('support', DAY, sha(bytes)), { sha256: sha(bytes), size: bytes.length + 1 }), {
      code: 'EVERIFY',
    });
  });

  for (const step of ['fsync', 'mkdir', 'place'] as FsCommitStep[]) {
    it(`leaves nothing at the key nor in tmp when the "${step}" step fails`, async () => {
      const store = await freshStore({
        beforeCommitStep: (s) => {
          if (s === step) throw Object.assign(new Error(`disk said no at ${s}`), { code: 'EIO' });
        },
      });
      const key = rawKey('support', DAY, sha(bytes));
      await assert.rejects(put(store, bytes, key), (e: unknown) => e instanceof StoreError && e.code === 'EIO' && e.retryable);
      assert.equal(await store.exists(key), false);
      assert.deepEqual(await tmpFiles(store), []);
      // And the store works again afterwards.
      const ok = await new FsRawStore({ dir: store.location }).stage('support');
      await pipeline(Readable.from([bytes]), ok.writable);
      assert.equal((await ok.commit(key, { sha256: sha(bytes), size: bytes.length })).existed, false);
    });
  }

  it('finding an identical object at the key returns existed and leaves the next flush nothing to sync', async () => {
    const store = await freshStore();
    const key = rawKey('support', DAY, sha(bytes));
    await put(store, bytes, key);
    await store.flush();
    const steps: string[] = [];
    const again = new FsRawStore({
      dir: store.location,
      beforeCommitStep: (s) => {
        steps.push(s);
        if (s === 'fsync-dir') throw new Error('x');
      },
    });
    assert.equal((await put(again, bytes, key)).existed, true);
    // The link step finds the file: no directory got an entry, so the failing fsync-dir is never reached.
    await again.flush();
    assert.deepEqual(steps, ['fsync', 'mkdir', 'place']);
    assert.deepEqual(await readFile(join(store.location, key)), bytes);
  });

  it('concurrent commits to one key: one writes, the identical others see existed, a different one ECONFLICT', async () => {
    const store = await freshStore();
    const key = rawKey('support', DAY, sha(bytes));
    const same = await Promise.all(Array.from({ length: 6 }, () => put(store, bytes, key)));
    assert.deepEqual(same.map((r) => r.existed).sort(), [false, true, true, true, true, true]);
    const other = Buffer.from('another message with the same (forged) key');
    const results = await Promise.allSettled([put(store, other, key), put(store, bytes, key)]);
    assert.equal(results[0].status === 'rejected' && (results[0].reason as StoreError).code, 'ECONFLICT');
    assert.equal(results[1].status === 'fulfilled' && results[1].value.existed, true);
    assert.deepEqual(await readFile(join(store.location, key)), bytes);
    assert.deepEqual(await tmpFiles(store), []);
  });

  it('abort drops the staged bytes, is idempotent, and a commit after abort fails', async () => {
    const store = await freshStore();
    const staged = await store.stage('support');
    staged.writable.write(bytes);
    await staged.abort();
    await staged.abort();
    assert.deepEqual(await tmpFiles(store), []);
    await assert.rejects(staged.commit(rawKey('support', DAY, sha(bytes)), { sha256: sha(bytes), size: bytes.length }), StoreError);
  });

  it('refuses to commit before the writable has finished', async () => {
    const store = await freshStore();
    const staged = await store.stage('support');
    staged.writable.write(bytes);
    await assert.rejects(
      staged.commit(rawKey('support', DAY, sha(bytes)), { sha256: sha(bytes), size: bytes.length }),
      /before the staged writable finished/,
    );
    await staged.abort();
    assert.deepEqual(await tmpFiles(store), []);
  });

  it('rejects keys that escape the store directory and invalid mailbox ids', async () => {
    const store = await freshStore();
    for (const key of ['../x.eml', '/etc/passwd', 'raw//a.eml', 'raw/./a.eml', 'raw\\a.eml', '']) {
      const staged = await store.stage('support');
      await pipeline(Readable.from([bytes]), staged.writable);
      await assert.rejects(staged.commit(key, { sha256: sha(bytes), size: bytes.length }), { code: 'EACCESS' }, key);
      await assert.rejects(store.exists(key), { code: 'EACCESS' });
    }
    await assert.rejects(store.stage('../evil'), TypeError);
  });

  it('streams a multi-megabyte message in chunks', async () => {
    const store = await freshStore();
    const big = Buffer.alloc(5 * 1024 * 1024 + 17, 'x');
    const chunks = [];
    for (let i = 0; i < big.length; i += 65536) chunks.push(big.subarray(i, i + 65536));
    const staged = await store.stage('support');
    await pipeline(Readable.from(chunks), staged.writable);
    const r = await staged.commit(rawKey('support', DAY, sha(big)), { sha256: sha(big), size: big.length });
    assert.equal(r.size, big.length);
    assert.equal((await stat(join(store.location, r.key))).size, big.length);
  });

  it('getRaw on a missing key rejects with ENOTFOUND', async () => {
    const store = await freshStore();
    await assert.rejects(store.getRaw(rawKey('support', DAY, 'a'.repeat(64))), { code: 'ENOTFOUND' });
  });
});

describe('FsRawStore flush: one directory fsync per checkpoint', () => {
  const message = (i: number) => Buffer.from(`Subject: message ${i}\r\n\r\nbody ${i}\r\n`);

  it('commits of one checkpoint share one fsync of their directory, taken at the flush', async () => {
    const steps: Array<{ step: string; final: string }> = [];
    const store = await freshStore({
      beforeCommitStep: (step, paths) => {
        steps.push({ step, final: paths.final });
      },
    });
    const refs = await Promise.all(Array.from({ length: 10 }, (_, i) => put(store, message(i))));
    assert.equal(steps.filter((s) => s.step === 'fsync-dir').length, 0, 'no directory fsync per message');
    assert.equal(steps.filter((s) => s.step === 'fsync').length, 10, "each message's bytes are fsynced before commit resolves");
    await store.flush();
    const dirSyncs = steps.filter((s) => s.step === 'fsync-dir').map((s) => s.final);
    assert.deepEqual(dirSyncs, [join(store.location, 'raw/support/2025/03/04')]);
    assert.ok(refs.every((r) => !r.existed));
    await store.flush();
    assert.equal(steps.filter((s) => s.step === 'fsync-dir').length, 1, 'nothing new: a second flush syncs nothing');
  });

  it('a failed flush keeps its work: the next one writes the documents and syncs the directories', async () => {
    let failing: string | null = 'pack';
    const steps: string[] = [];
    const store = await freshStore({
      beforeCommitStep: (step) => {
        steps.push(step);
        if (step === failing) throw Object.assign(new Error(`disk said no at ${step}`), { code: 'EIO' });
      },
    });
    const ref = await put(store, message(1));
    await store.putMetadata(fakeMetadataDocument({ id: 'doc-1', raw: { key: ref.key, size: ref.size, sha256: ref.sha256 } }));
    await assert.rejects(store.flush(), (e: unknown) => e instanceof StoreError && e.code === 'EIO' && e.retryable);
    assert.equal(await store.getMetadata(ref.key), null, 'not written');
    failing = 'fsync-dir';
    await assert.rejects(store.flush(), (e: unknown) => e instanceof StoreError && e.code === 'EIO');
    assert.equal((await store.getMetadata(ref.key))?.id, 'doc-1', 'the pack is written; only the directory sync failed');
    failing = null;
    steps.length = 0;
    await store.flush();
    assert.deepEqual(steps, ['fsync-dir'], 'the directory is synced at the next flush; the document is not written twice');
    const ids: string[] = [];
    for await (const d of store.listMetadata()) ids.push(d.id);
    assert.deepEqual(ids, ['doc-1']);
    assert.deepEqual(await tmpFiles(store), []);
  });

  it('a flush covers what was committed before it was called, even while another flush runs', async () => {
    const store = await freshStore();
    const a = await put(store, message(1));
    await store.putMetadata(fakeMetadataDocument({ id: 'a', raw: { key: a.key, size: a.size, sha256: a.sha256 } }));
    const first = store.flush();
    const b = await put(store, message(2));
    await store.putMetadata(fakeMetadataDocument({ id: 'b', raw: { key: b.key, size: b.size, sha256: b.sha256 } }));
    await Promise.all([first, store.flush()]);
    assert.equal((await store.getMetadata(a.key))?.id, 'a');
    assert.equal((await store.getMetadata(b.key))?.id, 'b');
  });
});

describe('FsRawStore stale temp cleanup', () => {
  it('removes temp files older than the threshold on the first stage, and keeps young ones', async () => {
    const warnings: string[] = [];
    const store = await freshStore({ warn: (m) => warnings.push(m) });
    await mkdir(store.tmpDir, { recursive: true });
    await writeFile(join(store.tmpDir, 'old.part'), 'left by a crash');
    await writeFile(join(store.tmpDir, 'young.part'), 'another run in progress');
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    await utimes(join(store.tmpDir, 'old.part'), old, old);
    assert.equal(await store.cleanupStaleTemp(), 1);
    assert.deepEqual((await readdir(store.tmpDir)).sort(), ['young.part']);
    assert.ok(warnings.includes('removed stale temp files'));
    assert.equal(await (await freshStore()).cleanupStaleTemp(), 0, 'no tmp dir yet: nothing to do');
  });
});

describe('FsRawStore metadata and objects', () => {
  const k = (mailbox: string, iso: string, c: string) => rawKey(mailbox, new Date(iso), c.repeat(64));
  const doc = (id: string, key: string, extra: Partial<MetadataDocument> = {}) =>
    fakeMetadataDocument({ id, raw: { key, size: 1, sha256: key.slice(-68, -4) }, ...extra });
  const files = async (store: FsRawStore, partition: string) => (await readdir(join(store.location, partition))).sort();

  it('files each document in a pack of its partition, visible after the flush; one pack per partition and flush', async () => {
    const store = await freshStore();
    const key = k('support', '2025-01-02T00:00:00Z', 'a');
    await store.putMetadata(doc('uidl-1', key));
    await store.putMetadata(doc('uidl-2', key));
    assert.equal(await store.getMetadata(key), null, 'buffered until the flush');
    await store.flush();
    const names = await files(store, 'raw/support/2025/01/02');
    assert.equal(names.length, 1);
    assert.match(names[0]!, /^docs-\d{8}T\d{9}Z-[0-9a-f]{12}\.jsonl$/);
    const lines = (await readFile(join(store.location, 'raw/support/2025/01/02', names[0]!), 'utf8')).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as MetadataDocument).id),
      ['uidl-1', 'uidl-2'],
    );
    assert.equal((await stat(join(store.location, 'raw/support/2025/01/02', names[0]!))).mode & 0o777, 0o600);
    assert.equal((await store.getMetadata(key))?.id, 'uidl-1', 'without an id: the first document of the raw message');
    assert.equal((await store.getMetadata(key, 'uidl-2'))?.id, 'uidl-2', "with an id: that UIDL's document");
    assert.equal(await store.getMetadata(key, 'uidl-3'), null);
    assert.deepEqual(await tmpFiles(store), []);
  });

  it('keeps the first document of an id: a later one (another ingestedAt) is not written, in this process or the next', async () => {
    const store = await freshStore();
    const key = k('support', '2025-01-02T00:00:00Z', 'a');
    await store.putMetadata(doc('same', key, { ingestedAt: '2025-01-02T00:00:00.000Z' }));
    await store.flush();
    const before = await files(store, 'raw/support/2025/01/02');
    await store.putMetadata(doc('same', key, { ingestedAt: '2026-06-01T00:00:00.000Z' }));
    await store.flush();
    const restarted = new FsRawStore({ dir: store.location });
    await restarted.putMetadata(doc('same', key, { ingestedAt: '2027-06-01T00:00:00.000Z' }));
    await restarted.flush();
    assert.deepEqual(await files(store, 'raw/support/2025/01/02'), before, 'no second pack');
    assert.equal((await restarted.getMetadata(key, 'same'))?.ingestedAt, '2025-01-02T00:00:00.000Z');
  });

  it('reads legacy <sha256>.json documents first, and does not write a document they already hold', async () => {
    const store = await freshStore();
    const key = k('support', '2025-01-02T00:00:00Z', 'a');
    await store.putObject(key.replace(/\.eml$/, '.json'), JSON.stringify(doc('legacy', key, { ingestedAt: '2020-01-01T00:00:00.000Z' })));
    await store.putMetadata(doc('legacy', key, { ingestedAt: '2025-01-01T00:00:00.000Z' }));
    await store.putMetadata(doc('other-uidl', key));
    await store.flush();
    const out: MetadataDocument[] = [];
    for await (const d of store.listMetadata()) out.push(d);
    assert.deepEqual(
      out.map((d) => [d.id, d.ingestedAt]),
      [
        ['legacy', '2020-01-01T00:00:00.000Z'],
        ['other-uidl', out[1]!.ingestedAt],
      ],
    );
    assert.equal((await store.getMetadata(key))?.id, 'legacy');
  });

  it('lists in mailbox, then partition, then written order; filters by mailbox and since (by partition)', async () => {
    const warnings: Array<Record<string, unknown> | undefined> = [];
    const store = await freshStore({ warn: (_m, f) => warnings.push(f) });
    const docs = [
      doc('s-0102-b', k('support', '2025-01-02T23:59:59Z', 'b')),
      doc('s-0102-a', k('support', '2025-01-02T00:00:00Z', 'a')),
      doc('s-1231', k('support', '2024-12-31T12:00:00Z', 'c')),
      doc('s-0201', k('support', '2025-02-01T00:00:00Z', 'd')),
      doc('a-0102', k('abc', '2025-01-02T00:00:00Z', 'e')),
    ];
    for (const d of docs) await store.putMetadata(d);
    await store.flush();
    // Noise the walk must skip: a raw .eml, a stray file, a non-partition directory, and a corrupt JSON.
    await writeFile(join(store.location, 'raw/support/2025/01/02', `${'f'.repeat(64)}.eml`), 'raw');
    await writeFile(join(store.location, 'raw/support/2025/01/02', 'notes.txt'), 'x');
    await mkdir(join(store.location, 'raw/support/latest'), { recursive: true });
    await writeFile(join(store.location, 'raw/support/2025/01/02', `${'9'.repeat(64)}.json`), '{"truncated":');
    const ids = async (q?: Parameters<FsRawStore['listMetadata']>[0]) => {
      const out: string[] = [];
      for await (const d of store.listMetadata(q)) out.push(d.id);
      return out;
    };
    assert.deepEqual(await ids(), ['a-0102', 's-1231', 's-0102-b', 's-0102-a', 's-0201']);
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]?.key), /9{64}\.json$/);
    assert.deepEqual(await ids({ mailbox: 'support', since: new Date('2025-01-02T18:00:00Z') }), ['s-0102-b', 's-0102-a', 's-0201']);
    assert.deepEqual(await ids({ since: new Date('2025-01-03T00:00:00Z') }), ['s-0201']);
    assert.deepEqual(await ids({ mailbox: 'nobody' }), []);
  });

  it('skips a damaged line of a pack with a warning, and keeps the other documents of the pack', async () => {
    const warnings: string[] = [];
    const store = await freshStore({ warn: (m) => warnings.push(m) });
    const key = k('support', '2025-01-02T00:00:00Z', 'a');
    for (const id of ['one', 'two']) await store.putMetadata(doc(id, key));
    await store.flush();
    const [pack] = await files(store, 'raw/support/2025/01/02');
    const path = join(store.location, 'raw/support/2025/01/02', pack!);
    const [first, second] = (await readFile(path, 'utf8')).trimEnd().split('\n');
    await writeFile(path, `${first!.slice(0, 20)}\n${second}\n`);
    const ids: string[] = [];
    for await (const d of store.listMetadata()) ids.push(d.id);
    assert.deepEqual(ids, ['two']);
    assert.deepEqual(warnings, ['skipping corrupt metadata line']);
    // A lookup: the other document is found; the damaged one is not "none" but an error that names the damage.
    const reader = await freshStore({ dir: store.location, warn: () => undefined });
    assert.equal((await reader.getMetadata(key, 'two'))?.id, 'two');
    await assert.rejects(
      reader.getMetadata(key, 'one'),
      (e: unknown) => e instanceof StoreError && e.code === 'EVERIFY' && !e.retryable && e.message.includes(`${pack} line 1`),
    );
  });

  it('getMetadata of a corrupt legacy file is a clear non-retryable error', async () => {
    const store = await freshStore();
    const key = k('support', '2025-01-02T00:00:00Z', 'a');
    await store.putObject(key.replace(/\.eml$/, '.json'), '{oops');
    await assert.rejects(
      store.getMetadata(key),
      (e: unknown) => e instanceof StoreError && e.code === 'EIO' && !e.retryable && /corrupt metadata/.test(e.message),
    );
  });

  it('putObject overwrites atomically; getObject returns null when absent', async () => {
    const store = await freshStore();
    assert.equal(await store.getObject('claims/x.json'), null);
    assert.deepEqual(await store.putObject('claims/x.json', 'one'), { key: 'claims/x.json' });
    await store.putObject('claims/x.json', Buffer.from('two'));
    assert.deepEqual(await store.getObject('claims/x.json'), Buffer.from('two'));
    assert.deepEqual(await tmpFiles(store), []);
  });

  it('putObject with ifAbsent never replaces: it returns what is there', async () => {
    const store = await freshStore();
    assert.deepEqual(await store.putObject('claims/y.json', 'first', 'application/json', { ifAbsent: true }), { key: 'claims/y.json' });
    const again = await store.putObject('claims/y.json', 'second', 'application/json', { ifAbsent: true });
    assert.deepEqual(again.existing, Buffer.from('first'));
    assert.deepEqual(await store.getObject('claims/y.json'), Buffer.from('first'));
    assert.deepEqual(await tmpFiles(store), []);
  });
});
