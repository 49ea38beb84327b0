import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { endpointsFor, OAuth2Error, PROFILES, startLoopbackSignIn, TokenClient } from '../../lib/oauth2/index.ts';
import { dovecotSkipReason, type DovecotServer } from '../helpers/dovecot.ts';
import { startOAuthServer, type OAuthServer } from '../helpers/oauth-server.ts';
import { mail, tempDir } from '../e2e/e2e-helpers.ts';
import { BIN, cli } from '../cli/cli-helpers.ts';
import { startOAuthDovecot } from './helpers.ts';
import { assertNoToken, oauthMailbox } from './lifecycle-helpers.ts';

/** Google's browser sign-in (RFC 8252 with PKCE): Google's device flow does not grant Gmail's scope. */
describe('browser sign-in to a loopback listener (Google-shaped server)', () => {
  let oauth: OAuthServer;
  const client = () =>
    new TokenClient({
      profile: PROFILES.google,
      endpoints: endpointsFor({
        provider: 'google',
        flow: 'delegated',
        clientId: oauth.clients.desktop.id,
        tokenUrl: oauth.tokenUrl,
        authorizationUrl: oauth.authorizationUrl,
      }),
      client: { clientId: oauth.clients.desktop.id, clientSecret: oauth.clients.desktop.secret },
    });
  before(async () => {
    oauth = await startOAuthServer({ flavor: 'google' });
  });
  after(() => oauth.stop());

  it('asks for offline access with PKCE S256, comes back to 127.0.0.1, and exchanges the code for a refresh token', async () => {
    const signIn = await startLoopbackSignIn(client());
    const url = new URL(signIn.url);
    assert.equal(`${url.origin}${url.pathname}`, oauth.authorizationUrl);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(url.searchParams.get('access_type'), 'offline');
    assert.equal(url.searchParams.get('prompt'), 'consent');
    assert.equal(url.searchParams.get('scope'), 'https://mail.google.com/');
    assert.match(signIn.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await oauth.approveAuthorization(signIn.url, 'alice');
    assert.equal(page.status, 200);
    assert.match(page.body, /Signed in/);
    const tokens = await signIn.done;
    assert.ok(tokens.refreshToken !== undefined && tokens.accessToken.length > 20);
    assert.equal(oauth.tokenRequests('authorization_code', { ok: true }).length, 1);
  });

  it('ignores a request that does not carry its state (another page cannot inject a code), and a decline is EOAUTH2_DENIED', async () => {
    const signIn = await startLoopbackSignIn(client());
    const forged = await fetch(`${signIn.redirectUri}?code=attacker-code&state=guess`);
    assert.equal(forged.status, 404);
    await oauth.approveAuthorization(signIn.url, 'alice', { deny: true });
    const error = await signIn.done.catch((e: unknown) => e);
    assert.ok(error instanceof OAuth2Error && error.code === 'EOAUTH2_DENIED', String(error));
    assert.equal(oauth.tokenRequests('authorization_code').length, 1, 'the forged code was never sent to the token endpoint');
  });
});

describe('mail-ingest auth for Gmail (browser), then run with OAUTHBEARER', { skip: dovecotSkipReason() ?? false }, () => {
  let oauth: OAuthServer;
  let dovecot: DovecotServer;
  let t: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    oauth = await startOAuthServer({ flavor: 'google' });
    dovecot = await startOAuthDovecot(oauth);
    t = await tempDir('cli-gmail-');
  });
  after(async () => {
    await dovecot?.stop();
    await oauth?.stop();
    await t?.remove();
  });

  it('prints the page to open, stores the refresh token once the browser is back, and the first run logs in', async () => {
    const config = path.join(t.dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        store: { type: 'fs', dir: './data' },
        mailboxes: [
          oauthMailbox(oauth, dovecot, 'gmail', 'alice', {
            clientId: oauth.clients.desktop.id,
            clientSecret: { env: 'GOOGLE_CLIENT_SECRET' },
            authorizationUrl: oauth.authorizationUrl,
          }),
        ].map((m) => ({ ...m, auth: 'oauthbearer' })),
      }),
    );
    const env = { ...process.env, GOOGLE_CLIENT_SECRET: oauth.clients.desktop.secret };
    const child = spawn(process.execPath, [BIN, 'auth', '--config', config, '--mailbox', 'gmail'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        const m = /^\s+(http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?\S+)$/m.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child.once('close', () => reject(new Error(`auth exited early:\n${stdout}\n${stderr}`)));
    });
    assert.match(stdout, /open this page in a browser on this machine/);
    assert.match(stdout, /ssh -L \d+:127\.0\.0\.1:\d+/);
    await oauth.approveAuthorization(url, 'alice');
    assert.equal(await closed, 0, stdout + stderr);
    assert.match(stdout, /POP3 login checked: alice on 127\.0\.0\.1 with OAUTHBEARER/);

    await dovecot.seed('alice', [mail(1)]);
    const r = await cli(['run', '--config', config, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').at(-1)!).mailboxes[0].stored, 1);
    assertNoToken(oauth, stdout + stderr + r.stdout + r.stderr, 'the CLI output');
  });
});
