import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dovecotSkipReason, startDovecot, toCrlf, type DovecotServer } from '../helpers/dovecot.ts';
import { startDelayProxy } from '../helpers/delay-proxy.ts';
import { dovecotJob, events, mail, runInto, sha256, storedShas, tempDir } from './e2e-helpers.ts';

const skip = dovecotSkipReason();

describe('the run deadline against a real Dovecot behind a slow link', { skip: skip ?? false }, () => {
  let dovecot: DovecotServer;
  before(async () => {
    dovecot = await startDovecot({ users: [{ user: 'sam', password: 'pw-sam' }] });
  });
  after(async () => {
    await dovecot?.stop();
  });

  it('the run ends at maxSessionSeconds with what was stored committed and nothing deleted; the next run finishes', async () => {
    const t = await tempDir('e2e-deadline-');
    // 16 KiB held per 150 ms each way: about 100 KB/s, above any minimum rate, far too slow for 4 MB in 3 s.
    const proxy = await startDelayProxy({
      targetHost: '127.0.0.1',
      targetPort: dovecot.tlsPort,
      oneWayDelayMs: 150,
      highWaterMark: 16 * 1024,
    });
    try {
      const msgs = Array.from({ length: 200 }, (_, i) => mail(300 + i, { size: 20_000 }));
      await dovecot.seed('sam', msgs);
      const job = dovecotJob(dovecot, 'sam', { retention: 'delete', maxSessionSeconds: 3 });
      const started = Date.now();
      const s = await runInto(t.dir, { ...job, connect: { ...job.connect, port: proxy.port } });
      const took = Date.now() - started;
      assert.ok(took < 6_000, `the run took ${took} ms`);
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.ok(s.stored > 0 && s.stored < 200, `stored ${s.stored}`);
      assert.deepEqual(
        { deleted: s.deleted, quitOk: s.quitOk, skipped: s.skipped },
        { deleted: 0, quitOk: false, skipped: 200 - s.stored },
      );
      assert.equal((await dovecot.maildirMessages('sam')).length, 200, 'nothing deleted');
      assert.equal((await events(t.dir)).length, s.stored, 'every stored message is published and committed');

      const rest = await runInto(t.dir, { ...job, maxSessionSeconds: 600 });
      assert.deepEqual({ ok: rest.ok, stored: rest.stored, deleted: rest.deleted }, { ok: true, stored: 200 - s.stored, deleted: 200 });
      assert.deepEqual(await storedShas(t.dir), msgs.map((m) => sha256(toCrlf(m))).sort());
      assert.equal((await dovecot.maildirMessages('sam')).length, 0);
    } finally {
      await proxy.close();
      await t.remove();
    }
  });
});
