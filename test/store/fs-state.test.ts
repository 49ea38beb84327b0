import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsStateStore } from '../../lib/store/fs-state.ts';
import { emptyState } from '../../lib/store/state-format.ts';
import { StoreError } from '../../lib/store/types.ts';
import type { MailboxState } from '../../lib/store/types.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-state-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const fresh = (o: { staleLockMs?: number; lockWaitMs?: number } = {}) => new FsStateStore({ dir: join(root, `s${++n}`), ...o });

const entry = (id: string) => ({
  id,
  sha256: 'a'.repeat(64),
  key: `raw/support/2025/01/02/${'a'.repeat(64)}.eml`,
  size: 10,
  ingestedAt: '2025-01-02T00:00:00.000Z',
});
const withUidl = (s: MailboxState, uidl: string): MailboxState => ({ ...s, uidls: { ...s.uidls, [uidl]: entry(uidl) } });

describe('FsStateStore', () => {
  it('reads an absent state as empty with version null', async () => {
    const store = fresh();
    assert.deepEqual(await store.read('support'), { state: emptyState('support'), version: null });
  });

  it('writes with compare-and-set; the version is the sha256 of the file bytes', async () => {
    const store = fresh();
    const r0 = await store.read('support');
    const v1 = await store.write('support', withUidl(r0.state, 'UID 1/..\\weird'), null);
    const bytes = await readFile(store.pathFor('support'));
    assert.equal(v1, createHash('sha256').update(bytes).digest('hex'));
    const r1 = await store.read('support');
    assert.equal(r1.version, v1);
    assert.deepEqual(Object.keys(r1.state.uidls), ['UID 1/..\\weird']);
    const v2 = await store.write('support', withUidl(r1.state, 'u2'), v1);
    assert.notEqual(v2, v1);
    assert.deepEqual((await readdir(store.dir)).sort(), ['support.json'], 'no temp or lock files left');
  });

  it("rejects a stale version (ECONFLICT) and keeps the other writer's state", async () => {
    const store = fresh();
    const a = await store.read('support');
    const b = await store.read('support');
    await store.write('support', withUidl(a.state, 'from-a'), a.version);
    await assert.rejects(
      store.write('support', withUidl(b.state, 'from-b'), b.version),
      (e: unknown) => e instanceof StoreError && e.code === 'ECONFLICT' && !e.retryable,
    );
    assert.deepEqual(Object.keys((await store.read('support')).state.uidls), ['from-a']);
    await assert.rejects(store.write('support', a.state, 'not-a-version'), { code: 'ECONFLICT' });
  });

  it('detects a change made by hand (an editor) as a conflict', async () => {
    const store = fresh();
    const v = await store.write('support', { version: 2, mailbox: 'support', uidls: {} }, null);
    await writeFile(store.pathFor('support'), JSON.stringify({ version: 2, mailbox: 'support', uidls: {} }));
    await assert.rejects(store.write('support', { version: 2, mailbox: 'support', uidls: {} }, v), { code: 'ECONFLICT' });
  });

  it('lets exactly one of many concurrent writers with the same version win', async () => {
    const store = fresh();
    const { state, version } = await store.read('support');
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => store.write('support', withUidl(state, `w${i}`), version)),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as StoreError).code, 'ECONFLICT');
    assert.equal(Object.keys((await store.read('support')).state.uidls).length, 1);
  });

  for (const [why, content, pattern] of [
    ['truncated JSON', '{"version":1,"mailbox":"support","uidls":{"a":', /not valid JSON/],
    ['an empty file', '', /not valid JSON/],
    ['a JSON array', '[]', /not a JSON object/],
    ["another mailbox's state", '{"version":1,"mailbox":"sales","uidls":{}}', /belongs to mailbox "sales"/],
    ['an unknown version', '{"version":3,"mailbox":"support","uidls":{}}', /unsupported version 3/],
    ['a malformed entry', '{"version":1,"mailbox":"support","uidls":{"u":{"id":1}}}', /entry for UIDL #1 is malformed/],
  ] as const) {
    it(`refuses a corrupt state file (${why}) with a clear error instead of treating it as empty`, async () => {
      const store = fresh();
      await mkdir(store.dir, { recursive: true });
      await writeFile(store.pathFor('support'), content);
      await assert.rejects(
        store.read('support'),
        (e: unknown) =>
          e instanceof StoreError &&
          e.code === 'EIO' &&
          !e.retryable &&
          pattern.test(e.message) &&
          /refusing to treat it as empty/.test(e.message),
      );
    });
  }

  it('breaks a lock older than the stale timeout', async () => {
    const store = fresh({ staleLockMs: 1000 });
    await mkdir(store.dir, { recursive: true });
    const lock = join(store.dir, 'support.lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: 'elsewhere', token: 'x' }));
    const old = new Date(Date.now() - 5000);
    await utimes(lock, old, old);
    await store.write('support', { version: 2, mailbox: 'support', uidls: {} }, null);
    assert.deepEqual(await readdir(store.dir), ['support.json']);
  });

  it('breaks at once the lock of a dead process on this host (kill -9)', async () => {
    const store = fresh({ staleLockMs: 60_000, lockWaitMs: 2000 });
    await mkdir(store.dir, { recursive: true });
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    await writeFile(join(store.dir, 'support.lock'), JSON.stringify({ pid, host: hostname(), token: 'dead' }));
    const t0 = Date.now();
    await store.write('support', { version: 2, mailbox: 'support', uidls: {} }, null);
    assert.ok(Date.now() - t0 < 1500);
  });

  it('gives up with a retryable error while a live writer holds the lock', async () => {
    const store = fresh({ staleLockMs: 60_000, lockWaitMs: 200 });
    await mkdir(store.dir, { recursive: true });
    await writeFile(join(store.dir, 'support.lock'), JSON.stringify({ pid: process.pid, host: hostname(), token: 'live' }));
    await assert.rejects(
      store.write('support', { version: 2, mailbox: 'support', uidls: {} }, null),
      (e: unknown) => e instanceof StoreError && e.code === 'EIO' && e.retryable && /locked by another writer/.test(e.message),
    );
    assert.deepEqual((await store.read('support')).version, null, 'nothing written');
  });

  it('rejects invalid mailbox ids and a state for another mailbox', async () => {
    const store = fresh();
    await assert.rejects(store.read('../etc'), TypeError);
    await assert.rejects(store.write('support', { version: 2, mailbox: 'sales', uidls: {} }, null), TypeError);
  });
});
