import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sampleMessage } from '../helpers/memory-pop3.ts';
import { forUids, inFirstSessions, trickledReply } from '../helpers/fake-pop3-faults.ts';
import { fakeServerJob, withFakeServer } from './fault-server-helpers.ts';

const slowBody = sampleMessage(2, { body: 'a slowly sent line of text\r\n'.repeat(4000) });
const messages = [sampleMessage(1), slowBody, sampleMessage(3)];
/** Message uid-2 trickled at 2 KB/s (above any minimum rate in these tests), in the first session only. */
const slowSecond = { messages, handlers: { RETR: inFirstSessions('RETR', forUids('RETR', ['uid-2'], trickledReply(slowBody, 200, 100))) } };

describe('a run deadline a slow server cannot stretch', () => {
  it('at maxSessionSeconds the connection is dropped: what was stored is committed, nothing deleted, the rest next run', async () => {
    await withFakeServer(slowSecond, async (w) => {
      const started = Date.now();
      const s = await w.run({
        retention: 'delete',
        maxSessionSeconds: 2,
        connect: { ...fakeServerJob(w.server).connect, minBytesPerSecond: 0 },
      });
      const took = Date.now() - started;
      assert.ok(took < 4_000, `the run took ${took} ms`);
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.deepEqual(
        { stored: s.stored, deleted: s.deleted, quitOk: s.quitOk, skipped: s.skipped },
        { stored: 1, deleted: 0, quitOk: false, skipped: 2 },
      );
      assert.ok(!w.server.verbs().includes('QUIT'), 'no QUIT while a retrieved message is not safe');
      assert.equal(w.server.messages.length, 3);
      assert.deepEqual(Object.keys(w.state.get('support')!.uidls), ['uid-1'], 'committed');

      const t = await w.run({ retention: 'delete', maxSessionSeconds: 2 });
      assert.deepEqual({ ok: t.ok, stored: t.stored, deleted: t.deleted }, { ok: true, stored: 2, deleted: 3 });
      assert.equal(w.server.messages.length, 0);
    });
  });

  it('a deadline passed before anything could be stored is a failure (EDEADLINE), retried next run', async () => {
    const firstIsSlow = { messages: [slowBody], handlers: { RETR: trickledReply(slowBody, 200, 100) } };
    await withFakeServer(firstIsSlow, async (w) => {
      const s = await w.run({ maxSessionSeconds: 2, connect: { ...fakeServerJob(w.server).connect, minBytesPerSecond: 0 } });
      assert.equal(s.ok, false);
      assert.deepEqual({ class: s.error?.class, code: s.error?.code }, { class: 'network', code: 'EDEADLINE' });
      assert.match(s.error!.message, /raise maxSessionSeconds/);
      assert.equal(w.state.get('support')!.lastError?.code, 'EDEADLINE');
    });
  });

  it('the deadline holds from the first byte: a greeting that never comes is cut at it too', async () => {
    await withFakeServer({ messages, greeting: () => undefined }, async (w) => {
      const started = Date.now();
      const s = await w.run({ maxSessionSeconds: 1 });
      assert.ok(Date.now() - started < 3_000);
      assert.equal(s.error?.code, 'EDEADLINE');
    });
  });

  it('one byte a second cannot hold a run: the minimum rate ends it (ESLOW), what was stored stays committed', async () => {
    const trickling = { messages, handlers: { RETR: forUids('RETR', ['uid-2'], trickledReply(slowBody, 1, 1000)) } };
    await withFakeServer(trickling, async (w) => {
      const s = await w.run({
        retention: 'delete',
        connect: { ...fakeServerJob(w.server).connect, minBytesPerSecond: 100, minRateWindowMs: 1000 },
      });
      assert.equal(s.ok, false);
      assert.deepEqual(
        { class: s.error?.class, code: s.error?.code, stored: s.stored, deleted: s.deleted },
        { class: 'network', code: 'ESLOW', stored: 1, deleted: 0 },
      );
      assert.deepEqual(Object.keys(w.state.get('support')!.uidls), ['uid-1']);
    });
  });

  it("a caller's deadline only stops requests (the session still QUITs); its cutoff is where the connection drops", async () => {
    await withFakeServer({ messages }, async (w) => {
      const now = Date.now();
      const s = await w.run({ retention: 'delete' }, { deadline: now, cutoff: now + 10_000 });
      assert.deepEqual(
        { ok: s.ok, stored: s.stored, skipped: s.skipped, quitOk: s.quitOk },
        { ok: true, stored: 0, skipped: 3, quitOk: true },
      );
      assert.ok(!w.server.verbs().includes('RETR'));
    });
  });
});
