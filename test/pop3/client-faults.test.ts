import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { buffer } from 'node:stream/consumers';
import { finished } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { connectPop3, type Pop3Error } from '../../lib/pop3/index.ts';
import { startFakePop3Server, dotStuff } from '../helpers/fake-pop3-server.ts';
import type { FakePop3Server, FakeServerOptions } from '../helpers/fake-pop3-server.ts';
import { connectFake, sleep } from './helpers.ts';

async function withServer<T>(options: FakeServerOptions, run: (server: FakePop3Server) => Promise<T>): Promise<T> {
  const server = await startFakePop3Server(options);
  try {
    return await run(server);
  } finally {
    await server.close();
  }
}

/** Resolves once the server side of the last session has seen its socket close. */
function serverSideClosed(server: FakePop3Server): Promise<void> {
  const socket = server.sessions[server.sessions.length - 1]!.socket;
  return socket.destroyed ? Promise.resolve() : new Promise((r) => socket.once('close', () => r()));
}

const body = Buffer.from(`Subject: x\r\n\r\n${'line of text\r\n'.repeat(2000)}`);

describe('a connection dropped mid-way', () => {
  it('mid-RETR: the stream errors with ECLOSED (never a silently short message) and later commands reject', async () => {
    await withServer(
      {
        messages: [body],
        handlers: {
          RETR: (s) => {
            s.write(`+OK ${body.length} octets\r\n`);
            s.write(body.subarray(0, 5000));
            setTimeout(() => s.destroy(), 20);
          },
        },
      },
      async (server) => {
        const client = await connectFake(server);
        const retr = client.retr(1);
        const noop = client.noop();
        const { stream } = await retr;
        await assert.rejects(buffer(stream), { code: 'ECLOSED', command: 'RETR' });
        await assert.rejects(noop, { code: 'ECLOSED' });
        assert.equal(client.closed, true);
      },
    );
  });

  it('mid-RETR with nobody listening to the stream: no uncaught exception', async () => {
    await withServer(
      {
        messages: [body],
        handlers: {
          RETR: (s) => {
            s.write('+OK\r\npartial');
            setTimeout(() => s.destroy(), 20);
          },
        },
      },
      async (server) => {
        const client = await connectFake(server);
        const { stream } = await client.retr(1);
        await sleep(100);
        assert.ok(stream.destroyed);
        assert.equal((stream.errored as Pop3Error | null)?.code, 'ECLOSED');
      },
    );
  });

  it('before the status line: the pending command rejects with ECLOSED', async () => {
    await withServer({ handlers: { STAT: (s) => s.destroy() } }, async (server) => {
      const client = await connectFake(server);
      await assert.rejects(client.stat(), { code: 'ECLOSED', command: 'STAT', retryable: true });
    });
  });

  it('QUIT without +OK (dropped, or -ERR) rejects: nothing was deleted', async () => {
    await withServer({ messages: ['a\r\n'], handlers: { QUIT: (s) => s.destroy() } }, async (server) => {
      const client = await connectFake(server);
      await client.dele(1);
      await assert.rejects(client.quit(), { code: 'ECLOSED', command: 'QUIT' });
      assert.equal(server.messages.length, 1);
    });
    await withServer(
      { messages: ['a\r\n'], handlers: { QUIT: (s) => s.err('[SYS/TEMP] could not update the maildrop') } },
      async (server) => {
        const client = await connectFake(server);
        await client.dele(1);
        await assert.rejects(client.quit(), { code: 'ESYSTEMP', command: 'QUIT' });
        assert.equal(client.closed, true);
        await serverSideClosed(server);
      },
    );
  });

  it('connection refused: ECONNECTION, retryable', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await assert.rejects(connectPop3({ host: '127.0.0.1', port, user: 'a', password: 'b' }), { code: 'ECONNECTION', retryable: true });
  });
});

describe('timeouts (small values)', () => {
  it('greeting never comes: ETIMEDOUT', async () => {
    await withServer({ greeting: () => {} }, async (server) => {
      const started = Date.now();
      await assert.rejects(connectFake(server, { timeouts: { greetingMs: 400 } }), { code: 'ETIMEDOUT', retryable: true });
      assert.ok(Date.now() - started < 2000);
      await serverSideClosed(server);
    });
  });

  it('TLS handshake never completes: ETIMEDOUT', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      await assert.rejects(connectPop3({ host: '127.0.0.1', port, user: 'a', password: 'b', timeouts: { tlsMs: 150 } }), {
        code: 'ETIMEDOUT',
      });
    } finally {
      silent.close();
    }
  });

  it('a response that never comes: ETIMEDOUT on that command, the session closed', async () => {
    await withServer({ handlers: { NOOP: () => {} } }, async (server) => {
      // Lock-step, so STAT stays queued (a pipelined STAT's reply would be taken for NOOP's: the server skipped one).
      const client = await connectFake(server, { pipelining: false, timeouts: { responseMs: 400 } });
      const stalled = client.noop();
      const queued = client.stat();
      await assert.rejects(stalled, { code: 'ETIMEDOUT', command: 'NOOP' });
      await assert.rejects(queued, { code: 'ECLOSED' });
      assert.equal(client.closed, true);
      await serverSideClosed(server);
    });
  });

  it('a body that stalls half-way: the stream errors with ETIMEDOUT', async () => {
    await withServer(
      {
        messages: [body],
        handlers: {
          RETR: (s) => {
            s.write('+OK\r\n');
            s.write(body.subarray(0, 3000));
          },
        },
      },
      async (server) => {
        const client = await connectFake(server, { timeouts: { idleMs: 400 } });
        await assert.rejects(buffer((await client.retr(1)).stream), { code: 'ETIMEDOUT', command: 'RETR' });
      },
    );
  });

  it('a slow but steady body is not a timeout: the idle timer restarts on every byte', async () => {
    const wire = dotStuff(body);
    await withServer(
      {
        messages: [body],
        handlers: {
          RETR: async (s) => {
            s.write('+OK\r\n');
            for (let i = 0; i < 8; i++) {
              s.write(wire.subarray((i * wire.length) >> 3, ((i + 1) * wire.length) >> 3));
              await sleep(150);
            }
          },
        },
      },
      async (server) => {
        const client = await connectFake(server, { timeouts: { idleMs: 600, responseMs: 600 } });
        assert.ok((await buffer((await client.retr(1)).stream)).equals(body));
        await client.quit();
      },
    );
  });

  it('a consumer that stops reading is back-pressure, not a timeout', async () => {
    await withServer({ messages: [Buffer.alloc(8 << 20, 0x61)] }, async (server) => {
      const client = await connectFake(server, { timeouts: { idleMs: 300, responseMs: 5000 } });
      const { stream } = await client.retr(1);
      await sleep(1000);
      assert.equal((await buffer(stream)).length, (8 << 20) + 2);
      await client.quit();
    });
  });
});

describe('hostile servers', () => {
  it('an endless status line: EPROTOCOL after maxLineLength bytes, socket closed', async () => {
    await withServer(
      {
        handlers: {
          STAT: (s) => {
            s.write(`+OK ${'9'.repeat(4000)}`);
          },
        },
      },
      async (server) => {
        const client = await connectFake(server, { maxLineLength: 1024 });
        await assert.rejects(client.stat(), { code: 'EPROTOCOL', retryable: false });
        await serverSideClosed(server);
      },
    );
  });

  it('an overlong listing line: EPROTOCOL', async () => {
    await withServer({ handlers: { UIDL: (s) => s.multi([`1 ${'x'.repeat(5000)}`]) } }, async (server) => {
      const client = await connectFake(server, { maxLineLength: 1024 });
      await assert.rejects(client.uidl(), { code: 'EPROTOCOL' });
    });
  });

  it('garbage instead of a status line: EPROTOCOL, and the queued commands ECLOSED', async () => {
    await withServer(
      {
        handlers: {
          NOOP: (s) => {
            s.write('HTTP/1.1 200 OK\r\n');
          },
        },
      },
      async (server) => {
        const client = await connectFake(server);
        const garbage = client.noop();
        const next = client.stat();
        await assert.rejects(garbage, { code: 'EPROTOCOL', command: 'NOOP' });
        await assert.rejects(next, { code: 'ECLOSED' });
      },
    );
  });

  const malformed: Array<
    [
      string,
      (s: import('../helpers/fake-pop3-server.ts').FakeSession) => void,
      (c: import('../../lib/pop3/index.ts').Pop3Client) => Promise<unknown>,
    ]
  > = [
    ['STAT beyond Number.MAX_SAFE_INTEGER', (s) => s.ok('99999999999999999999 10'), (c) => c.stat()],
    ['STAT with a negative count', (s) => s.ok('-1 10'), (c) => c.stat()],
    ['STAT without a size', (s) => s.ok('3'), (c) => c.stat()],
    ['LIST with an absurd size', (s) => s.multi(['1 123456789012345678901234567890']), (c) => c.list()],
    ['LIST with a non-numeric line', (s) => s.multi(['1 100', 'two hundred']), (c) => c.list()],
    ['UIDL without an id', (s) => s.multi(['1']), (c) => c.uidl()],
    ['UIDL with a control character in the id', (s) => s.multi(['1 ab\u0001cd']), (c) => c.uidl()],
  ];
  for (const [name, reply, call] of malformed) {
    it(`${name}: EPROTOCOL, the session closed`, async () => {
      const verb = name.split(' ')[0]!;
      await withServer({ handlers: { [verb]: reply } }, async (server) => {
        const client = await connectFake(server);
        await assert.rejects(call(client), { code: 'EPROTOCOL', command: verb });
        assert.equal(client.closed, true);
      });
    });
  }

  it('a listing that never ends past maxLineLength without LF: EPROTOCOL, not unbounded memory', async () => {
    await withServer(
      {
        handlers: {
          LIST: (s) => {
            s.write('+OK\r\n1 10\r\n');
            s.write('2'.repeat(20000));
          },
        },
      },
      async (server) => {
        const client = await connectFake(server, { maxLineLength: 1024 });
        await assert.rejects(client.list(), { code: 'EPROTOCOL' });
      },
    );
  });

  it('an unsolicited line before any command is sent: EPROTOCOL', async () => {
    await withServer({ greeting: (s) => s.write('+OK hello\r\n+OK surprise\r\n') }, async (server) => {
      await assert.rejects(connectFake(server), { code: 'EPROTOCOL' });
      assert.deepEqual(server.commands, []);
    });
  });

  it('an unsolicited line while idle: EPROTOCOL, later commands ECLOSED', async () => {
    await withServer(
      {
        handlers: {
          NOOP: (s) => {
            s.ok();
            setTimeout(() => s.write('-ERR out of the blue\r\n'), 20);
          },
        },
      },
      async (server) => {
        const client = await connectFake(server);
        await client.noop();
        await sleep(100);
        assert.equal(client.closed, true);
        await assert.rejects(client.stat(), { code: 'ECLOSED' });
      },
    );
  });

  it('a multi-line response cut before its terminator by a close: ECLOSED (not a short list)', async () => {
    await withServer(
      {
        handlers: {
          UIDL: (s) => {
            s.write('+OK\r\n1 a\r\n2 b\r\n');
            setTimeout(() => s.destroy(), 20);
          },
        },
      },
      async (server) => {
        const client = await connectFake(server);
        await assert.rejects(client.uidl(), { code: 'ECLOSED', command: 'UIDL' });
      },
    );
  });
});

describe('maxMessageBytes', () => {
  it('announced over the cap: ETOOLARGE at once, the session closed', async () => {
    await withServer({ messages: [body] }, async (server) => {
      const client = await connectFake(server, { maxMessageBytes: 1000 });
      await assert.rejects(client.retr(1), { code: 'ETOOLARGE', command: 'RETR', retryable: false });
      assert.equal(client.closed, true);
    });
  });

  it('unannounced and over the cap: the stream fails with ETOOLARGE after at most the cap', async () => {
    await withServer({ messages: [body], handlers: { RETR: (s) => s.multi(body) } }, async (server) => {
      const client = await connectFake(server, { maxMessageBytes: 1000 });
      const { stream } = await client.retr(1);
      let received = 0;
      stream.on('data', (c: Buffer) => {
        received += c.length;
      });
      // finished() also reports an error raised before the caller got the stream (body in the +OK's segment).
      await assert.rejects(finished(stream), { code: 'ETOOLARGE' });
      assert.ok(received <= 1000, `received ${received}`);
      assert.equal(client.closed, true);
    });
  });

  it('a message of exactly the cap passes', async () => {
    const exact = Buffer.alloc(1000, 0x61);
    exact.write('\r\n', 998);
    await withServer({ messages: [exact] }, async (server) => {
      const client = await connectFake(server, { maxMessageBytes: 1000 });
      assert.ok((await buffer((await client.retr(1)).stream)).equals(exact));
      await client.quit();
    });
  });
});

describe('back-pressure and abort', () => {
  it('a slow consumer pauses the socket: the server cannot push the whole message ahead', async () => {
    const size = 96 << 20;
    let sent = 0;
    let last = 0;
    await withServer(
      {
        handlers: {
          RETR: async (s) => {
            s.write(`+OK ${size} octets\r\n`);
            const chunk = Buffer.alloc(1 << 20, 0x62);
            chunk.write('\r\n', chunk.length - 2);
            for (sent = 0; sent < size; sent += chunk.length) {
              if (!s.write(chunk)) await new Promise((r) => s.socket.once('drain', r));
            }
            s.write('.\r\n');
          },
        },
      },
      async (server) => {
        const client = await connectFake(server);
        const { stream } = await client.retr(1);
        await sleep(500);
        last = sent;
        assert.ok(last < 32 << 20, `server got ${last >> 20} MiB ahead of a consumer that read nothing`);
        const hash = createHash('sha256');
        let total = 0;
        for await (const c of stream) {
          hash.update(c as Buffer);
          total += (c as Buffer).length;
        }
        assert.equal(total, size);
        await client.quit();
      },
    );
  });

  it('abort: pending commands reject with ECLOSED and the socket closes', async () => {
    await withServer({ handlers: { NOOP: () => {} } }, async (server) => {
      const controller = new AbortController();
      const client = await connectFake(server, { signal: controller.signal });
      const pending = client.noop();
      setTimeout(() => controller.abort(new Error('shutdown')), 30);
      await assert.rejects(pending, { code: 'ECLOSED' });
      assert.equal(client.closed, true);
      await serverSideClosed(server);
    });
  });

  it('an already-aborted signal: connect rejects and nothing is sent', async () => {
    await withServer({}, async (server) => {
      await assert.rejects(connectFake(server, { signal: AbortSignal.abort() }), { code: 'ECLOSED' });
      assert.deepEqual(server.commands, []);
    });
  });
});
