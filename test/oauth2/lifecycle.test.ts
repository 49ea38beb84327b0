import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { createAdapters, runAll } from '../../lib/app/index.ts';
import type { Config } from '../../lib/config/index.ts';
import type { MailboxRunSummary } from '../../lib/ingest/pipeline-types.ts';
import { clearAccessTokenCache, rawStoreTokenStatus, tokenHealth } from '../../lib/oauth2/index.ts';
import { dovecotSkipReason, type DovecotServer } from '../helpers/dovecot.ts';
import { startOAuthServer, type OAuthServer } from '../helpers/oauth-server.ts';
import { mail, tempDir } from '../e2e/e2e-helpers.ts';
import { introspections, startOAuthDovecot } from './helpers.ts';
import { assertNoToken, configOf, everyFile, mailboxOf, oauthMailbox, signIn, storedRefreshToken } from './lifecycle-helpers.ts';

const skip = dovecotSkipReason();

/**
 * The token lifecycle through the real pipeline: runAll against a Dovecot that checks every token with the
 * authorization server, which issues, rotates and revokes them (Microsoft-shaped answers).
 */
describe('OAuth 2 token lifecycle: pipeline, Dovecot passdb oauth2, oidc-provider', { skip: skip ?? false }, () => {
  let oauth: OAuthServer;
  let dovecot: DovecotServer;
  let t: Awaited<ReturnType<typeof tempDir>>;
  let seq = 0;
  const refreshes = () => oauth.tokenRequests('refresh_token').length;
  const run = async (config: Config, id: string): Promise<MailboxRunSummary> => {
    const [summary] = await runAll({ config, adapters: await createAdapters(config), mailboxIds: [id] });
    return summary!;
  };

  before(async () => {
    oauth = await startOAuthServer({ flavor: 'microsoft' });
    dovecot = await startOAuthDovecot(oauth);
    t = await tempDir('oauth-lifecycle-');
  });
  after(async () => {
    // Everything the pipeline wrote: the state, the archive, the event log and the token status records.
    const written = t === undefined ? '' : await everyFile(`${t.dir}/data`);
    await dovecot?.stop();
    await oauth?.stop();
    await t?.remove();
    assertNoToken(oauth, written, 'the state, archive, event log or status records');
  });
  // Each case starts as a new process would: no access token in memory.
  beforeEach(() => clearAccessTokenCache());

  it('first run after sign-in: a token from the stored refresh token, the rotated one stored, the next run reuses the access token', async () => {
    const config = configOf(t.dir, [oauthMailbox(oauth, dovecot, 'support', 'alice')]);
    const m = mailboxOf(config, 'support');
    const first = await signIn(oauth, m, 'alice');
    await dovecot.seed('alice', [mail(++seq), mail(++seq)]);
    const r0 = refreshes();
    const summary = await run(config, 'support');
    assert.equal(summary.ok, true, JSON.stringify(summary.error));
    assert.equal(summary.stored, 2);
    assert.equal(refreshes(), r0 + 1, 'one refresh for the session');
    const rotated = await storedRefreshToken(m);
    assert.notEqual(rotated, first, 'the provider rotated the refresh token and it was written back');
    assert.equal((await stat((m.oauth2.refreshToken as { file: string }).file)).mode & 0o777, 0o600);

    const status = await rawStoreTokenStatus((await createAdapters(config)).store).read('support');
    assert.ok(status?.lastRefreshAt !== null && Date.now() - Date.parse(status!.lastRefreshAt!) < 60_000);
    assert.equal(tokenHealth(m.oauth2, 'support', status).warning, null);

    // Same process, token still fresh: no refresh, one login.
    const i0 = introspections(oauth);
    await dovecot.seed('alice', [mail(++seq)]);
    const again = await runAll({ config, adapters: await createAdapters(config), mailboxIds: ['support'] });
    const again2 = await runAll({ config, adapters: await createAdapters(config), mailboxIds: ['support'] });
    assert.deepEqual([again[0]!.ok, again2[0]!.ok], [true, true]);
    assert.equal(again[0]!.stored + again2[0]!.stored, 1);
    assert.equal(refreshes(), r0 + 1, 'both later runs reused the cached access token');
    assert.equal(introspections(oauth), i0 + 2);
  });

  it('a token the server refuses before it expires is renewed once, and the session goes on', async () => {
    const config = configOf(t.dir, [oauthMailbox(oauth, dovecot, 'renew', 'alice')]);
    await signIn(oauth, mailboxOf(config, 'renew'), 'alice');
    assert.equal((await run(config, 'renew')).ok, true);
    // The provider invalidates the cached access token early (an admin action, a key rollover); Dovecot refuses it.
    oauth.invalidateAccessToken(oauth.lastAccessToken()!);
    await dovecot.seed('alice', [mail(++seq)]);
    const [r0, i0] = [refreshes(), introspections(oauth)];
    const summary = (await runAll({ config, adapters: await createAdapters(config), mailboxIds: ['renew'] }))[0]!;
    assert.equal(summary.ok, true, JSON.stringify(summary.error));
    assert.ok(summary.stored >= 1);
    assert.equal(refreshes() - r0, 1, 'one refresh, after the refusal');
    assert.equal(introspections(oauth) - i0, 2, 'the refused login and the one with the new token');
  });

  it('a token the server keeps refusing ends the session after one renewal, saying what to check (no loop)', async () => {
    // Signed in as alice, but the mailbox logs in as bob: Dovecot refuses every token alice has.
    const config = configOf(t.dir, [oauthMailbox(oauth, dovecot, 'mismatch', 'bob')]);
    await signIn(oauth, mailboxOf(config, 'mismatch'), 'alice');
    const [r0, i0] = [refreshes(), introspections(oauth)];
    const summary = await run(config, 'mismatch');
    assert.equal(summary.ok, false);
    assert.equal(summary.error?.code, 'EOAUTH2_REJECTED');
    assert.equal(summary.error?.class, 'auth');
    assert.match(summary.error?.message ?? '', /POP is enabled|"user" is the mailbox's address/);
    assert.equal(refreshes() - r0, 2, 'the first token, and one renewal');
    assert.equal(introspections(oauth) - i0, 2, 'two logins, no third');
  });

  it('a revoked grant: a clear error that says to sign in again, one refresh attempt, no POP3 login when nothing is cached', async () => {
    const config = configOf(t.dir, [oauthMailbox(oauth, dovecot, 'revoked', 'alice')]);
    const m = mailboxOf(config, 'revoked');
    await signIn(oauth, m, 'alice');
    assert.equal((await run(config, 'revoked')).ok, true);
    // The user (or an admin) revokes the app's access: RFC 7009 revocation of the refresh token revokes the grant.
    await oauth.revoke(await storedRefreshToken(m), oauth.clients.public);

    // Warm (a long-running process): the cached access token is refused, and its one renewal fails at the provider.
    let [r0, i0] = [refreshes(), introspections(oauth)];
    let summary = (await runAll({ config, adapters: await createAdapters(config), mailboxIds: ['revoked'] }))[0]!;
    assert.equal(summary.error?.code, 'EOAUTH2_GRANT');
    assert.deepEqual({ refreshes: refreshes() - r0, logins: introspections(oauth) - i0 }, { refreshes: 1, logins: 1 });

    // Cold (a new process): the refresh fails before any POP3 login.
    clearAccessTokenCache();
    [r0, i0] = [refreshes(), introspections(oauth)];
    summary = await run(config, 'revoked');
    assert.equal(summary.ok, false);
    assert.equal(summary.error?.class, 'auth');
    assert.equal(summary.error?.code, 'EOAUTH2_GRANT');
    assert.match(summary.error?.message ?? '', /AADSTS50173/);
    assert.match(summary.error?.message ?? '', /sign in again: mail-ingest auth --config <config file> --mailbox revoked/);
    assert.equal(refreshes() - r0, 1, 'one refresh attempt');
    assert.equal(introspections(oauth) - i0, 0, 'no POP3 login with nothing to log in with');

    const status = await rawStoreTokenStatus((await createAdapters(config)).store).read('revoked');
    assert.equal(status?.lastFailure?.code, 'EOAUTH2_GRANT');
    assert.match(tokenHealth(m.oauth2, 'revoked', status).warning ?? '', /sign in again/);
  });

  it('the provider down: retryable, no POP3 login (no lockout), the refresh token untouched; the next run recovers', async () => {
    const config = configOf(t.dir, [oauthMailbox(oauth, dovecot, 'outage', 'alice')]);
    const m = mailboxOf(config, 'outage');
    await signIn(oauth, m, 'alice');
    const before = await readFile((m.oauth2.refreshToken as { file: string }).file);
    const i0 = introspections(oauth);
    for (const mode of ['503', 'reset'] as const) {
      oauth.setDown(mode);
      try {
        const summary = await run(config, 'outage');
        assert.equal(summary.ok, false);
        assert.equal(summary.error?.code, 'EOAUTH2_UNAVAILABLE');
        assert.equal(summary.error?.class, 'network');
      } finally {
        oauth.setDown(false);
      }
    }
    assert.equal(introspections(oauth), i0, 'Dovecot never saw a login attempt');
    assert.deepEqual(await readFile((m.oauth2.refreshToken as { file: string }).file), before, 'the stored refresh token is as it was');
    assert.equal((await run(config, 'outage')).ok, true, 'back up: the same refresh token works');
  });

  it('client credentials (app-only): a token for the mailbox the app was granted, no refresh token anywhere', async () => {
    process.env.MI_TEST_APP_SECRET = oauth.clients.app.secret;
    const config = configOf(t.dir, [
      oauthMailbox(oauth, dovecot, 'app', 'alice', {
        flow: 'client-credentials',
        clientId: oauth.clients.app.id,
        clientSecret: { env: 'MI_TEST_APP_SECRET' },
        refreshToken: undefined,
      }),
    ]);
    await dovecot.seed('alice', [mail(++seq)]);
    const c0 = oauth.tokenRequests('client_credentials').length;
    const summary = await run(config, 'app');
    assert.equal(summary.ok, true, JSON.stringify(summary.error));
    assert.ok(summary.stored >= 1);
    const again = (await runAll({ config, adapters: await createAdapters(config), mailboxIds: ['app'] }))[0]!;
    assert.equal(again.ok, true);
    assert.equal(oauth.tokenRequests('client_credentials').length - c0, 1, 'the second run reused the cached app token');
  });
});
