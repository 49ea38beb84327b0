import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CAPABILITIES, defaultHandlers, startFakePop3Server } from '../helpers/fake-pop3-server.ts';
import type { FakeServerOptions, FakeSession, Handler } from '../helpers/fake-pop3-server.ts';
import { connectFake, retrBytes } from './helpers.ts';

// RFC 6856 (POP3 UTF8): a client that sees `UTF8` in CAPA sends UTF8 before logging in, inside TLS, and goes on
// in ASCII mode when the server answers -ERR.

const SUBJECT_UTF8 = Buffer.from('Subject: 見積書の送付について\r\n', 'utf8');
const SUBJECT_SJIS = Buffer.from([...Buffer.from('Subject: '), 0x8c, 0xa9, 0x90, 0xcf, 0x8f, 0x91, 0x0d, 0x0a]); // 見積書
const eightBit = (subject: Buffer) => Buffer.concat([Buffer.from('From: a@example.jp\r\n'), subject, Buffer.from('\r\nbody\r\n')]);
const ORIGINAL_UTF8 = eightBit(SUBJECT_UTF8);
const ORIGINAL_SJIS = eightBit(SUBJECT_SJIS);

function headerHas8Bit(body: Buffer): boolean {
  const end = body.indexOf('\r\n\r\n');
  return body.subarray(0, end === -1 ? body.length : end).some((b) => b >= 0x80);
}

/** What Courier 1.0.16 serves a client in ASCII mode in place of a message with raw 8-bit header bytes. */
function substitute(original: Buffer, session: number): Buffer {
  const boundary = `=_sub-${session}`;
  return Buffer.concat([
    Buffer.from(
      `From: Mail Delivery Subsystem <postmaster>\r\nSubject: Cannot display Unicode content\r\nMime-Version: 1.0\r\n` +
        `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\nContent-Type: message/global\r\n\r\n`,
    ),
    original,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

/** A fake server that behaves as Courier does: UTF8 accepted before login, substitutes served without it. */
function courierLike(overrides: Partial<Record<string, Handler>> = {}, options: FakeServerOptions = {}) {
  const utf8 = new WeakSet<FakeSession>();
  const base = defaultHandlers();
  return startFakePop3Server({
    messages: [ORIGINAL_UTF8, ORIGINAL_SJIS],
    capabilities: [...DEFAULT_CAPABILITIES, 'UTF8 USER'],
    ...options,
    handlers: {
      UTF8: (s) => {
        if (s.authed) {
          s.err('UTF8 is only valid before login');
          return;
        }
        utf8.add(s);
        s.ok('UTF8 enabled');
      },
      RETR: (s, args, line) => {
        const m = s.authed ? s.message(Number(args[0])) : undefined;
        if (!m || utf8.has(s) || !headerHas8Bit(m.body)) {
          base.RETR!(s, args, line);
          return;
        }
        const sub = substitute(m.body, s.id);
        s.multi(sub, `${sub.length} octets follow.`);
      },
      ...overrides,
    },
  });
}

async function withServer<T>(server: Awaited<ReturnType<typeof startFakePop3Server>>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await server.close();
  }
}

describe('RFC 6856 UTF8', () => {
  it('sends UTF8 when CAPA offers it, inside TLS and before login, and gets the original 8-bit headers', async () => {
    const server = await courierLike();
    await withServer(server, async () => {
      const client = await connectFake(server);
      assert.ok((await retrBytes(client, 1)).equals(ORIGINAL_UTF8), 'UTF-8 header bytes, not the substitute');
      assert.ok((await retrBytes(client, 2)).equals(ORIGINAL_SJIS), 'Shift_JIS header bytes, not the substitute');
      await client.quit();
      const seen = server.commands.filter((c) => c.session === 1).map((c) => `${c.tls ? 'tls' : 'clear'}:${c.verb}`);
      assert.deepEqual(seen.slice(0, 6), ['clear:CAPA', 'clear:STLS', 'tls:CAPA', 'tls:UTF8', 'tls:AUTH', 'tls:CAPA']);
    });
  });

  it('sends UTF8 before USER/PASS on implicit TLS', async () => {
    const server = await courierLike({}, { mode: 'implicit', capabilities: ['TOP', 'USER', 'UIDL', 'PIPELINING', 'UTF8 USER'] });
    await withServer(server, async () => {
      const client = await connectFake(server, { tls: 'implicit' });
      assert.equal(client.authMechanism, 'user');
      assert.ok((await retrBytes(client, 1)).equals(ORIGINAL_UTF8));
      await client.quit();
      assert.deepEqual(server.verbs().slice(0, 4), ['CAPA', 'UTF8', 'USER', 'PASS']);
    });
  });

  it('does not send UTF8 when CAPA does not offer it', async () => {
    const server = await courierLike({}, { capabilities: [...DEFAULT_CAPABILITIES] });
    await withServer(server, async () => {
      const client = await connectFake(server);
      await retrBytes(client, 1);
      await client.quit();
      assert.equal(server.verbs().includes('UTF8'), false);
    });
  });

  it('trusts only the CAPA read inside TLS: UTF8 offered in clear and not after STLS is not sent', async () => {
    const server = await courierLike({
      CAPA: (s) => s.multi(s.tls ? [...DEFAULT_CAPABILITIES] : [...DEFAULT_CAPABILITIES, 'STLS', 'UTF8']),
    });
    await withServer(server, async () => {
      const client = await connectFake(server);
      await client.quit();
      assert.equal(server.verbs().includes('UTF8'), false);
    });
  });

  for (const answer of ['-ERR not supported', '-ERR [SYS/TEMP] try later', '-ERR']) {
    it(`goes on in ASCII mode when UTF8 is answered "${answer}"`, async () => {
      const server = await courierLike({
        UTF8: (s) => {
          s.write(`${answer}\r\n`);
        },
      });
      await withServer(server, async () => {
        const client = await connectFake(server);
        assert.deepEqual(await client.stat(), { count: 2, size: ORIGINAL_UTF8.length + ORIGINAL_SJIS.length });
        const served = await retrBytes(client, 1);
        await client.quit();
        assert.deepEqual(server.verbs().slice(0, 5), ['CAPA', 'STLS', 'CAPA', 'UTF8', 'AUTH']);
        assert.match(served.toString('latin1'), /Cannot display Unicode content/, 'what an ASCII-mode client gets');
      });
    });
  }

  it('fails the login when the server drops the connection in answer to UTF8', async () => {
    const server = await courierLike({ UTF8: (s) => s.destroy() });
    await withServer(server, async () => {
      await assert.rejects(connectFake(server), { code: 'ECLOSED' });
      assert.equal(server.verbs().includes('AUTH'), false, 'no credentials sent on a session that broke');
    });
  });
});
