import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { startFakePop3Server } from '../helpers/fake-pop3-server.ts';
import type { FakePop3Server } from '../helpers/fake-pop3-server.ts';
import { connectFake, retrBytes, sleep } from './helpers.ts';

const messages = [
  Buffer.from('Subject: one\r\n\r\nbody one\r\n'),
  Buffer.from('Subject: two\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n'),
  Buffer.from([0x53, 0x3a, 0x20, 0x00, 0xff, 0x1b, 0x24, 0x42, 0x0d, 0x0a, 0x0d, 0x0a, 0x80, 0x00, 0x0d, 0x0a]),
];

describe('POP3 commands against the fake server', () => {
  let server: FakePop3Server;
  before(async () => {
    server = await startFakePop3Server({ messages });
  });
  after(() => server.close());

  it('logs in over STLS with SASL PLAIN by default and exposes TLS and capabilities', async () => {
    const client = await connectFake(server);
    assert.equal(client.authMechanism, 'plain');
    assert.equal(client.pipelining, true);
    assert.ok(client.tls?.protocol?.startsWith('TLSv1.'));
    assert.match(client.tls?.subject ?? '', /CN=localhost/);
    assert.ok(client.capabilities.has('UIDL'));
    assert.ok(!client.capabilities.has('STLS'), 'capabilities are the ones learned inside TLS');
    await client.quit();
    assert.equal(client.closed, true);
  });

  it('answers STAT, LIST, UIDL (all and one) and parses them into numbers and ids', async () => {
    const client = await connectFake(server);
    assert.deepEqual(await client.stat(), { count: 3, size: messages.reduce((n, m) => n + m.length, 0) });
    assert.deepEqual(
      await client.list(),
      messages.map((m, i) => ({ n: i + 1, size: m.length })),
    );
    assert.deepEqual(await client.list(2), { n: 2, size: messages[1]!.length });
    assert.deepEqual(await client.uidl(), [
      { n: 1, uid: 'uid-1' },
      { n: 2, uid: 'uid-2' },
      { n: 3, uid: 'uid-3' },
    ]);
    assert.deepEqual(await client.uidl(3), { n: 3, uid: 'uid-3' });
    await client.quit();
  });

  it('streams RETR byte-exact: dot-unstuffed, CRLF, NUL and 8-bit kept, with the announced size', async () => {
    const client = await connectFake(server);
    for (let n = 1; n <= messages.length; n++) {
      const { announcedSize, stream } = await client.retr(n);
      assert.equal(announcedSize, messages[n - 1]!.length);
      assert.ok((await buffer(stream)).equals(messages[n - 1]!), `message ${n}`);
    }
    await client.quit();
  });

  it('TOP returns the header and the first lines', async () => {
    const client = await connectFake(server);
    assert.equal((await buffer((await client.top(2, 1)).stream)).toString(), 'Subject: two\r\n\r\n.leading dot\r\n');
    await client.quit();
  });

  it('rejects -ERR to an ordinary command with ECOMMAND and keeps the session usable', async () => {
    const client = await connectFake(server);
    await assert.rejects(client.retr(99), { code: 'ECOMMAND', command: 'RETR', response: 'no such message', retryable: false });
    await assert.rejects(client.list(99), { code: 'ECOMMAND' });
    assert.deepEqual(await client.stat(), { count: 3, size: messages.reduce((n, m) => n + m.length, 0) });
    await client.quit();
  });

  it('rejects bad arguments (ECONFIG) without sending anything', async () => {
    const client = await connectFake(server);
    const before = server.commands.length;
    await assert.rejects(client.retr(0), { code: 'ECONFIG' });
    await assert.rejects(client.top(1, -1), { code: 'ECONFIG' });
    await assert.rejects(client.dele(1.5), { code: 'ECONFIG' });
    assert.equal(server.commands.length, before);
    client.close();
  });

  it('DELE then QUIT removes; RSET unmarks; DELE then a dropped connection keeps', async () => {
    const local = await startFakePop3Server({ messages: ['a\r\n', 'b\r\n', 'c\r\n'] });
    try {
      let client = await connectFake(local);
      await client.dele(1);
      client.close();
      assert.equal(local.messages.length, 3, 'no QUIT, nothing deleted');
      client = await connectFake(local);
      await client.dele(1);
      await client.rset();
      await client.dele(2);
      await client.noop();
      await client.quit();
      assert.deepEqual(
        local.messages.map((m) => m.uid),
        ['uid-1', 'uid-3'],
      );
    } finally {
      await local.close();
    }
  });

  it('after QUIT or close every command rejects with ECLOSED', async () => {
    const client = await connectFake(server);
    await client.quit();
    await assert.rejects(client.noop(), { code: 'ECLOSED' });
    await assert.rejects(client.quit(), { code: 'ECLOSED' });
  });
});

describe('pipelining (RFC 2449 section 6.6)', () => {
  const many = Array.from({ length: 300 }, (_, i) => Buffer.from(`Subject: ${i}\r\n\r\n${'.x\r\n'.repeat(i % 7)}end ${i}\r\n`));
  let server: FakePop3Server;
  before(async () => {
    server = await startFakePop3Server({ messages: many });
  });
  after(() => server.close());

  /** Fires every RETR at once and records the most commands the server got in one read. */
  async function fireAll(pipelining: boolean, window?: number): Promise<{ bodies: Buffer[]; maxBatch: number }> {
    const client = await connectFake(server, { pipelining, ...(window ? { window } : {}) });
    assert.equal(client.pipelining, pipelining);
    let maxBatch = 0;
    const session = server.sessions[server.sessions.length - 1]!;
    session.socket.on('data', (chunk: Buffer) => {
      maxBatch = Math.max(maxBatch, chunk.toString().split('\r\n').length - 1);
    });
    // None awaited: the client must keep order and a bounded window.
    const pending = many.map((_, i) => client.retr(i + 1));
    const bodies: Buffer[] = [];
    for (const p of pending) bodies.push(await buffer((await p).stream));
    await client.quit();
    return { bodies, maxBatch };
  }

  it('with PIPELINING: all RETRs fired at once come back in order, commands written in batches within the window', async () => {
    const { bodies, maxBatch } = await fireAll(true, 16);
    assert.deepEqual(bodies, many);
    assert.ok(maxBatch > 1, `commands were batched (largest batch ${maxBatch})`);
    assert.ok(maxBatch <= 16, `never more than the window in flight (largest batch ${maxBatch})`);
  });

  it('without it: strict lock-step, one command per round trip, same results', async () => {
    const { bodies, maxBatch } = await fireAll(false);
    assert.deepEqual(bodies, many);
    assert.equal(maxBatch, 1);
  });

  it('lock-step when the server does not advertise PIPELINING', async () => {
    const local = await startFakePop3Server({ messages: many.slice(0, 5), capabilities: ['UIDL', 'TOP', 'USER', 'SASL PLAIN'] });
    try {
      const client = await connectFake(local);
      assert.equal(client.pipelining, false);
      const all = await Promise.all([1, 2, 3, 4, 5].map((n) => retrBytes(client, n)));
      assert.deepEqual(all, many.slice(0, 5));
      await client.quit();
    } finally {
      await local.close();
    }
  });

  it('unread bodies hold their window slot: a fast server cannot fill memory with messages nobody reads yet', async () => {
    const client = await connectFake(server, { window: 8 });
    const pending = many.map((_, i) => client.retr(i + 1));
    await sleep(300);
    const sent = server.commands.filter((c) => c.session === server.sessions.length && c.verb === 'RETR').length;
    assert.equal(sent, 8, 'only the window was sent while nothing was read');
    for (const [i, p] of pending.entries()) assert.ok((await buffer((await p).stream)).equals(many[i]!));
    await client.quit();
  });

  it('QUIT is not held back by a body the caller left unread, in lock-step or pipelined', async () => {
    for (const pipelining of [false, true]) {
      const client = await connectFake(server, { pipelining, window: 1 });
      await client.retr(1);
      await client.noop();
      await client.quit();
    }
  });

  it('a RETR stream destroyed early is discarded and the session stays in step', async () => {
    const big = Buffer.alloc(4 << 20, 0x61);
    for (let i = 1000; i < big.length; i += 1000) big[i] = 0x0a;
    const local = await startFakePop3Server({ messages: [big, 'second\r\n', big] });
    try {
      const client = await connectFake(local);
      const first = client.retr(1);
      const second = client.retr(2);
      const third = client.retr(3);
      const uidl = client.uidl(2);
      const s1 = (await first).stream;
      await new Promise<void>((resolve) => s1.once('data', () => resolve()));
      s1.destroy();
      assert.equal((await buffer((await second).stream)).toString(), 'second\r\n');
      (await third).stream.destroy(); // before reading a byte
      assert.deepEqual(await uidl, { n: 2, uid: 'uid-2' });
      assert.deepEqual(await client.stat(), { count: 3, size: big.length * 2 + 8 });
      await client.quit();
    } finally {
      await local.close();
    }
  });
});
