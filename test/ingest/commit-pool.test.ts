import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommitPool } from '../../lib/ingest/commit-pool.ts';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('CommitPool', () => {
  it('holds the receive loop at 32 commits in flight and lets it go as soon as one ends', async () => {
    const pool = new CommitPool();
    const works = Array.from({ length: 32 }, () => deferred());
    for (const w of works) pool.add(10, () => w.promise);
    let roomy = false;
    const waiting = pool.waitForRoom().then(() => {
      roomy = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(roomy, false);
    works[17]!.resolve();
    await waiting;
    assert.equal(pool.size, 31);
    for (const w of works) w.resolve();
    await pool.settle();
    assert.equal(pool.size, 0);
  });

  it('holds it while the bytes in flight reach 32 MiB, with more than one commit', async () => {
    const pool = new CommitPool();
    const a = deferred();
    const b = deferred();
    pool.add(20 << 20, () => a.promise);
    await pool.waitForRoom(); // one commit alone may be as large as it is
    pool.add(20 << 20, () => b.promise);
    let roomy = false;
    const waiting = pool.waitForRoom().then(() => {
      roomy = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(roomy, false);
    a.resolve();
    await waiting;
    b.resolve();
    await pool.settle();
  });

  it('a commit that fails ends the session: the waiting loop gets its error', async () => {
    const pool = new CommitPool();
    const works = Array.from({ length: 32 }, () => deferred());
    for (const w of works) pool.add(1, () => w.promise);
    const waiting = pool.waitForRoom();
    works[0]!.reject(new Error('disk full'));
    await assert.rejects(waiting, /disk full/);
    for (const w of works.slice(1)) w.resolve();
    await assert.rejects(pool.settle(), /disk full/);
  });
});
