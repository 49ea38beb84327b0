import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectPop3, Pop3Error } from '../../lib/pop3/index.ts';
import { makeTestCerts } from '../helpers/certs.ts';
import { startFakePop3Server, DEFAULT_CAPABILITIES } from '../helpers/fake-pop3-server.ts';
import type { FakePop3Server, FakeServerOptions } from '../helpers/fake-pop3-server.ts';
import { connectFake, CREDENTIAL_VERBS, sleep } from './helpers.ts';

const certs = makeTestCerts();

async function withServer<T>(options: FakeServerOptions, run: (server: FakePop3Server) => Promise<T>): Promise<T> {
  const server = await startFakePop3Server(options);
  try {
    return await run(server);
  } finally {
    await server.close();
  }
}

const credentialsSent = (server: FakePop3Server) => server.commands.filter((c) => CREDENTIAL_VERBS.has(c.verb));

describe('login', () => {
  let server: FakePop3Server;
  before(async () => {
    server = await startFakePop3Server({ tokens: { alice: 'tok-123' } });
  });
  after(() => server.close());

  it('auto picks XOAUTH2 when an access token is given and the server offers it', async () => {
    const client = await connectFake(server, { password: undefined, accessToken: 'tok-123' });
    assert.equal(client.authMechanism, 'xoauth2');
    await client.quit();
  });

  it('USER/PASS when asked for, and never PASS after a rejected USER', async () => {
    const client = await connectFake(server, { auth: 'user' });
    assert.equal(client.authMechanism, 'user');
    await client.quit();
    await withServer({ handlers: { USER: (s) => s.err('no such user') } }, async (local) => {
      await assert.rejects(connectFake(local, { auth: 'user' }), { code: 'EAUTH', command: 'USER' });
      assert.ok(!local.verbs().includes('PASS'));
    });
  });

  it('auto falls back to USER/PASS when no SASL PLAIN is offered, and works with a server that has no CAPA', async () => {
    await withServer({ capabilities: ['USER', 'UIDL', 'TOP'] }, async (local) => {
      const client = await connectFake(local);
      assert.equal(client.authMechanism, 'user');
      await client.quit();
    });
    await withServer({ handlers: { CAPA: (s) => s.err('unknown command') } }, async (local) => {
      const client = await connectFake(local, { tls: 'implicit' as const }).catch((e: unknown) => e);
      assert.ok(client instanceof Pop3Error && client.code === 'ETLS', 'plain server, implicit TLS: handshake fails');
      await assert.rejects(connectFake(local), { code: 'ESTLS' }, 'without CAPA, STLS cannot be known: refused, no downgrade');
      const plain = await connectFake(local, { tls: 'none', allowInsecureAuth: true });
      assert.equal(plain.authMechanism, 'user');
      assert.equal(plain.capabilities.size, 0);
      await plain.quit();
    });
  });

  it('APOP only when configured, only inside TLS', async () => {
    await withServer({ mode: 'implicit' }, async (local) => {
      const client = await connectFake(local, { tls: 'implicit', auth: 'apop' });
      assert.equal(client.authMechanism, 'apop');
      await client.quit();
    });
    await assert.rejects(connectFake(server, { tls: 'none', allowInsecureAuth: true, auth: 'apop' }), { code: 'EINSECURE' });
  });

  it('a wrong password is EAUTH, not retryable, and the error never carries the secret', async () => {
    for (const auth of ['plain', 'user'] as const) {
      const error = await connectFake(server, { auth, password: 'hunter2-wrong' }).catch((e: unknown) => e);
      assert.ok(error instanceof Pop3Error);
      assert.equal(error.code, 'EAUTH');
      assert.equal(error.retryable, false);
      assert.equal(error.responseCode, 'AUTH');
      assert.equal(error.command, auth === 'plain' ? 'AUTH' : 'PASS');
      const everything = JSON.stringify({ ...error, message: error.message, stack: error.stack });
      assert.ok(!everything.includes('hunter2'), 'password not in the error');
      assert.ok(!everything.includes(Buffer.from('\0alice\0hunter2-wrong').toString('base64')), 'AUTH payload not in the error');
    }
  });

  it('a rejected XOAUTH2 token: the JSON challenge is answered with an empty line, then EAUTH', async () => {
    await withServer(
      {
        handlers: {
          AUTH: (s) => {
            s.write(`+ ${Buffer.from('{"status":"401"}').toString('base64')}\r\n`);
            s.server.handlers[''] = (s2) => s2.err('[AUTH] invalid token');
          },
        },
      },
      async (local) => {
        await assert.rejects(connectFake(local, { accessToken: 'bad', password: undefined }), { code: 'EAUTH', command: 'AUTH' });
        assert.deepEqual(
          local.commands.slice(-1).map((c) => c.line),
          [''],
        );
      },
    );
  });

  for (const [name, bad] of [
    ['CR', 'a\rb'],
    ['LF', 'a\nPASS x'],
    ['NUL', 'a\0b'],
  ] as const) {
    it(`refuses ${name} in the user or the password before connecting (ECONFIG)`, async () => {
      const sessions = server.sessions.length;
      await assert.rejects(connectFake(server, { user: bad }), { code: 'ECONFIG' });
      await assert.rejects(connectFake(server, { password: bad }), { code: 'ECONFIG' });
      await assert.rejects(connectFake(server, { password: undefined, accessToken: bad }), { code: 'ECONFIG' });
      assert.equal(server.sessions.length, sessions, 'no connection was even opened');
    });
  }

  it('reports every option problem at once', async () => {
    const error = await connectPop3({ host: '', user: '', port: 70000, window: 0 }).catch((e: unknown) => e);
    assert.ok(error instanceof Pop3Error && error.code === 'ECONFIG');
    for (const word of ['host', 'user', 'port', 'window', 'password']) assert.match(error.message, new RegExp(word));
  });

  it('tls "none" without allowInsecureAuth: EINSECURE before anything is sent', async () => {
    const sessions = server.sessions.length;
    await assert.rejects(connectFake(server, { tls: 'none' }), { code: 'EINSECURE' });
    assert.equal(server.sessions.length, sessions);
    const client = await connectFake(server, { tls: 'none', allowInsecureAuth: true });
    assert.equal(client.tls, null);
    await client.quit();
  });

  it('capabilities are read again after login: EXPIRE and LOGIN-DELAY as the user sees them', async () => {
    await withServer(
      {
        handlers: {
          CAPA: (s) =>
            s.multi(
              s.authed
                ? [...DEFAULT_CAPABILITIES, 'EXPIRE 5', 'LOGIN-DELAY 900']
                : [...DEFAULT_CAPABILITIES, 'STLS', 'EXPIRE 30 USER', 'LOGIN-DELAY 60 USER'],
            ),
        },
      },
      async (local) => {
        const client = await connectFake(local);
        assert.equal(client.expire, 5);
        assert.equal(client.loginDelay, 900);
        await client.quit();
      },
    );
    await withServer({ capabilities: [...DEFAULT_CAPABILITIES, 'EXPIRE NEVER'] }, async (local) => {
      const client = await connectFake(local);
      assert.equal(client.expire, 'never');
      assert.equal(client.loginDelay, null);
      await client.quit();
    });
  });
});

describe('response codes (RFC 2449, RFC 3206)', () => {
  const cases = [
    ['[IN-USE] mailbox locked', 'EINUSE', true],
    ['[LOGIN-DELAY] wait 15 minutes', 'ELOGINDELAY', true],
    ['[SYS/TEMP] try later', 'ESYSTEMP', true],
    ['[SYS/PERM] account disabled', 'ESYSPERM', false],
    ['[AUTH] bad password', 'EAUTH', false],
    ['no code at all', 'EAUTH', false],
  ] as const;
  for (const [text, code, retryable] of cases) {
    it(`-ERR ${text} at login is ${code} (retryable: ${retryable})`, async () => {
      await withServer({ handlers: { AUTH: (s) => s.err(text) } }, async (local) => {
        const error = await connectFake(local).catch((e: unknown) => e);
        assert.ok(error instanceof Pop3Error);
        assert.equal(error.code, code);
        assert.equal(error.retryable, retryable);
        assert.equal(error.response, text);
        assert.equal(error.responseCode, text.startsWith('[') ? text.slice(1, text.indexOf(']')) : undefined);
      });
    });
  }

  it('a response code on an ordinary command maps the same way, and the session goes on', async () => {
    await withServer({ messages: ['a\r\n'], handlers: { RETR: (s) => s.err('[SYS/TEMP] storage hiccup') } }, async (local) => {
      const client = await connectFake(local);
      await assert.rejects(client.retr(1), { code: 'ESYSTEMP', retryable: true, command: 'RETR' });
      await client.noop();
      await client.quit();
    });
  });

  it('a -ERR greeting is ECONNECTION (or its response code)', async () => {
    await withServer({ greeting: '-ERR [SYS/TEMP] too many connections' }, async (local) => {
      await assert.rejects(connectFake(local), { code: 'ESYSTEMP' });
      assert.equal(local.commands.length, 0);
    });
    await withServer({ greeting: '-ERR go away' }, async (local) => {
      await assert.rejects(connectFake(local), { code: 'ECONNECTION', retryable: true });
    });
  });
});

describe('certificates: verified before any credential', () => {
  const cases = [
    ['untrusted (self-signed)', certs.selfSigned],
    ['issued for another host', certs.wrongHost],
    ['expired', certs.expired],
  ] as const;
  for (const [name, cert] of cases) {
    it(`implicit TLS with a certificate ${name}: ETLS, nothing sent`, async () => {
      await withServer({ mode: 'implicit', cert }, async (local) => {
        await assert.rejects(connectFake(local, { tls: 'implicit' }), { code: 'ETLS', retryable: false });
        assert.equal(local.commands.length, 0);
      });
    });
    it(`STLS with a certificate ${name}: ETLS, no credential sent`, async () => {
      await withServer({ cert }, async (local) => {
        await assert.rejects(connectFake(local), { code: 'ETLS' });
        assert.deepEqual(local.verbs(), ['CAPA', 'STLS']);
      });
    });
  }

  it('without the extra CA the test CA is not trusted; with it, it is added to (not replacing) the roots', async () => {
    await withServer({ mode: 'implicit' }, async (local) => {
      await assert.rejects(connectFake(local, { tls: 'implicit', ca: undefined }), { code: 'ETLS' });
      const client = await connectFake(local, { tls: 'implicit', ca: [certs.caPem] });
      assert.ok(client.tls?.fingerprint256);
      await client.quit();
    });
  });

  it('servername sets the name checked (and SNI) independently of the address', async () => {
    await withServer({ mode: 'implicit', cert: certs.wrongHost }, async (local) => {
      const client = await connectFake(local, { tls: 'implicit', servername: 'wrong.example' });
      assert.match(client.tls?.subject ?? '', /wrong\.example/);
      await client.quit();
    });
  });

  it('refuses TLS below 1.2', async () => {
    const tls = await import('node:tls');
    const server = tls.createServer({ key: certs.keyPem, cert: certs.certPem, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, (s) =>
      s.end('+OK\r\n'),
    );
    server.on('tlsClientError', () => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      await assert.rejects(connectPop3({ host: '127.0.0.1', port, ca: certs.caPem, user: 'a', password: 'b' }), { code: 'ETLS' });
    } finally {
      server.close();
    }
  });
});

describe('STLS done safely (RFC 2595, CVE-2021-39272)', () => {
  it('STLS required but not advertised: ESTLS, no credential sent', async () => {
    await withServer({ stls: false }, async (local) => {
      await assert.rejects(connectFake(local), { code: 'ESTLS', retryable: false });
      assert.deepEqual(local.verbs(), ['CAPA']);
    });
  });

  it('STLS refused: ESTLS (even with a response code), no credential sent', async () => {
    for (const refusal of ['TLS not available', '[SYS/TEMP] TLS unavailable']) {
      await withServer({ handlers: { STLS: (s) => s.err(refusal) } }, async (local) => {
        const error = await connectFake(local).catch((e: unknown) => e);
        assert.ok(error instanceof Pop3Error);
        assert.equal(error.code, 'ESTLS');
        assert.equal(error.response, refusal);
        assert.deepEqual(credentialsSent(local), []);
      });
    }
  });

  it('bytes injected right after the STLS +OK (same segment): ESTLS, no credential sent', async () => {
    await withServer(
      {
        handlers: {
          STLS: async (s) => {
            s.write('+OK Begin TLS\r\n+OK injected\r\n');
            await s.startTls();
          },
        },
      },
      async (local) => {
        await assert.rejects(connectFake(local), { code: 'ESTLS' });
        assert.deepEqual(credentialsSent(local), []);
      },
    );
  });

  it('bytes injected after the STLS +OK in a later segment: the session aborts, no credential sent', async () => {
    await withServer(
      {
        handlers: {
          STLS: async (s) => {
            s.write('+OK Begin TLS\r\n');
            await sleep(30);
            s.write('+OK injected\r\n');
            await s.startTls();
          },
        },
      },
      async (local) => {
        const error = await connectFake(local).catch((e: unknown) => e);
        assert.ok(error instanceof Pop3Error && (error.code === 'ESTLS' || error.code === 'ETLS'), String(error));
        assert.deepEqual(credentialsSent(local), []);
      },
    );
  });

  it('capabilities seen in clear are thrown away: CAPA is asked again inside TLS', async () => {
    await withServer(
      {
        handlers: {
          CAPA: (s) => s.multi(s.tls ? ['USER', 'UIDL'] : ['STLS', 'SASL PLAIN', 'PIPELINING', 'X-FORGED']),
        },
      },
      async (local) => {
        const client = await connectFake(local);
        assert.deepEqual(local.commands.map((c) => `${c.tls ? 'tls' : 'clear'}:${c.verb}`).slice(0, 4), [
          'clear:CAPA',
          'clear:STLS',
          'tls:CAPA',
          'tls:USER',
        ]);
        assert.equal(client.capabilities.has('X-FORGED'), false);
        assert.equal(client.pipelining, false, 'PIPELINING advertised only in clear is not used');
        assert.equal(client.authMechanism, 'user');
        await client.quit();
        assert.ok(local.commands.filter((c) => CREDENTIAL_VERBS.has(c.verb)).every((c) => c.tls));
      },
    );
  });
});
