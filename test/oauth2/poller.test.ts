import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { parseConfig, resolveSecret } from '../../lib/config/index.ts';
import type { MailboxRunSummary, RunMailboxOptions } from '../../lib/ingest/pipeline-types.ts';
import { clearAccessTokenCache, OAuth2Error, pollDeviceToken, startDeviceAuthorization, tokenClientFor } from '../../lib/oauth2/index.ts';
import type { MailboxConfig, OAuth2Config } from '../../lib/config/types.ts';
import { pollMailbox, type PollDeps } from '../../functions/commons/poll-mailbox.ts';
import { MemoryPublisher, MemoryRawStore, MemoryStateStore } from '../helpers/memory-adapters.ts';
import { startOAuthServer, type OAuthServer } from '../helpers/oauth-server.ts';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from './secrets-manager-stand-in.ts';

/**
 * The Lambda poller's side: the refresh token lives in Secrets Manager (reached through the real SDK), a rotation
 * is written back to exactly that secret, and the metrics behind the token alarms are emitted.
 */
describe('poller with an OAuth 2 mailbox (refresh token in Secrets Manager)', () => {
  let oauth: OAuthServer;
  let sm: SecretsManagerStandIn;
  const secretId = 'mail-ingest/support-refresh-token';
  // One archive for both cases, as one deployment has: the token status record is kept there.
  const store = new MemoryRawStore();
  const config = () =>
    parseConfig(
      {
        store: { type: 's3', bucket: 'archive-bucket' },
        publish: { type: 'sqs', targets: [{ name: 't', queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/t' }] },
        mailboxes: [
          {
            id: 'support',
            host: 'outlook.office365.com',
            user: 'support@contoso.co.jp',
            auth: 'xoauth2',
            oauth2: {
              provider: 'microsoft',
              tenant: oauth.tenant,
              clientId: oauth.clients.public.id,
              refreshToken: { secretId },
              tokenUrl: oauth.tokenUrl,
              deviceAuthorizationUrl: oauth.deviceAuthorizationUrl,
            },
          },
        ],
      },
      { baseDir: '/' },
    );

  before(async () => {
    oauth = await startOAuthServer({ flavor: 'microsoft', refreshTokenReuse: 'allow' });
    sm = await startSecretsManagerStandIn();
    // What the deployed function has: the SDK's region and credentials from the environment; here the endpoint too.
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
    });
    const m = config().mailboxes[0] as MailboxConfig & { oauth2: OAuth2Config };
    const client = await tokenClientFor(m, { resolve: (ref) => resolveSecret(ref) });
    const device = await startDeviceAuthorization(client);
    const [tokens] = await Promise.all([pollDeviceToken(client, device), oauth.approveDevice(device.userCode, 'alice')]);
    sm.set(secretId, JSON.stringify({ refreshToken: tokens.refreshToken }));
  });
  after(async () => {
    await oauth?.stop();
    await sm?.stop();
    delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  });

  function harness(run: (o: RunMailboxOptions) => Promise<MailboxRunSummary>) {
    const lines: string[] = [];
    const metrics: Array<{ name: string; value: number }> = [];
    const log =
      (level: string) =>
      (message: string, fields: Record<string, unknown> = {}) =>
        lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
    const logger = {
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      debug: log('debug'),
      appendKeys: () => undefined,
      removeKeys: () => undefined,
    } as unknown as Logger;
    const m = {
      addDimension: () => undefined,
      addMetric: (name: string, _u: unknown, value: number) => metrics.push({ name, value }),
      publishStoredMetrics: () => undefined,
    } as unknown as Metrics;
    const d: PollDeps = {
      config: async () => config(),
      secretsManager: { getSecretString: async () => assert.fail('the refresh token is not read through the secret cache') },
      adapters: () => ({ store, state: new MemoryStateStore(), publisher: new MemoryPublisher() }),
      runMailbox: run,
      logger,
      metrics: m,
      safetyMarginMs: 30_000,
    };
    return { d, lines, metrics, metric: (name: string) => metrics.find((x) => x.name === name)?.value };
  }

  const ok = (o: RunMailboxOptions): MailboxRunSummary => ({
    mailbox: o.job.id,
    ok: true,
    new: 0,
    stored: 0,
    published: 0,
    deleted: 0,
    skipped: 0,
    oversized: 0,
    failed: 0,
    bytes: 0,
    durationMs: 1,
    quitOk: true,
    error: null,
  });

  it('refreshes from the secret, writes the rotated token back to exactly that secret, and reports a fresh refresh', async () => {
    clearAccessTokenCache();
    let seen: RunMailboxOptions | undefined;
    const { d, lines, metric } = harness(async (o) => {
      seen = o;
      return ok(o);
    });
    const before = JSON.parse(sm.current(secretId)!).refreshToken as string;
    const calls0 = sm.calls.length;
    const out = await pollMailbox({ mailboxId: 'support', scheduledAt: 't' }, 300_000, d);
    assert.equal(out.status, 'ran');
    assert.ok(oauth.issued.has(seen!.job.connect.accessToken!), 'the session got an access token the provider issued');
    assert.equal(typeof seen!.connect, 'function', 'and the connect that renews a refused token once');
    assert.notEqual(JSON.parse(sm.current(secretId)!).refreshToken, before, 'rotated and written back');
    assert.deepEqual(
      sm.calls.slice(calls0).map((c) => `${c.op} ${c.secretId}`),
      [`GetSecretValue ${secretId}`, `PutSecretValue ${secretId}`],
    );
    assert.equal(metric('TokenFailures'), 0);
    assert.equal(metric('DaysSinceTokenRefresh'), 0);
    for (const token of oauth.issued) assert.ok(!lines.join('\n').includes(token), "no token in the function's log");
  });

  it('a refused refresh token fails the poll before any session, counted as a token failure', async () => {
    clearAccessTokenCache();
    sm.set(secretId, JSON.stringify({ refreshToken: 'revoked-long-ago' }));
    const { d, lines, metric } = harness(async () => assert.fail('no session without a token'));
    const error = await pollMailbox({ mailboxId: 'support', scheduledAt: 't' }, 300_000, d).catch((e: unknown) => e);
    assert.ok(error instanceof OAuth2Error && error.code === 'EOAUTH2_GRANT', String(error));
    assert.equal(metric('TokenFailures'), 1);
    assert.equal(metric('PollFailures'), 1);
    assert.equal(metric('DaysSinceTokenRefresh'), 0, 'the last good refresh (the case before) is still what counts');
    assert.ok(
      lines.some((l) => /getting an access token failed .*"errorCode":"EOAUTH2_GRANT".*"providerCode":"AADSTS/.test(l)),
      lines.join('\n'),
    );
    assert.ok(!lines.join('\n').includes('revoked-long-ago'));
  });
});
