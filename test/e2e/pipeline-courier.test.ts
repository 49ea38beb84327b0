import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import Encoding from 'encoding-japanese';
import { courierServes, courierSkipReason, startCourier, type CourierServer } from '../helpers/courier.ts';
import { dovecotJob as courierJob, events, mail, runInto, sha256, storedShas, tempDir } from './e2e-helpers.ts';
import { connectPop3 } from '../../lib/pop3/index.ts';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { FsRawStore } from '../../lib/store/fs-store.ts';
import { FsStateStore } from '../../lib/store/fs-state.ts';
import { LocalPublisher } from '../../lib/publish/local-publisher.ts';
import { StoreError } from '../../lib/store/types.ts';

// The second real POP3 server: Courier 1.0.16 (USER/PASS, UIDLs "UID<n>-<validity>", LF Maildir files served as
// CRLF, RFC 6856 UTF8). Started per file in private namespaces by test/helpers/courier.ts.

const skip = courierSkipReason();

/** A Japanese message whose headers hold raw 8-bit bytes (RFC 6532 style), LF endings as in a Maildir file. */
function eightBitMail(i: number, charset: 'utf-8' | 'shift_jis'): Buffer {
  const text = (s: string) => (charset === 'utf-8' ? Buffer.from(s, 'utf8') : sjis(s));
  return Buffer.concat([
    Buffer.from(`Message-ID: <jp-${i}@example.jp>\nFrom: `),
    text('山田太郎'),
    Buffer.from(` <yamada${i}@example.jp>\nTo: support@example.jp\nSubject: `),
    text(`見積書の送付について ${i}`),
    Buffer.from(`\nDate: Thu, 26 Nov 2026 10:00:00 +0900\nMIME-Version: 1.0\nContent-Type: text/plain; charset=${charset}\n\n`),
    text('お世話になっております。見積書をお送りします。'),
    Buffer.from('\n'),
  ]);
}

/** Shift_JIS bytes, checked by decoding them back. */
function sjis(s: string): Buffer {
  const out = Buffer.from(Encoding.convert(Encoding.stringToCode(s), { to: 'SJIS', from: 'UNICODE' }));
  assert.equal(new TextDecoder('shift_jis').decode(out), s);
  return out;
}

/** One raw POP3S session without UTF8 (what a client that ignores RFC 6856 gets): the bytes RETR 1 returns. */
function retrWithoutUtf8(server: CourierServer, user: string): Promise<Buffer> {
  const password = server.users.find((u) => u.user === user)!.password;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: server.host, port: server.tlsPort, ca: server.caPem, servername: 'localhost' });
    const script = [`USER ${user}`, `PASS ${password}`, 'RETR 1'];
    let data = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('latin1');
      if (text.startsWith('-ERR') || text.includes('\r\n-ERR')) {
        socket.destroy();
        reject(new Error(text));
        return;
      }
      if (script.length > 0 && text.endsWith('\r\n')) {
        socket.write(`${script.shift()}\r\n`);
        data = Buffer.alloc(0);
        return;
      }
      if (script.length === 0 && text.endsWith('\r\n.\r\n')) {
        socket.end('QUIT\r\n');
        const body = data.subarray(data.indexOf('\r\n') + 2, data.length - 3);
        resolve(body);
      }
    });
    socket.once('error', reject);
  });
}

async function rawFiles(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.eml')) out.push(await readFile(p));
    }
  };
  await walk(path.join(dir, 'raw'));
  return out;
}

describe('pipeline against a real Courier', { skip: skip ?? false }, () => {
  let courier: CourierServer;
  before(async () => {
    courier = await startCourier();
  });
  after(async () => {
    await courier?.stop();
  });

  it('ingests byte for byte what Courier serves (CRLF), then only new mail, and nothing twice', async () => {
    const t = await tempDir('e2e-courier-keep-');
    try {
      const first = [mail(1), mail(2, { extra: 'X-Dots: yes\n\n.leading dot line\n..two dots\n.' }), mail(3, { size: 200_000 })];
      await courier.seed('alice', first);
      const job = courierJob(courier);
      const s1 = await runInto(t.dir, job);
      assert.equal(s1.ok, true, JSON.stringify(s1.error));
      assert.deepEqual({ new: s1.new, stored: s1.stored, published: s1.published }, { new: 3, stored: 3, published: 3 });
      const served = first.map(courierServes);
      for (const b of served) assert.equal(b.toString('latin1').replace(/\r\n/g, '').includes('\n'), false, 'Courier serves CRLF only');
      assert.deepEqual(await storedShas(t.dir), served.map(sha256).sort());

      const s2 = await runInto(t.dir, job);
      assert.equal(s2.ok, true, JSON.stringify(s2.error));
      assert.deepEqual({ new: s2.new, stored: s2.stored, published: s2.published }, { new: 0, stored: 0, published: 0 });

      await courier.seed('alice', [mail(4)]);
      const s3 = await runInto(t.dir, job);
      assert.deepEqual({ new: s3.new, stored: s3.stored }, { new: 1, stored: 1 });
      const ev = await events(t.dir);
      assert.equal(ev.length, 4);
      assert.equal(new Set(ev.map((e) => e.id)).size, 4);
      for (const e of ev) assert.match(e.uidl, /^UID\d+-\d+$/, 'Courier UIDLs');
      assert.equal((await courier.maildirMessages('alice')).length, 4, 'keep leaves the mailbox as it was');
    } finally {
      await t.remove();
    }
  });

  it('retention delete empties the mailbox only after every message is stored', async () => {
    const t = await tempDir('e2e-courier-delete-');
    try {
      const msgs = Array.from({ length: 20 }, (_, i) => mail(100 + i));
      await courier.seed('bob', msgs);
      const s = await runInto(t.dir, courierJob(courier, 'bob', { retention: 'delete' }));
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.deepEqual({ stored: s.stored, deleted: s.deleted, quitOk: s.quitOk }, { stored: 20, deleted: 20, quitOk: true });
      assert.equal((await courier.maildirMessages('bob')).length, 0);
      assert.deepEqual(await storedShas(t.dir), msgs.map((m) => sha256(courierServes(m))).sort());
    } finally {
      await t.remove();
    }
  });

  it('retention delete deletes nothing while a retrieved message could not be stored', async () => {
    const t = await tempDir('e2e-courier-unsafe-');
    const local = await startCourier({ users: [{ user: 'erin', password: 'pw-erin' }] });
    try {
      const msgs = [1, 2, 3].map((i) => mail(500 + i));
      await local.seed('erin', msgs);
      let calls = 0;
      const flaky = new (class extends FsRawStore {
        override async stage(mailbox: string) {
          if (calls++ === 1) throw new StoreError('EIO', 'injected: disk unavailable');
          return super.stage(mailbox);
        }
      })({ dir: t.dir });
      const s = await runMailbox({
        job: courierJob(local, 'erin', { retention: 'delete' }),
        store: flaky,
        state: new FsStateStore({ dir: t.dir }),
        publisher: new LocalPublisher({ dir: t.dir }),
      });
      assert.deepEqual({ stored: s.stored, failed: s.failed, deleted: s.deleted }, { stored: 2, failed: 1, deleted: 0 }, JSON.stringify(s));
      assert.equal((await local.maildirMessages('erin')).length, 3, 'nothing deleted while a retrieved message is unsafe');
      const again = await runInto(t.dir, courierJob(local, 'erin', { retention: 'delete' }));
      assert.deepEqual({ ok: again.ok, stored: again.stored, deleted: again.deleted }, { ok: true, stored: 1, deleted: 3 });
      assert.equal((await local.maildirMessages('erin')).length, 0);
      assert.deepEqual(await storedShas(t.dir), msgs.map((m) => sha256(courierServes(m))).sort());
    } finally {
      await local.stop();
      await t.remove();
    }
  });

  it('archives messages with raw 8-bit headers (UTF-8 and Shift_JIS) as stored, identical across sessions', async () => {
    const local = await startCourier({ users: [{ user: 'hanako', password: 'pw-hanako' }] });
    const t1 = await tempDir('e2e-courier-8bit-a-');
    const t2 = await tempDir('e2e-courier-8bit-b-');
    try {
      const msgs = [eightBitMail(1, 'utf-8'), eightBitMail(2, 'shift_jis'), mail(3)];
      await local.seed('hanako', msgs);
      const want = msgs.map((m) => sha256(courierServes(m))).sort();
      for (const t of [t1, t2]) {
        // two sessions, two fresh archives: each fetches everything again
        const s = await runInto(t.dir, courierJob(local, 'hanako'));
        assert.equal(s.ok, true, JSON.stringify(s.error));
        assert.equal(s.stored, 3);
        assert.deepEqual(await storedShas(t.dir), want, 'the originals, byte for byte');
        for (const raw of await rawFiles(t.dir)) assert.equal(raw.includes('Cannot display Unicode content'), false);
      }
      assert.deepEqual((await events(t1.dir)).map((e) => e.id).sort(), (await events(t2.dir)).map((e) => e.id).sort(), 'same ids');
    } finally {
      await local.stop();
      await t1.remove();
      await t2.remove();
    }
  });

  it('fact: without UTF8, Courier serves a substitute that changes every session (why the client sends UTF8)', async () => {
    const local = await startCourier({ users: [{ user: 'taro', password: 'pw-taro' }] });
    try {
      const original = eightBitMail(7, 'utf-8');
      await local.seed('taro', [original]);
      const a = await retrWithoutUtf8(local, 'taro');
      const b = await retrWithoutUtf8(local, 'taro');
      assert.match(a.toString('latin1'), /^Subject: Cannot display Unicode content\r$/m);
      assert.ok(a.includes(courierServes(original)), 'the original rides along as an attachment');
      assert.notEqual(sha256(a), sha256(b), 'a new MIME boundary each session');
    } finally {
      await local.stop();
    }
  });

  it('fact: Courier does not lock the maildrop: two sessions at once both get +OK', async () => {
    await courier.seed('alice', [mail(900)]);
    const job = courierJob(courier);
    const [one, two] = await Promise.all([connectPop3(job.connect), connectPop3(job.connect)]);
    try {
      const [a, b] = await Promise.all([one.stat(), two.stat()]);
      assert.equal(a.count, b.count, 'both sessions see the whole maildrop');
      assert.ok(a.count > 0);
    } finally {
      await one.quit();
      await two.quit();
    }
  });

  it('STLS on the plain port works the same', async () => {
    const t = await tempDir('e2e-courier-stls-');
    const local = await startCourier({ users: [{ user: 'dave', password: 'pw-dave' }] });
    try {
      await local.seed('dave', [mail(7), eightBitMail(8, 'shift_jis')]);
      const job = courierJob(local, 'dave');
      const s = await runInto(t.dir, { ...job, connect: { ...job.connect, port: local.plainPort, tls: 'starttls' } });
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.equal(s.stored, 2);
      assert.deepEqual(await storedShas(t.dir), [mail(7), eightBitMail(8, 'shift_jis')].map((m) => sha256(courierServes(m))).sort());
    } finally {
      await local.stop();
      await t.remove();
    }
  });

  it('a wrong password is an auth failure that touches nothing', async () => {
    const t = await tempDir('e2e-courier-auth-');
    try {
      const job = courierJob(courier);
      const s = await runInto(t.dir, { ...job, connect: { ...job.connect, password: 'wrong' } });
      assert.equal(s.ok, false);
      assert.equal(s.error?.class, 'auth');
      assert.deepEqual(await storedShas(t.dir), []);
    } finally {
      await t.remove();
    }
  });
});
