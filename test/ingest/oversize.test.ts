import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sampleMessage } from '../helpers/memory-pop3.ts';
import { DEFAULT_CAPABILITIES, dotStuff, type Handler } from '../helpers/fake-pop3-server.ts';
import { endlessBody, forUids, listWithSizes } from '../helpers/fake-pop3-faults.ts';
import { withFakeServer } from './fault-server-helpers.ts';
import { world } from './pipeline-helpers.ts';

const MiB = 1024 * 1024;
const liarHeaders = [
  'From: Big Sender <big@example.com>',
  'To: support@example.jp',
  'Subject: huge attachment',
  'Message-ID: <big@example.com>',
  'Date: Thu, 26 Nov 2026 09:00:00 +0900',
].join('\r\n');

describe("maxMessageBytes holds against the bytes received, not LIST's claim", () => {
  // 1 KB is gathered in memory, 300 KB is streamed into the store: the limit holds on both paths.
  for (const listed of [1000, 300_000])
    it(`LIST says ${listed} bytes, the server sends 3 MB: reading stops at the limit, the headers are archived flagged oversized, nothing is deleted`, async () => {
      const w = world();
      const liar = sampleMessage(2, { body: 'attachment data '.repeat(200_000) });
      w.drop.add('uid-1', sampleMessage(1)).add('liar', liar).add('uid-3', sampleMessage(3));
      w.drop.listedSizes.set('liar', listed);
      w.drop.announceSizes = false;
      const job = { retention: 'delete' as const, maxMessageBytes: MiB };
      const first = await w.run(job);
      assert.equal(first.ok, true, JSON.stringify(first.error));
      assert.equal(first.oversized, 1);
      assert.ok(w.store.largestStagedWrite <= MiB, `a store was handed ${w.store.largestStagedWrite} bytes`);
      assert.equal(w.store.openStages.size, 0, 'the staged write of the cut message was aborted');
      const doc = w.publisher.published.find((d) => d.uidl === 'liar')!;
      assert.equal(doc.flags.oversized, true);
      assert.equal(doc.subject, 'message 2');
      assert.ok(doc.raw.size < 1000, `only the header block is archived (${doc.raw.size} bytes)`);
      assert.ok(w.drop.uids().includes('liar'), 'never deleted: it was not archived whole');
      const entry = w.state.get('support')!.uidls.liar!;
      assert.deepEqual(
        { oversized: entry.oversized, listedSize: entry.listedSize, overLimit: entry.size > MiB },
        { oversized: true, listedSize: listed, overLimit: true },
      );

      const before = w.drop.log.length;
      await w.run(job);
      assert.ok(!w.drop.log.slice(before).includes('RETR liar'), 'known as oversized: never fetched again');
      assert.deepEqual(w.drop.uids(), ['liar'], 'the others are archived and deleted within two runs');
      assert.equal(w.store.rawKeys().length, 3);

      const third = await w.run({ ...job, deleteOversized: true });
      assert.equal(third.deleted, 1);
      assert.equal(w.drop.messages.length, 0);
    });

  it('a raised limit: tried again while it is above what the message was seen to send, archived whole once it fits', async () => {
    const w = world();
    const liar = sampleMessage(2, { body: 'attachment data '.repeat(100_000) });
    w.drop.add('liar', liar);
    w.drop.listedSizes.set('liar', 1000);
    w.drop.announceSizes = false; // so only what it sends tells its size
    await w.run({ maxMessageBytes: 512 * 1024 });
    const same = await w.run({ maxMessageBytes: 512 * 1024 });
    assert.deepEqual(
      { stored: same.stored, oversized: same.oversized },
      { stored: 0, oversized: 0 },
      'not tried again under the same limit',
    );
    const again = await w.run({ maxMessageBytes: 1024 * 1024 });
    assert.deepEqual(
      { stored: again.stored, oversized: again.oversized },
      { stored: 0, oversized: 1 },
      'tried again, cut again at the new limit',
    );
    assert.ok(w.state.get('support')!.uidls.liar!.size > 1024 * 1024);
    const raised = await w.run({ maxMessageBytes: 4 * MiB });
    assert.equal(raised.stored, 1);
    assert.ok(
      w.store.rawKeys().some((k) => w.store.objects.get(k)!.equals(liar)),
      'archived byte for byte',
    );
  });
});

describe('maxMessageBytes against a hostile server (the real client)', () => {
  const others = [sampleMessage(1), Buffer.from(`${liarHeaders}\r\n\r\nplaceholder\r\n`), sampleMessage(3)];

  /** A maildrop whose message 2 is listed as 1000 bytes and served by `retr2`. */
  const lyingAbout2 = (retr2: Handler) => ({
    messages: others,
    handlers: { LIST: listWithSizes({ 'uid-2': 1000 }), RETR: forUids('RETR', ['uid-2'], retr2) },
  });

  it('a RETR that never ends stops at the limit: the run ends, the headers are archived, the rest follows', async () => {
    const endless = endlessBody(liarHeaders);
    await withFakeServer(lyingAbout2(endless.handler), async (w) => {
      const started = Date.now();
      const s = await w.run({ retention: 'delete', maxMessageBytes: 2 * MiB });
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.ok(Date.now() - started < 20_000, 'bounded in time');
      assert.ok(endless.sent() < 2 * MiB + 16 * MiB, `the server got ${endless.sent()} bytes out`);
      assert.ok(w.store.largestStagedWrite <= 2 * MiB);
      const doc = w.publisher.published.find((d) => d.uidl === 'uid-2')!;
      assert.deepEqual({ oversized: doc.flags.oversized, subject: doc.subject }, { oversized: true, subject: 'huge attachment' });
      assert.equal(w.server.sessions.length, 2, 'a second session fetched the rest');
      assert.deepEqual(
        { stored: s.stored, oversized: s.oversized, deleted: s.deleted, quitOk: s.quitOk },
        { stored: 2, oversized: 1, deleted: 2, quitOk: true },
      );
      assert.deepEqual(
        w.server.messages.map((m) => m.uid),
        ['uid-2'],
        'only the oversized one stays',
      );
      assert.equal(w.store.rawKeys().length, 3);
      const retrs = w.server.verbs().filter((v) => v === 'RETR').length;
      const second = await w.run({ retention: 'delete', maxMessageBytes: 2 * MiB });
      assert.deepEqual({ ok: second.ok, stored: second.stored, oversized: second.oversized }, { ok: true, stored: 0, oversized: 0 });
      assert.equal(w.server.verbs().filter((v) => v === 'RETR').length, retrs, 'never fetched again');
    });
  });

  it('a server that asks for a LOGIN-DELAY is not logged into again: the rest waits for the next run', async () => {
    const endless = endlessBody(liarHeaders);
    await withFakeServer({ ...lyingAbout2(endless.handler), capabilities: [...DEFAULT_CAPABILITIES, 'LOGIN-DELAY 60'] }, async (w) => {
      const s = await w.run({ retention: 'delete', maxMessageBytes: 2 * MiB });
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.deepEqual(
        { sessions: w.server.sessions.length, stored: s.stored, oversized: s.oversized, deleted: s.deleted, skipped: s.skipped },
        { sessions: 1, stored: 1, oversized: 1, deleted: 0, skipped: 1 },
      );
      assert.equal(w.server.messages.length, 3);
    });
  });

  it('a RETR announcing more octets than the limit: only its head is read', async () => {
    const endless = endlessBody(liarHeaders, `${50 * MiB} octets`);
    await withFakeServer(lyingAbout2(endless.handler), async (w) => {
      const s = await w.run({ maxMessageBytes: 2 * MiB });
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.ok(w.store.largestStagedWrite < 64 * 1024, `staged ${w.store.largestStagedWrite} bytes`);
      const entry = w.state.get('support')!.uidls['uid-2']!;
      assert.deepEqual({ oversized: entry.oversized, size: entry.size }, { oversized: true, size: 50 * MiB });
    });
  });

  it('a message of exactly the limit is archived whole', async () => {
    const exact = Buffer.concat([Buffer.from(`${liarHeaders}\r\n\r\n`), Buffer.alloc(5000, 0x61), Buffer.from('\r\n')]);
    const serveExact: Handler = (s) => {
      s.write(Buffer.concat([Buffer.from('+OK\r\n'), dotStuff(exact)]));
    };
    await withFakeServer(lyingAbout2(serveExact), async (w) => {
      const s = await w.run({ maxMessageBytes: exact.length });
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.deepEqual({ stored: s.stored, oversized: s.oversized }, { stored: 3, oversized: 0 });
    });
  });
});
