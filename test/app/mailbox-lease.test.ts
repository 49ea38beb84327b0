import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leasedLine, withMailboxLease } from '../../lib/app/mailbox-lease.ts';
import type { MailboxRunSummary } from '../../lib/ingest/pipeline-types.ts';
import { FsMailboxLeases } from '../../lib/store/fs-lease.ts';
import { world } from '../ingest/pipeline-helpers.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'mailbox-lease-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('withMailboxLease', () => {
  it('runs one of two simultaneous runs of a mailbox; the other is skipped, not failed, and says who has it', async () => {
    const leases = new FsMailboxLeases({ dir: join(root, `d${++n}`) });
    const w = world(3);
    let release!: () => void;
    let started!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const running = new Promise<void>((r) => {
      started = r;
    });
    const first = withMailboxLease(leases, 'support', {}, async (signal) => {
      started();
      await gate;
      return w.run({}, { signal });
    });
    await running;
    const logged: string[] = [];
    const second = await withMailboxLease(leases, 'support', { log: (_l, m) => logged.push(m) }, () => assert.fail('must not run'));

    assert.equal(second.ok, true, 'a cron job must not alert on it');
    assert.equal(second.leasedBy?.pid, process.pid);
    assert.match(
      leasedLine(second),
      /^support: skipped: another run holds this mailbox's lease \(host .*, pid \d+, run [0-9a-f-]+, until .*\); not a failure/,
    );
    assert.deepEqual(logged, ['skipped: another run holds the lease']);
    release();
    const done = await first;
    assert.equal(done.stored, 3);
    assert.equal(w.drop.sessions, 1, 'only one POP3 session was opened');
    assert.equal((await leases.acquire('support')).acquired, true, 'released at the end of the run');
  });

  it('renews the lease while the run goes on, so a run longer than its time-to-live keeps it', async () => {
    const leases = new FsMailboxLeases({ dir: join(root, `d${++n}`) });
    let during: boolean | undefined;
    await withMailboxLease(leases, 'support', { ttlMs: 300 }, async () => {
      await sleep(700);
      during = (await leases.acquire('support')).acquired;
      return world().run();
    });
    assert.equal(during, false, 'still held after more than twice its time-to-live');
  });

  it('aborts the run and reports ELEASELOST when another run took the lease over', async () => {
    const leases = new FsMailboxLeases({ dir: join(root, `d${++n}`) });
    let aborted: unknown;
    const summary: MailboxRunSummary = await withMailboxLease(leases, 'support', { ttlMs: 300 }, async (signal) => {
      const path = leases.pathFor('support');
      const mine = JSON.parse(await readFile(path, 'utf8'));
      await writeFile(path, JSON.stringify({ ...mine, runId: 'usurper', expiresAt: new Date(Date.now() + 60_000).toISOString() }));
      await new Promise<void>((resolve) => signal!.addEventListener('abort', () => resolve(), { once: true }));
      aborted = signal!.reason;
      return world().run();
    });
    assert.equal((aborted as { code?: string }).code, 'ELEASELOST');
    assert.equal(summary.ok, false);
    assert.equal(summary.error?.code, 'ELEASELOST');
    assert.equal(JSON.parse(await readFile(leases.pathFor('support'), 'utf8')).runId, 'usurper', "the new holder's lease is left alone");
  });

  it("passes the caller's signal through and runs unguarded without a lease store", async () => {
    const ac = new AbortController();
    let seen: AbortSignal | undefined;
    await withMailboxLease(undefined, 'support', { signal: ac.signal }, async (signal) => {
      seen = signal;
      return world().run();
    });
    assert.equal(seen, ac.signal);
  });
});
