import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectPop3, Pop3Error, type Pop3ConnectOptions } from '../../lib/pop3/index.ts';
import { dovecotSkipReason, type DovecotServer } from '../helpers/dovecot.ts';
import { SCOPES, startOAuthServer, type OAuthServer } from '../helpers/oauth-server.ts';
import { introspections, signInByHand, startOAuthDovecot } from './helpers.ts';

const skip = dovecotSkipReason();

/**
 * The peers themselves: a real Dovecot that checks bearer tokens with `passdb oauth2` against a real OAuth 2
 * server's introspection endpoint (docs/recipes/oauth2-dovecot.md). Everything else in test/oauth2 relies on it.
 */
describe('Dovecot passdb oauth2 with oidc-provider introspection', { skip: skip ?? false }, () => {
  let oauth: OAuthServer;
  let dovecot: DovecotServer;
  before(async () => {
    oauth = await startOAuthServer({ flavor: 'microsoft' });
    dovecot = await startOAuthDovecot(oauth);
  });
  after(async () => {
    await dovecot?.stop();
    await oauth?.stop();
  });

  const connect = (user: string, accessToken: string, auth: Pop3ConnectOptions['auth']) =>
    connectPop3({
      host: '127.0.0.1',
      port: dovecot.tlsPort,
      ca: dovecot.caPem,
      servername: 'localhost',
      user,
      accessToken,
      auth,
    });

  it('accepts a delegated token for its own user with XOAUTH2 and with OAUTHBEARER', async () => {
    const { accessToken } = await signInByHand(oauth, 'alice');
    for (const auth of ['xoauth2', 'oauthbearer'] as const) {
      const before = introspections(oauth);
      const client = await connect('alice', accessToken, auth);
      assert.equal(client.authMechanism, auth);
      assert.equal((await client.stat()).count, 0);
      await client.quit();
      assert.equal(introspections(oauth), before + 1, 'Dovecot asked the authorization server about the token');
    }
  });

  it("refuses alice's token for bob's maildrop, and a token it has never seen", async () => {
    const { accessToken } = await signInByHand(oauth, 'alice');
    await assert.rejects(connect('bob', accessToken, 'xoauth2'), { code: 'EAUTH' });
    const error = await connect('alice', 'not-a-token-anyone-issued', 'oauthbearer').catch((e: unknown) => e);
    assert.ok(error instanceof Pop3Error && error.code === 'EAUTH', String(error));
    assert.ok(!error.message.includes('not-a-token-anyone-issued'));
  });

  it('refuses an access token once it is revoked at the authorization server', async () => {
    const { accessToken } = await signInByHand(oauth, 'alice');
    (await connect('alice', accessToken, 'xoauth2')).close();
    await oauth.revoke(accessToken, oauth.clients.public);
    await assert.rejects(connect('alice', accessToken, 'xoauth2'), { code: 'EAUTH' });
  });

  it('accepts an app-only (client credentials) token for the mailbox the app was granted, and only that one', async () => {
    const res = await fetch(oauth.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: oauth.clients.app.id,
        client_secret: oauth.clients.app.secret,
        scope: SCOPES.microsoftApp,
      }).toString(),
    });
    const { access_token: token } = (await res.json()) as { access_token: string };
    const client = await connect('alice', token, 'xoauth2');
    await client.quit();
    await assert.rejects(connect('bob', token, 'xoauth2'), { code: 'EAUTH' });
  });
});
