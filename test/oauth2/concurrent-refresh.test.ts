import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSecret } from '../../lib/config/index.ts';
import type { MailboxConfig, OAuth2Config } from '../../lib/config/types.ts';
import {
  clearAccessTokenCache,
  createAwsSecretsManagerTokenClient,
  pollDeviceToken,
  startDeviceAuthorization,
  tokenClientFor,
  tokenSourceFor,
  type OAuth2Deps,
} from '../../lib/oauth2/index.ts';
import { startOAuthServer, type OAuthServer } from '../helpers/oauth-server.ts';
import { tempDir } from '../e2e/e2e-helpers.ts';
import { configOf, mailboxOf, signIn } from './lifecycle-helpers.ts';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from './secrets-manager-stand-in.ts';

type OAuthMailbox = MailboxConfig & { oauth2: OAuth2Config };

/** A mailbox config without a POP3 server behind it: these cases are about the token endpoint and the stores. */
function tokenMailbox(oauth: OAuthServer, id: string, refreshToken: Record<string, string>): Record<string, unknown> {
  return {
    id,
    host: '127.0.0.1',
    port: 9,
    user: 'alice',
    auth: 'xoauth2',
    oauth2: {
      provider: oauth.flavor,
      tenant: oauth.tenant,
      clientId: oauth.clients.public.id,
      refreshToken,
      tokenUrl: oauth.tokenUrl,
      deviceAuthorizationUrl: oauth.deviceAuthorizationUrl,
    },
  };
}

async function deviceRefreshToken(oauth: OAuthServer, m: OAuthMailbox): Promise<string> {
  const client = await tokenClientFor(m, { resolve: (ref) => resolveSecret(ref) });
  const device = await startDeviceAuthorization(client);
  const [tokens] = await Promise.all([pollDeviceToken(client, device), oauth.approveDevice(device.userCode, 'alice')]);
  return tokens.refreshToken!;
}

function logInto(lines: string[]): Required<Pick<OAuth2Deps, 'log'>> {
  return {
    log: (level, message) => {
      lines.push(`${level}: ${message}`);
    },
  };
}

describe('refreshes that happen at the same time', () => {
  let oauth: OAuthServer;
  let t: Awaited<ReturnType<typeof tempDir>>;
  const refreshes = (ok?: boolean) => oauth.tokenRequests('refresh_token', ok === undefined ? {} : { ok }).length;
  before(async () => {
    // Rotation with reuse detection: redeeming a refresh token twice revokes the whole grant.
    oauth = await startOAuthServer({ flavor: 'microsoft' });
    t = await tempDir('oauth-concurrent-');
  });
  after(async () => {
    await oauth?.stop();
    await t?.remove();
  });
  beforeEach(() => clearAccessTokenCache());

  it('two sessions of one process that need a token at once share one refresh', async () => {
    const config = configOf(t.dir, [tokenMailbox(oauth, 'shared', { file: './tokens/shared.json' })]);
    const m = mailboxOf(config, 'shared');
    await signIn(oauth, m, 'alice');
    const r0 = refreshes();
    const deps = { resolve: (ref: Parameters<typeof resolveSecret>[0]) => resolveSecret(ref) };
    const [a, b] = await Promise.all([tokenSourceFor(m, deps).get(), tokenSourceFor(m, deps).get()]);
    assert.equal(a, b);
    assert.equal(refreshes() - r0, 1);
  });

  it('two pollers sharing one token file take turns: each redeems the token the other stored, the grant survives', async () => {
    // Two mailbox entries with one token file: two independent caches, as two processes have.
    const config = configOf(t.dir, [
      tokenMailbox(oauth, 'one', { file: './tokens/pair.json' }),
      tokenMailbox(oauth, 'two', { file: './tokens/pair.json' }),
    ]);
    const [one, two] = [mailboxOf(config, 'one'), mailboxOf(config, 'two')];
    await signIn(oauth, one, 'alice');
    const [ok0, failed0] = [refreshes(true), refreshes(false)];
    const deps = { resolve: (ref: Parameters<typeof resolveSecret>[0]) => resolveSecret(ref) };
    const [a, b] = await Promise.all([tokenSourceFor(one, deps).get(), tokenSourceFor(two, deps).get()]);
    assert.notEqual(a, b);
    assert.equal(refreshes(true) - ok0, 2, 'two refreshes, one after the other');
    assert.equal(refreshes(false) - failed0, 0, 'no refresh token was ever redeemed twice');
    // The chain is intact: what is stored now still works.
    clearAccessTokenCache();
    assert.ok((await tokenSourceFor(one, deps).get()).length > 0);
    assert.equal(refreshes(false) - failed0, 0);
  });

  it('a rotated token that cannot be written (an environment variable) is used from memory next time, never the spent one', async () => {
    const config = configOf(t.dir, [tokenMailbox(oauth, 'envtoken', { env: 'MI_TEST_REFRESH_TOKEN' })]);
    const m = mailboxOf(config, 'envtoken');
    process.env.MI_TEST_REFRESH_TOKEN = await deviceRefreshToken(oauth, m);
    const lines: string[] = [];
    const deps = { resolve: (ref: Parameters<typeof resolveSecret>[0]) => resolveSecret(ref), ...logInto(lines) };
    const failed0 = refreshes(false);
    await tokenSourceFor(m, deps).get();
    assert.ok(
      lines.some((l) => /^warn: .*cannot be written.*lives in this process only/.test(l)),
      lines.join('\n'),
    );
    clearAccessTokenCache();
    await tokenSourceFor(m, deps).get();
    assert.equal(refreshes(false) - failed0, 0, 'the second refresh used the rotated token, not the spent one in the variable');
  });
});

describe('a refresh token in AWS Secrets Manager', () => {
  let sm: SecretsManagerStandIn;
  let oauth: OAuthServer;
  let t: Awaited<ReturnType<typeof tempDir>>;
  const deps = (lines: string[] = []): OAuth2Deps => ({
    resolve: (ref) => resolveSecret(ref),
    secretsManager: createAwsSecretsManagerTokenClient({ region: 'us-east-1', endpoint: sm.endpoint }),
    ...logInto(lines),
  });
  before(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    sm = await startSecretsManagerStandIn();
    // Entra ID's behaviour: every refresh rotates, and the old token stays valid until it expires.
    oauth = await startOAuthServer({ flavor: 'microsoft', refreshTokenReuse: 'allow' });
    t = await tempDir('oauth-sm-');
  });
  after(async () => {
    await sm?.stop();
    await oauth?.stop();
    await t?.remove();
  });
  beforeEach(() => clearAccessTokenCache());

  it('rotation writes a new version of exactly that secret, other keys kept', async () => {
    const config = configOf(t.dir, [tokenMailbox(oauth, 'sm', { secretId: 'mail-ingest/sm-refresh' })]);
    const m = mailboxOf(config, 'sm');
    const first = await deviceRefreshToken(oauth, m);
    sm.set('mail-ingest/sm-refresh', JSON.stringify({ refreshToken: first, note: 'support mailbox' }));
    const before = sm.calls.length;
    await tokenSourceFor(m, deps()).get();
    const stored = JSON.parse(sm.current('mail-ingest/sm-refresh')!) as { refreshToken: string; note: string };
    assert.notEqual(stored.refreshToken, first);
    assert.equal(stored.note, 'support mailbox');
    assert.deepEqual(sm.calls.slice(before), [
      { op: 'GetSecretValue', secretId: 'mail-ingest/sm-refresh' },
      { op: 'PutSecretValue', secretId: 'mail-ingest/sm-refresh' },
    ]);
  });

  it('two pollers rotating at once (no lock across machines): one version wins, the other poller keeps it', async () => {
    const config = configOf(t.dir, [
      tokenMailbox(oauth, 'left', { secretId: 'mail-ingest/race' }),
      tokenMailbox(oauth, 'right', { secretId: 'mail-ingest/race' }),
    ]);
    const first = await deviceRefreshToken(oauth, mailboxOf(config, 'left'));
    sm.set('mail-ingest/race', first);
    const lines: string[] = [];
    const puts0 = sm.calls.filter((c) => c.op === 'PutSecretValue').length;
    const [a, b] = await Promise.all([
      tokenSourceFor(mailboxOf(config, 'left'), deps(lines)).get(),
      tokenSourceFor(mailboxOf(config, 'right'), deps(lines)).get(),
    ]);
    assert.ok(a.length > 0 && b.length > 0, 'both sessions got a token');
    assert.equal(sm.calls.filter((c) => c.op === 'PutSecretValue').length - puts0, 2);
    assert.equal(lines.filter((l) => /keeping theirs/.test(l)).length, 1, lines.join('\n'));
    assert.notEqual(sm.current('mail-ingest/race'), first);
  });

  it('a write that fails keeps the rotated token in memory and stores it at the next refresh', async () => {
    const config = configOf(t.dir, [tokenMailbox(oauth, 'denied', { secretId: 'mail-ingest/denied' })]);
    const m = mailboxOf(config, 'denied');
    sm.set('mail-ingest/denied', await deviceRefreshToken(oauth, m));
    const lines: string[] = [];
    sm.failPuts = 'AccessDeniedException';
    try {
      await tokenSourceFor(m, deps(lines)).get();
    } finally {
      sm.failPuts = null;
    }
    assert.ok(
      lines.some((l) => /^error: the rotated refresh token could not be stored; it is kept in memory/.test(l)),
      lines.join('\n'),
    );
    const unchanged = sm.current('mail-ingest/denied');
    clearAccessTokenCache();
    await tokenSourceFor(m, deps(lines)).get();
    assert.notEqual(sm.current('mail-ingest/denied'), unchanged, 'stored once the write was allowed again');
  });
});
