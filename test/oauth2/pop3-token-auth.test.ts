import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Pop3Error } from '../../lib/pop3/index.ts';
import { startFakePop3Server, type FakePop3Server, type FakeSession } from '../helpers/fake-pop3-server.ts';
import { connectFake } from '../pop3/helpers.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** What RFC 7628 section 3.1 says the client sends for `user` to 127.0.0.1:`port`. */
const bearerMessage = (user: string, port: number, token: string) =>
  `n,a=${user},\x01host=127.0.0.1\x01port=${port}\x01auth=Bearer ${token}\x01\x01`;

/** An AUTH handler that accepts OAUTHBEARER and XOAUTH2 for alice with `token`, inline or after an empty challenge. */
function tokenAuth(token: string) {
  return (s: FakeSession, [mech, ir]: string[]) => {
    const expected =
      mech === 'OAUTHBEARER' ? bearerMessage('alice', s.socket.localPort ?? 0, token) : `user=alice\x01auth=Bearer ${token}\x01\x01`;
    const check = (response: string) => {
      if (unb64(response) === expected) {
        s.user = 'alice';
        s.authed = true;
        s.ok('logged in');
        return;
      }
      s.write(`+ ${b64(JSON.stringify({ status: 'invalid_token', scope: 'pop3' }))}\r\n`);
      s.server.handlers[mech === 'OAUTHBEARER' ? 'AQ==' : ''] = (s2) => s2.err('[AUTH] invalid token');
    };
    if (ir !== undefined) {
      check(ir);
      return;
    }
    // No initial response: an empty challenge; the response line comes next (its "verb" is the whole line).
    s.write('+ \r\n');
    const verb = b64(expected).toUpperCase();
    s.server.handlers[verb] = (_s2, _args, line) => {
      delete s.server.handlers[verb];
      check(line);
    };
  };
}

describe('POP3 login with an OAuth 2 bearer token (XOAUTH2, OAUTHBEARER RFC 7628)', () => {
  const shortToken = 'tok-123';
  // An Entra ID access token is a 1.5-3 KB JWT: the AUTH line would pass RFC 2449's 255 octets.
  const longToken = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${'x'.repeat(1800)}.sig`;
  let server: FakePop3Server;
  before(async () => {
    server = await startFakePop3Server({
      capabilities: ['TOP', 'UIDL', 'USER', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'SASL PLAIN XOAUTH2 OAUTHBEARER'],
    });
  });
  after(() => server.close());

  it('OAUTHBEARER sends the gs2 header, host, port and token as the initial response when the line fits', async () => {
    server.handlers.AUTH = tokenAuth(shortToken);
    const client = await connectFake(server, { password: undefined, accessToken: shortToken, auth: 'oauthbearer' });
    assert.equal(client.authMechanism, 'oauthbearer');
    await client.quit();
    const auth = server.commands.filter((c) => c.verb === 'AUTH').at(-1)!;
    const [, mech, ir] = auth.line.split(' ');
    assert.equal(mech, 'OAUTHBEARER');
    assert.equal(unb64(ir!), bearerMessage('alice', server.port, shortToken));
    assert.ok(auth.tls, 'the token crossed inside TLS only');
  });

  for (const mechanism of ['oauthbearer', 'xoauth2'] as const) {
    it(`${mechanism}: a token too long for a 255-octet command line goes after the server's empty challenge`, async () => {
      server.handlers.AUTH = tokenAuth(longToken);
      const before = server.commands.length;
      const client = await connectFake(server, { password: undefined, accessToken: longToken, auth: mechanism });
      assert.equal(client.authMechanism, mechanism);
      await client.quit();
      const sent = server.commands.slice(before).map((c) => c.line);
      const authAt = sent.findIndex((l) => l.startsWith('AUTH '));
      assert.equal(sent[authAt], `AUTH ${mechanism.toUpperCase()}`, 'no initial response on the AUTH line');
      assert.ok(
        sent.every((l) => l.length + 2 <= 255 || !l.startsWith('AUTH')),
        'every AUTH line fits in 255 octets',
      );
      assert.ok(unb64(sent[authAt + 1]!).includes(`Bearer ${longToken}`), 'the token follows on its own line');
    });
  }

  it('a rejected token: the error challenge is answered with ^A (RFC 7628 3.2.3), then EAUTH naming the status, never the token', async () => {
    server.handlers.AUTH = tokenAuth('the-right-token');
    const error = await connectFake(server, { password: undefined, accessToken: 'stale-token-value', auth: 'oauthbearer' }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof Pop3Error);
    assert.equal(error.code, 'EAUTH');
    assert.equal(error.retryable, false);
    assert.match(error.message, /invalid_token/);
    assert.deepEqual(
      server.commands.slice(-1).map((c) => c.line),
      ['AQ=='],
    );
    const everything = JSON.stringify({ ...error, message: error.message, stack: error.stack });
    assert.ok(!everything.includes('stale-token-value'), 'no token in the error');
    assert.ok(!everything.includes(b64(bearerMessage('alice', server.port, 'stale-token-value'))), 'no AUTH payload in the error');
  });

  it('auto picks XOAUTH2 when offered, OAUTHBEARER when only that is offered', async () => {
    server.handlers.AUTH = tokenAuth(shortToken);
    const both = await connectFake(server, { password: undefined, accessToken: shortToken });
    assert.equal(both.authMechanism, 'xoauth2');
    await both.quit();
    const only = await startFakePop3Server({ capabilities: ['UIDL', 'SASL OAUTHBEARER'], handlers: { AUTH: tokenAuth(shortToken) } });
    try {
      const client = await connectFake(only, { password: undefined, accessToken: shortToken });
      assert.equal(client.authMechanism, 'oauthbearer');
      await client.quit();
    } finally {
      await only.close();
    }
  });

  it('escapes "," and "=" in the user name of the gs2 header (RFC 5801)', async () => {
    const seen: string[] = [];
    const local = await startFakePop3Server({
      handlers: {
        AUTH: (s, [, ir]) => {
          seen.push(unb64(ir ?? ''));
          s.authed = true;
          s.ok();
        },
      },
    });
    try {
      const client = await connectFake(local, {
        user: 'a,b=c@example.jp',
        password: undefined,
        accessToken: shortToken,
        auth: 'oauthbearer',
      });
      await client.quit();
      assert.match(seen[0]!, /^n,a=a=2Cb=3Dc@example\.jp,\x01host=/);
    } finally {
      await local.close();
    }
  });

  it('refuses auth "oauthbearer" without a token, and ^A in a token, before connecting', async () => {
    const sessions = server.sessions.length;
    await assert.rejects(connectFake(server, { password: undefined, auth: 'oauthbearer' }), {
      code: 'ECONFIG',
      message: /oauthbearer" needs accessToken/,
    });
    await assert.rejects(connectFake(server, { password: undefined, accessToken: 'a\x01b', auth: 'oauthbearer' }), { code: 'ECONFIG' });
    assert.equal(server.sessions.length, sessions);
  });
});
