import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { endpointsFor, OAuth2Error, pollDeviceToken, PROFILES, startDeviceAuthorization, TokenClient } from '../../lib/oauth2/index.ts';
import type { OAuth2Config } from '../../lib/config/types.ts';
import { startOAuthServer, type OAuthFlavor, type OAuthServer } from '../helpers/oauth-server.ts';

/** A client of `server` as a mailbox config would make it: the profile's shape, the test server's endpoints. */
function clientFor(
  server: OAuthServer,
  options: { client?: { id: string; secret?: string }; flow?: OAuth2Config['flow']; tenant?: string } = {},
): TokenClient {
  const c: { id: string; secret?: string } = options.client ?? server.clients.public;
  const config: OAuth2Config = {
    provider: server.flavor,
    flow: options.flow ?? 'delegated',
    clientId: c.id,
    ...(server.flavor === 'microsoft' ? { tenant: server.tenant } : {}),
    tokenUrl: options.tenant === undefined ? server.tokenUrl : server.tokenUrl.replace(server.tenant, options.tenant),
    deviceAuthorizationUrl: server.deviceAuthorizationUrl,
    ...(server.flavor === 'generic' ? { scope: server.scope } : {}),
  };
  return new TokenClient({
    profile: PROFILES[server.flavor],
    endpoints: endpointsFor(config),
    client: { clientId: c.id, ...(c.secret === undefined ? {} : { clientSecret: c.secret }) },
    signInHint: 'sign in again: mail-ingest auth --mailbox support',
  });
}

/** Device sign-in through lib/oauth2, with the test's "person" approving in the browser meanwhile. */
async function signIn(server: OAuthServer, client: TokenClient, account = 'alice') {
  const auth = await startDeviceAuthorization(client);
  const [tokens] = await Promise.all([pollDeviceToken(client, auth), server.approveDevice(auth.userCode, account)]);
  return { auth, tokens };
}

/** Nothing secret in an error, its message, its stack or its cause chain. */
function assertNoSecret(err: unknown, ...secrets: string[]): void {
  const seen: string[] = [];
  for (let e: unknown = err; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    seen.push(JSON.stringify(e), String((e as Error).message), String((e as Error).stack));
  }
  for (const s of secrets) assert.ok(!seen.join('\n').includes(s), 'a secret leaked into the error');
}

for (const flavor of ['microsoft', 'google', 'generic'] as const satisfies readonly OAuthFlavor[]) {
  describe(`token endpoint, ${flavor}-shaped answers`, () => {
    let server: OAuthServer;
    before(async () => {
      server = await startOAuthServer({ flavor });
    });
    after(() => server.stop());

    it('device sign-in: a code and a URL to show, then access and refresh tokens once the person approves', async () => {
      const client = clientFor(server);
      const { auth, tokens } = await signIn(server, client);
      assert.match(auth.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
      assert.equal(
        auth.verificationUri,
        `${server.baseUrl}/activate`,
        flavor === 'google' ? "read from Google's verification_url" : 'verification_uri',
      );
      if (flavor === 'microsoft') assert.match(auth.message ?? '', /enter the code/);
      assert.ok(tokens.accessToken.length > 20);
      assert.ok(tokens.refreshToken !== undefined && tokens.refreshToken.length > 20);
      assert.ok(tokens.expiresAt > Date.now() + 3_000_000 && tokens.expiresAt <= Date.now() + 3_600_000);
    });

    it('refresh rotates the refresh token; the old one is then refused as needing a new sign-in', async () => {
      const client = clientFor(server);
      const { tokens } = await signIn(server, client);
      const refreshed = await client.refresh(tokens.refreshToken!);
      assert.notEqual(refreshed.accessToken, tokens.accessToken);
      assert.ok(refreshed.refreshToken !== undefined && refreshed.refreshToken !== tokens.refreshToken, 'rotated');
      const error = await client.refresh(tokens.refreshToken!).catch((e: unknown) => e);
      assert.ok(error instanceof OAuth2Error, String(error));
      assert.equal(error.code, 'EOAUTH2_GRANT');
      assert.equal(error.providerError, 'invalid_grant');
      assert.equal(error.signInAgain, true);
      assert.equal(error.retryable, false);
      assert.equal(error.failureClass, 'auth');
      assert.match(error.message, /sign in again: mail-ingest auth --mailbox support/);
      if (flavor === 'microsoft') assert.equal(error.providerCode, 'AADSTS70000');
      if (flavor === 'google') assert.match(error.message, /Token has been expired or revoked/);
      assertNoSecret(error, tokens.refreshToken!, refreshed.refreshToken!);
    });

    it('the person declines: EOAUTH2_DENIED, not a hang', async () => {
      const client = clientFor(server);
      const auth = await startDeviceAuthorization(client);
      const [error] = await Promise.all([
        pollDeviceToken(client, auth).catch((e: unknown) => e),
        server.approveDevice(auth.userCode, 'alice', { deny: true }),
      ]);
      assert.ok(error instanceof OAuth2Error && error.code === 'EOAUTH2_DENIED', String(error));
      if (flavor === 'microsoft') assert.equal(error.providerError, 'authorization_declined');
    });

    it('a server that is down is retryable and says so; nothing else is tried', async () => {
      const client = clientFor(server);
      const before = server.requests.length;
      for (const mode of ['503', 'reset'] as const) {
        server.setDown(mode);
        try {
          const error = await client.refresh('some-refresh-token-value').catch((e: unknown) => e);
          assert.ok(error instanceof OAuth2Error, String(error));
          assert.equal(error.code, 'EOAUTH2_UNAVAILABLE', error.message);
          assert.equal(error.retryable, true);
          assert.equal(error.signInAgain, false);
          assert.equal(error.failureClass, 'network');
          assertNoSecret(error, 'some-refresh-token-value');
        } finally {
          server.setDown(false);
        }
      }
      assert.equal(server.requests.length, before, 'the requests never reached the provider');
    });
  });
}

describe('Microsoft specifics', () => {
  let server: OAuthServer;
  before(async () => {
    server = await startOAuthServer({ flavor: 'microsoft', refreshTokenTtl: 2 });
  });
  after(() => server.stop());

  it('an expired refresh token is AADSTS700082 with what it means and what to do', async () => {
    const client = clientFor(server);
    const { tokens } = await signIn(server, client);
    await new Promise((r) => setTimeout(r, 2500));
    const error = await client.refresh(tokens.refreshToken!).catch((e: unknown) => e);
    assert.ok(error instanceof OAuth2Error, String(error));
    assert.equal(error.providerCode, 'AADSTS700082');
    assert.equal(error.signInAgain, true);
    assert.match(error.message, /expired after 90 days without use/);
    assert.doesNotMatch(error.message, /Trace ID|Correlation ID/, 'support noise is cut');
  });

  it('client credentials: an app-only token; a wrong secret is EOAUTH2_CLIENT, fixed in the app registration, not by signing in', async () => {
    const app = clientFor(server, { client: server.clients.app, flow: 'client-credentials' });
    const token = await app.clientCredentials();
    assert.ok(token.accessToken.length > 20);
    assert.equal(token.refreshToken, undefined);
    const wrong = clientFor(server, { client: { id: server.clients.app.id, secret: 'not-the-secret' }, flow: 'client-credentials' });
    const error = await wrong.clientCredentials().catch((e: unknown) => e);
    assert.ok(error instanceof OAuth2Error, String(error));
    assert.equal(error.code, 'EOAUTH2_CLIENT');
    assert.equal(error.providerCode, 'AADSTS7000215');
    assert.equal(error.signInAgain, false);
    assert.match(error.message, /Value \(not its Secret ID\)/);
    assertNoSecret(error, 'not-the-secret', server.clients.app.secret);
  });

  it('an unknown tenant is AADSTS90002, naming the setting to check', async () => {
    const error = await clientFor(server, { tenant: 'no-such-tenant' })
      .refresh('x')
      .catch((e: unknown) => e);
    assert.ok(error instanceof OAuth2Error, String(error));
    assert.equal(error.providerCode, 'AADSTS90002');
    assert.match(error.message, /check tenant/);
  });

  it('a device code nobody approves expires: EOAUTH2_EXPIRED', async () => {
    const short = await startOAuthServer({ flavor: 'microsoft', deviceCodeTtl: 2 });
    try {
      const client = clientFor(short);
      const auth = await startDeviceAuthorization(client);
      const error = await pollDeviceToken(client, auth).catch((e: unknown) => e);
      assert.ok(error instanceof OAuth2Error && error.code === 'EOAUTH2_EXPIRED', String(error));
      assert.equal(error.signInAgain, true);
    } finally {
      await short.stop();
    }
  });
});

describe('device polling etiquette (RFC 8628 section 3.5)', () => {
  it('slow_down adds five seconds to the interval for good', async () => {
    const server = await startOAuthServer({ pollInterval: 1 });
    try {
      const client = clientFor(server);
      const auth = await startDeviceAuthorization(client);
      // Poll twice as often as asked: the server says slow_down, and the client backs off.
      const eager = { ...auth, intervalMs: 300 };
      const polled: number[] = [];
      const done = pollDeviceToken(client, eager, { onPending: () => polled.push(Date.now()) });
      await new Promise((r) => setTimeout(r, 1500));
      const slowDowns = server.tokenRequests('urn:ietf:params:oauth:grant-type:device_code').filter((r) => r.error === 'slow_down').length;
      await server.approveDevice(auth.userCode, 'alice');
      const tokens = await done;
      assert.ok(tokens.accessToken.length > 0);
      assert.equal(slowDowns, 1, 'told to slow down once, then the client waited 5 s longer');
    } finally {
      await server.stop();
    }
  });
});
