import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsMailboxLeases } from '../../lib/store/fs-lease.ts';
import { LeaseError } from '../../lib/store/types.ts';
import type { LeaseAttempt, LeaseRecord } from '../../lib/store/types.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-lease-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const fresh = () => new FsMailboxLeases({ dir: join(root, `s${++n}`) });
/** Another process's view of the same store (a second instance: nothing shared in memory). */
const sameStore = () => new FsMailboxLeases({ dir: join(root, `s${n}`) });

function held(a: LeaseAttempt) {
  assert.equal(a.acquired, true, a.acquired ? '' : `held by ${JSON.stringify(a.holder)}`);
  return (a as Extract<LeaseAttempt, { acquired: true }>).lease;
}
function refused(a: LeaseAttempt): LeaseRecord {
  assert.equal(a.acquired, false, 'the lease should have been refused');
  return (a as Extract<LeaseAttempt, { acquired: false }>).holder;
}

async function plant(leases: FsMailboxLeases, record: Partial<LeaseRecord>): Promise<void> {
  await mkdir(leases.dir, { recursive: true });
  const now = Date.now();
  await writeFile(
    leases.pathFor('support'),
    JSON.stringify({
      version: 1,
      mailbox: 'support',
      host: 'elsewhere.example',
      pid: 4242,
      runId: 'other-run',
      acquiredAt: new Date(now - 1000).toISOString(),
      expiresAt: new Date(now + 60_000).toISOString(),
      ...record,
    }),
  );
}

describe('FsMailboxLeases', () => {
  it('gives the lease to one run and tells the next who holds it, until released', async () => {
    const leases = fresh();
    const first = held(await leases.acquire('support', { ttlMs: 60_000 }));
    const file = JSON.parse(await readFile(leases.pathFor('support'), 'utf8'));
    assert.deepEqual(
      { host: file.host, pid: file.pid, runId: file.runId },
      { host: hostname(), pid: process.pid, runId: first.record.runId },
    );
    assert.ok(Date.parse(file.expiresAt) > Date.now() + 55_000);

    const holder = refused(await sameStore().acquire('support'));
    assert.equal(holder.runId, first.record.runId);
    assert.equal((await leases.acquire('other-mailbox')).acquired, true, 'leases are per mailbox');

    await first.release();
    const second = held(await leases.acquire('support'));
    assert.notEqual(second.record.runId, first.record.runId);
    assert.deepEqual((await readdir(leases.dir)).sort(), ['other-mailbox.json', 'support.json'], 'no temp files left');
  });

  it('refuses while another host holds an unexpired lease, and takes it over once it has expired', async () => {
    const leases = fresh();
    await plant(leases, {});
    assert.equal(refused(await leases.acquire('support')).host, 'elsewhere.example');
    await plant(leases, { expiresAt: new Date(Date.now() - 1).toISOString() });
    const taken = held(await leases.acquire('support'));
    assert.equal(JSON.parse(await readFile(leases.pathFor('support'), 'utf8')).runId, taken.record.runId);
  });

  it('takes over at once the lease of a process of this host that is gone (kill -9), without waiting for expiry', async () => {
    const leases = fresh();
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { FsMailboxLeases } from ${JSON.stringify(new URL('../../lib/store/fs-lease.ts', import.meta.url).href)};
      const a = await new FsMailboxLeases({ dir: ${JSON.stringify(join(root, `s${n}`))} }).acquire('support', { ttlMs: 600000 });
      process.stdout.write(a.acquired ? 'held\\n' : 'refused\\n');
      setInterval(() => {}, 1000);
    `,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const said = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    assert.equal(said.trim(), 'held');
    assert.equal(refused(await leases.acquire('support')).pid, child.pid, 'held while the process lives');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const t0 = Date.now();
    held(await leases.acquire('support'));
    assert.ok(Date.now() - t0 < 1000);
  });

  it('takes over an unreadable lease file (it can only be damage: leases are linked into place whole)', async () => {
    const leases = fresh();
    await mkdir(leases.dir, { recursive: true });
    await writeFile(leases.pathFor('support'), '{"version":1,');
    held(await leases.acquire('support'));
  });

  it('lets exactly one of many racing runs win a free lease, and one of many win an expired one', async () => {
    for (const setup of ['free', 'expired'] as const) {
      const leases = fresh();
      if (setup === 'expired') await plant(leases, { expiresAt: new Date(Date.now() - 1).toISOString() });
      const attempts = await Promise.all(Array.from({ length: 12 }, () => sameStore().acquire('support')));
      const winners = attempts.filter((a) => a.acquired);
      assert.equal(winners.length, 1, `${setup}: one winner`);
      const winner = (winners[0] as Extract<LeaseAttempt, { acquired: true }>).lease.record.runId;
      for (const a of attempts) if (!a.acquired) assert.equal(a.holder.runId, winner, `${setup}: the others name the winner`);
      assert.equal(JSON.parse(await readFile(leases.pathFor('support'), 'utf8')).runId, winner);
    }
  });

  it('renews by pushing the expiry out; a renewal after a takeover fails with ELEASELOST', async () => {
    const leases = fresh();
    const lease = held(await leases.acquire('support', { ttlMs: 60_000 }));
    const before = lease.record.expiresAt;
    await new Promise((r) => setTimeout(r, 20));
    await lease.renew();
    assert.ok(Date.parse(lease.record.expiresAt) > Date.parse(before));
    assert.equal(JSON.parse(await readFile(leases.pathFor('support'), 'utf8')).expiresAt, lease.record.expiresAt);

    await plant(leases, { runId: 'usurper' });
    await assert.rejects(lease.renew(), (e: unknown) => e instanceof LeaseError && e.code === 'ELEASELOST' && e.failureClass === 'storage');
    await lease.release();
    assert.equal(
      JSON.parse(await readFile(leases.pathFor('support'), 'utf8')).runId,
      'usurper',
      "release never removes another run's lease",
    );
  });

  it('does not renew a lease that has (nearly) expired: another run may be taking it over', async () => {
    const leases = fresh();
    const lease = held(await leases.acquire('support', { ttlMs: 100 }));
    await new Promise((r) => setTimeout(r, 120));
    await assert.rejects(lease.renew(), { code: 'ELEASELOST' });
  });
});
