import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dovecotSkipReason, startDovecot, toCrlf, type DovecotServer } from '../helpers/dovecot.ts';
import { dovecotJob, events, mail, runInto, sha256, storedShas, tempDir } from './e2e-helpers.ts';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { FsRawStore } from '../../lib/store/fs-store.ts';
import { FsStateStore } from '../../lib/store/fs-state.ts';
import { LocalPublisher } from '../../lib/publish/local-publisher.ts';
import { StoreError } from '../../lib/store/types.ts';

const skip = dovecotSkipReason();

describe('pipeline against a real Dovecot', { skip: skip ?? false }, () => {
  let dovecot: DovecotServer;
  before(async () => {
    dovecot = await startDovecot();
  });
  after(async () => {
    await dovecot?.stop();
  });

  it('ingests a mailbox byte for byte, then only new mail, and nothing twice', async () => {
    const t = await tempDir('e2e-keep-');
    try {
      const first = [mail(1), mail(2, { extra: 'X-Dots: yes\n\n.leading dot line\n..two dots' }), mail(3, { size: 200_000 })];
      await dovecot.seed('alice', first);
      const job = dovecotJob(dovecot);
      const s1 = await runInto(t.dir, job);
      assert.equal(s1.ok, true, JSON.stringify(s1.error));
      assert.deepEqual({ new: s1.new, stored: s1.stored, published: s1.published }, { new: 3, stored: 3, published: 3 });
      assert.deepEqual(await storedShas(t.dir), first.map((m) => sha256(toCrlf(m))).sort());

      const s2 = await runInto(t.dir, job);
      assert.deepEqual({ new: s2.new, stored: s2.stored, published: s2.published }, { new: 0, stored: 0, published: 0 });

      await dovecot.seed('alice', [mail(4)]);
      const s3 = await runInto(t.dir, job);
      assert.deepEqual({ new: s3.new, stored: s3.stored }, { new: 1, stored: 1 });
      const ev = await events(t.dir);
      assert.equal(ev.length, 4);
      assert.equal(new Set(ev.map((e) => e.id)).size, 4);
      assert.equal((await dovecot.maildirMessages('alice')).length, 4, 'keep leaves the mailbox as it was');
    } finally {
      await t.remove();
    }
  });

  it('retention delete empties the server only after storage', async () => {
    const t = await tempDir('e2e-delete-');
    try {
      const msgs = Array.from({ length: 20 }, (_, i) => mail(100 + i));
      await dovecot.seed('bob', msgs);
      const s = await runInto(t.dir, dovecotJob(dovecot, 'bob', { retention: 'delete' }));
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.deepEqual({ stored: s.stored, deleted: s.deleted, quitOk: s.quitOk }, { stored: 20, deleted: 20, quitOk: true });
      assert.equal((await dovecot.maildirMessages('bob')).length, 0);
      assert.deepEqual(await storedShas(t.dir), msgs.map((m) => sha256(toCrlf(m))).sort());
    } finally {
      await t.remove();
    }
  });

  it('deleteAfterDays deletes only once the messages are old enough', async () => {
    const t = await tempDir('e2e-days-');
    const local = await startDovecot({ users: [{ user: 'carol', password: 'pw-carol' }] });
    try {
      await local.seed('carol', [mail(1), mail(2)]);
      const job = dovecotJob(local, 'carol', { retention: { deleteAfterDays: 3 } });
      const day = (d: number) => () => new Date(Date.UTC(2026, 10, 1 + d));
      assert.equal((await runInto(t.dir, job, { now: day(0) })).deleted, 0);
      assert.equal((await runInto(t.dir, job, { now: day(2) })).deleted, 0);
      assert.equal((await runInto(t.dir, job, { now: day(3) })).deleted, 2);
      assert.equal((await local.maildirMessages('carol')).length, 0);
    } finally {
      await local.stop();
      await t.remove();
    }
  });

  it('STLS on the plain port works the same', async () => {
    const t = await tempDir('e2e-stls-');
    const local = await startDovecot({ users: [{ user: 'dave', password: 'pw-dave' }] });
    try {
      await local.seed('dave', [mail(7)]);
      const job = dovecotJob(local, 'dave');
      const s = await runInto(t.dir, { ...job, connect: { ...job.connect, port: local.plainPort, tls: 'starttls' } });
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.equal(s.stored, 1);
    } finally {
      await local.stop();
      await t.remove();
    }
  });

  it('a store that cannot stage one large message does not stall the pipelined messages behind it', async () => {
    const t = await tempDir('e2e-stage-');
    const local = await startDovecot({ users: [{ user: 'erin', password: 'pw-erin' }] });
    try {
      // Over the in-memory threshold, so each message streams straight from the socket into the store.
      const msgs = [1, 2, 3].map((i) => mail(500 + i, { size: 600_000 }));
      await local.seed('erin', msgs);
      let failed = 0;
      const flaky = new (class extends FsRawStore {
        override async stage(mailbox: string) {
          if (failed++ === 0) throw new StoreError('EIO', 'injected: disk unavailable');
          return super.stage(mailbox);
        }
      })({ dir: t.dir });
      const watchdog = setTimeout(() => undefined, 60_000); // a stall shows as a test timeout, not a silent exit
      const s = await runMailbox({
        job: dovecotJob(local, 'erin', { retention: 'delete' }),
        store: flaky,
        state: new FsStateStore({ dir: t.dir }),
        publisher: new LocalPublisher({ dir: t.dir }),
      }).finally(() => clearTimeout(watchdog));
      assert.deepEqual(
        { stored: s.stored, failed: s.failed, deleted: s.deleted, quitOk: s.quitOk },
        { stored: 2, failed: 1, deleted: 0, quitOk: false },
        JSON.stringify(s),
      );
      assert.equal((await local.maildirMessages('erin')).length, 3, 'nothing deleted while a retrieved message is unsafe');
      const again = await runInto(t.dir, dovecotJob(local, 'erin', { retention: 'delete' }));
      assert.deepEqual({ ok: again.ok, stored: again.stored, deleted: again.deleted }, { ok: true, stored: 1, deleted: 3 });
    } finally {
      await local.stop();
      await t.remove();
    }
  });

  it('a wrong password is an auth failure that touches nothing', async () => {
    const t = await tempDir('e2e-auth-');
    try {
      const job = dovecotJob(dovecot);
      const s = await runInto(t.dir, { ...job, connect: { ...job.connect, password: 'wrong' } });
      assert.equal(s.ok, false);
      assert.equal(s.error?.class, 'auth');
      assert.deepEqual(await storedShas(t.dir), []);
    } finally {
      await t.remove();
    }
  });
});
