import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { connectPop3 } from '../../lib/pop3/index.ts';
import type { Pop3Client, Pop3ConnectOptions } from '../../lib/pop3/index.ts';
import { dovecotSkipReason, startDovecot, toCrlf } from '../helpers/dovecot.ts';
import type { DovecotServer } from '../helpers/dovecot.ts';

const skip = dovecotSkipReason();
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Content that breaks naive clients: dot-leading lines, a lone dot, NUL, bare CR, 8-bit and ISO-2022-JP escapes. */
const tricky: Buffer[] = [
  Buffer.from('Subject: plain\n\nhello\n'),
  Buffer.from('Subject: dots\n\n.leading\n..two\n.\n...\nend\n'),
  Buffer.from('Subject: nul\n\na\0b\0\0c\n'),
  Buffer.from('Subject: bare cr\n\na\rb\r\rc\n'),
  Buffer.from('Subject: 8bit\n\n\xff\xfe\x80\x81 \x1b$B$3$s$K$A$O\x1b(B\n', 'latin1'),
  Buffer.from('Subject: no final newline\n\nlast line'),
  Buffer.from('Subject: crlf already\r\n\r\nwindows\r\n'),
  Buffer.concat([
    Buffer.from('Subject: big\n\n'),
    Buffer.from(Array.from({ length: 60_000 }, (_, i) => `${i % 50 === 0 ? '.' : ''}line ${i}\n`).join('')),
  ]),
];

describe('POP3 client against Dovecot', { skip: skip ?? false }, () => {
  let dovecot: DovecotServer;
  const users = [
    { user: 'alice', password: 'secret-alice' },
    { user: 'bob', password: 'secret-bob' },
    { user: 'carol', password: 'secret-carol' },
    { user: 'dave', password: 'secret-dave' },
  ];
  const options = (user: string, extra: Partial<Pop3ConnectOptions> = {}): Pop3ConnectOptions => ({
    host: dovecot.host,
    port: dovecot.tlsPort,
    ca: dovecot.caPem,
    user,
    password: `secret-${user}`,
    ...extra,
  });

  before(async () => {
    dovecot = await startDovecot({ users });
    await dovecot.seed('alice', tricky);
    await dovecot.seed(
      'dave',
      Array.from({ length: 300 }, (_, i) => `Subject: m${i}\n\n${'x'.repeat(i * 7)}\n.${i}\n`),
    );
  });
  after(() => dovecot?.stop());

  it('logs in with implicit TLS and with STLS on the plain port', async () => {
    const implicit = await connectPop3(options('alice'));
    assert.ok(implicit.tls?.protocol);
    assert.equal(implicit.pipelining, true);
    await implicit.quit();
    const stls = await connectPop3(options('alice', { port: dovecot.plainPort, tls: 'starttls' }));
    assert.ok(stls.tls?.protocol);
    assert.equal(stls.capabilities.has('STLS'), false);
    await stls.quit();
  });

  it('STAT, LIST and UIDL agree with each other and with what was seeded', async () => {
    const client = await connectPop3(options('alice'));
    const stat = await client.stat();
    const list = await client.list();
    const uidl = await client.uidl();
    assert.equal(stat.count, tricky.length);
    assert.equal(list.length, tricky.length);
    assert.equal(
      stat.size,
      list.reduce((n, e) => n + e.size, 0),
    );
    assert.deepEqual(await client.list(2), list[1]);
    assert.deepEqual(await client.uidl(3), uidl[2]);
    assert.equal(new Set(uidl.map((u) => u.uid)).size, tricky.length);
    await client.noop();
    await client.quit();
  });

  for (const pipelining of [true, false]) {
    it(`RETR is byte-exact (sha256 of toCrlf(seeded)) for every tricky message, pipelining ${pipelining ? 'on' : 'off'}`, async () => {
      const client = await connectPop3(options('alice', { pipelining }));
      assert.equal(client.pipelining, pipelining);
      const pending = tricky.map((_, i) => client.retr(i + 1));
      for (const [i, p] of pending.entries()) {
        const got = await buffer((await p).stream);
        assert.equal(sha256(got), sha256(toCrlf(tricky[i]!)), `message ${i + 1}`);
      }
      await client.quit();
    });
  }

  it('Dovecot keeps NUL and bare CR as they are, turns LF into CRLF and ends an unterminated last line with CRLF', async () => {
    const client = await connectPop3(options('alice'));
    assert.equal((await buffer((await client.retr(3)).stream)).toString('latin1'), 'Subject: nul\r\n\r\na\0b\0\0c\r\n');
    assert.equal((await buffer((await client.retr(4)).stream)).toString('latin1'), 'Subject: bare cr\r\n\r\na\rb\r\rc\r\n');
    const last = await client.retr(6);
    assert.equal((await buffer(last.stream)).toString('latin1'), 'Subject: no final newline\r\n\r\nlast line\r\n');
    assert.equal(last.announcedSize, toCrlf(tricky[5]!).length - 2, 'the announced size leaves out the CRLF Dovecot adds');
    await client.quit();
  });

  it('TOP gives the header and the first lines', async () => {
    const client = await connectPop3(options('alice'));
    assert.equal((await buffer((await client.top(2, 0)).stream)).toString(), 'Subject: dots\r\n\r\n');
    assert.equal((await buffer((await client.top(2, 2)).stream)).toString(), 'Subject: dots\r\n\r\n.leading\r\n..two\r\n');
    await client.quit();
  });

  it('300 RETRs fired at once, pipelined and in lock-step, give the same bytes', async () => {
    const run = async (pipelining: boolean): Promise<string[]> => {
      const client: Pop3Client = await connectPop3(options('dave', { pipelining, window: 32 }));
      const { count } = await client.stat();
      const all = Array.from({ length: count }, (_, i) => client.retr(i + 1));
      const hashes: string[] = [];
      for (const p of all) hashes.push(sha256(await buffer((await p).stream)));
      await client.quit();
      return hashes;
    };
    const on = await run(true);
    assert.equal(on.length, 300);
    assert.deepEqual(await run(false), on);
  });

  it('UIDL is stable across sessions', async () => {
    const first = await connectPop3(options('alice'));
    const a = await first.uidl();
    await first.quit();
    const second = await connectPop3(options('alice', { port: dovecot.plainPort, tls: 'starttls' }));
    assert.deepEqual(await second.uidl(), a);
    await second.quit();
  });

  it('DELE + QUIT removes the messages; DELE + a dropped connection keeps them; RSET unmarks', async () => {
    await dovecot.seed('bob', ['Subject: 1\n\none\n', 'Subject: 2\n\ntwo\n', 'Subject: 3\n\nthree\n']);
    let client = await connectPop3(options('bob'));
    await client.dele(1);
    await client.dele(2);
    client.close();
    assert.equal((await dovecot.maildirMessages('bob')).length, 3);

    client = await connectPop3(options('bob'));
    await client.dele(1);
    await client.rset();
    await client.dele(2);
    await assert.rejects(client.retr(2), { code: 'ECOMMAND' });
    await client.quit();
    const left = await dovecot.maildirMessages('bob');
    assert.deepEqual(
      left.map((b) => b.toString()),
      ['Subject: 1\n\none\n', 'Subject: 3\n\nthree\n'],
    );

    client = await connectPop3(options('bob'));
    assert.deepEqual((await client.stat()).count, 2);
    await client.quit();
  });

  it('USER/PASS works too (Dovecot accepts it on loopback)', async () => {
    await dovecot.seed('carol', ['Subject: c\n\nc\n']);
    const client = await connectPop3(options('carol', { auth: 'user' }));
    assert.equal(client.authMechanism, 'user');
    assert.equal((await client.stat()).count, 1);
    await client.quit();
  });

  // Last: Dovecot slows down logins from an address after a failure.
  it('a wrong password is EAUTH', async () => {
    await assert.rejects(connectPop3(options('alice', { password: 'nope' })), { code: 'EAUTH' });
  });
});
