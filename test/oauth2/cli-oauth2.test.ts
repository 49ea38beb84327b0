import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dovecotSkipReason, type DovecotServer } from '../helpers/dovecot.ts';
import { startOAuthServer, type OAuthServer } from '../helpers/oauth-server.ts';
import { mail, tempDir } from '../e2e/e2e-helpers.ts';
import { BIN, cli, type CliResult } from '../cli/cli-helpers.ts';
import { introspections, startOAuthDovecot } from './helpers.ts';
import { assertNoToken, everyFile, oauthMailbox } from './lifecycle-helpers.ts';

const skip = dovecotSkipReason();

/** Runs a long-lived CLI command, handing each stdout chunk to `onOutput` until it exits. */
function spawnCli(args: string[], env: NodeJS.ProcessEnv, onOutput: (all: string) => void) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    onOutput(stdout);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

const waitFor = async (what: string, ok: () => boolean, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('mail-ingest auth / run / check / status with OAuth 2 (Dovecot passdb oauth2, oidc-provider)', { skip: skip ?? false }, () => {
  let oauth: OAuthServer;
  let dovecot: DovecotServer;
  let t: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  const outputs: string[] = [];
  const env = () => ({ MI_APP_SECRET: oauth.clients.app.secret });
  const run = async (args: string[]) => {
    const r = await cli(args, { env: env() });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const refreshes = () => oauth.tokenRequests('refresh_token');

  before(async () => {
    // Access tokens live 12 s: a `run --every 10s` meets an expiring one on its second round.
    oauth = await startOAuthServer({ flavor: 'microsoft', accessTokenTtl: 12, appMailbox: 'bob' });
    dovecot = await startOAuthDovecot(oauth);
    t = await tempDir('cli-oauth2-');
    config = path.join(t.dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify(
        {
          store: { type: 'fs', dir: './data' },
          mailboxes: [
            oauthMailbox(oauth, dovecot, 'support', 'alice'),
            oauthMailbox(oauth, dovecot, 'app', 'bob', {
              flow: 'client-credentials',
              clientId: oauth.clients.app.id,
              clientSecret: { env: 'MI_APP_SECRET' },
              refreshToken: undefined,
            }),
          ],
        },
        null,
        2,
      ),
    );
  });
  after(async () => {
    const written = t === undefined ? '' : await everyFile(path.join(t.dir, 'data'));
    await dovecot?.stop();
    await oauth?.stop();
    await t?.remove();
    assertNoToken(oauth, outputs.join('\n'), 'the CLI output');
    assertNoToken(oauth, written, 'the state, archive, event log or status records');
  });

  it('auth: prints the URL and the code (English and Japanese), waits for the sign-in, stores the token 0600, checks the POP3 login', async () => {
    let code: string | undefined;
    const { done } = spawnCli(['auth', '--config', config, '--mailbox', 'support'], env(), (out) => {
      code ??= /Enter code\s+(\S+)/.exec(out)?.[1];
    });
    await waitFor('the code', () => code !== undefined);
    await oauth.approveDevice(code!, 'alice');
    const r = await done;
    outputs.push(r.stdout, r.stderr);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`Open\\s+${oauth.baseUrl}/activate`));
    assert.match(r.stdout, /サインイン/);
    assert.match(r.stdout, /Signed in\. The refresh token is stored in token file .*support\.json/);
    assert.match(r.stdout, /POP3 login checked: alice on 127\.0\.0\.1 with XOAUTH2/);
    const file = path.join(t.dir, 'tokens', 'support.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
  });

  it('the first run after auth ingests with the stored refresh token; status shows the refresh and no warning', async () => {
    await dovecot.seed('alice', [mail(1), mail(2)]);
    const r = await run(['run', '--config', config, '--mailbox', 'support', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const [summary] = JSON.parse(r.stdout).mailboxes;
    assert.deepEqual({ ok: summary.ok, stored: summary.stored }, { ok: true, stored: 2 });
    const s = await run(['status', '--config', config, '--json']);
    const support = JSON.parse(s.stdout).mailboxes.find((m: { mailbox: string }) => m.mailbox === 'support');
    assert.ok(Date.now() - Date.parse(support.oauth2.lastRefreshAt) < 60_000);
    assert.equal(support.oauth2.warning, null);
  });

  it('run --every: an access token about to expire is replaced before the next session, with no refused login', async () => {
    await dovecot.seed('alice', [mail(3)]);
    const [r0, i0] = [refreshes().length, introspections(oauth)];
    let rounds = 0;
    const { child, done } = spawnCli(['run', '--config', config, '--mailbox', 'support', '--every', '10s', '--json'], env(), (out) => {
      rounds = out.split('"finishedAt"').length - 1;
    });
    await waitFor('the first round', () => rounds >= 1);
    await dovecot.seed('alice', [mail(4)]);
    await waitFor('the second round', () => rounds >= 2, 30_000);
    child.kill('SIGTERM');
    const r = await done;
    outputs.push(r.stdout, r.stderr);
    const summaries = r.stdout
      .trim()
      .split(/\n(?=\{)/)
      .map((doc) => JSON.parse(doc).mailboxes[0]);
    assert.deepEqual(
      summaries.map((s: { ok: boolean; stored: number }) => [s.ok, s.stored]),
      [
        [true, 1],
        [true, 1],
      ],
    );
    assert.equal(refreshes().length - r0, 2, 'a new process refreshed once, and again when its 12 s token neared expiry');
    assert.ok(
      refreshes()
        .slice(r0)
        .every((x) => x.status === 200),
    );
    assert.equal(introspections(oauth) - i0, 2, 'one login per round: no token was ever refused');
  });

  it('two processes refreshing at once take turns on the token file: both log in, no refresh token is redeemed twice', async () => {
    const failed0 = refreshes().filter((x) => x.status !== 200).length;
    const [a, b] = await Promise.all([
      run(['check', '--config', config, '--mailbox', 'support', '--json']),
      run(['check', '--config', config, '--mailbox', 'support', '--json']),
    ]);
    assert.deepEqual({ first: a.code, second: b.code }, { first: 0, second: 0 }, a.stderr + b.stderr);
    assert.equal(JSON.parse(a.stdout).mailboxes[0].auth, 'xoauth2');
    assert.equal(refreshes().filter((x) => x.status !== 200).length, failed0);
  });

  it('client credentials: runs with no sign-in; auth explains there is nothing to sign in', async () => {
    await dovecot.seed('bob', [mail(5)]);
    const r = await run(['run', '--config', config, '--mailbox', 'app', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).mailboxes[0].stored, 1);
    const a = await run(['auth', '--config', config, '--mailbox', 'app']);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /app-only access \(client credentials\): there is no sign-in/);
  });

  it('status warns well before the idle expiry, and says to sign in again after a refusal', async () => {
    const record = path.join(t.dir, 'data', 'state', 'oauth2', 'support.json');
    await mkdir(path.dirname(record), { recursive: true });
    const fortyDaysAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await writeFile(
      record,
      JSON.stringify({ version: 1, mailbox: 'support', lastRefreshAt: fortyDaysAgo, lastRotationAt: fortyDaysAgo, lastFailure: null }),
    );
    let s = await run(['status', '--config', config]);
    assert.match(s.stdout, /support: warning: no refresh for 40 days: the refresh token expires after 90 days unused \(in about 50 days\)/);
    await writeFile(
      record,
      JSON.stringify({
        version: 1,
        mailbox: 'support',
        lastRefreshAt: fortyDaysAgo,
        lastFailure: { at: new Date().toISOString(), code: 'EOAUTH2_GRANT', providerCode: 'AADSTS700082', signInAgain: true },
      }),
    );
    s = await run(['status', '--config', config]);
    assert.match(
      s.stdout,
      /support: warning: the last refresh failed \(EOAUTH2_GRANT AADSTS700082\): sign in again with mail-ingest auth --mailbox support/,
    );
  });
});
