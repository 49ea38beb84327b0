import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../e2e/e2e-helpers.ts';
import { BIN, cli, runCommand, startDemoServe, type CliResult, type DemoServe } from './cli-helpers.ts';

const CA = path.resolve(import.meta.dirname, '../../lib/cli/demo/certs/demo-ca.pem');

/** Runs the CLI with `input` on stdin (the answers to init's questions, one per line). */
function cliWithInput(args: string[], input: string, o: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return runCommand(process.execPath, [BIN, ...args], { cwd: o.cwd, env: { ...process.env, ...o.env }, input });
}

describe('mail-ingest init', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let serve: DemoServe;
  // The demo server as "a provider": its port, its private CA and the name on its certificate.
  let server: string[];
  before(async () => {
    t = await tempDir('init-');
    serve = await startDemoServe(t.dir);
    server = ['--port', String(serve.port), '--ca', CA, '--servername', 'localhost'];
  });
  after(async () => {
    await serve?.stop();
    await t?.remove();
  });

  it('from flags: writes a config with the password as { "env" }, then check passes against the server', async () => {
    const r = await cli(
      ['init', '--preset', 'generic', '--host', '127.0.0.1', ...server, '--user', 'demo', '--id', 'support', '--out', 'flags.json'],
      { cwd: t.dir, env: { MAIL_INGEST_SUPPORT_PASSWORD: 'demo-password' } },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const text = await readFile(path.join(t.dir, 'flags.json'), 'utf8');
    const [m] = JSON.parse(text).mailboxes;
    assert.deepEqual(
      { preset: m.preset, password: m.password, user: m.user, host: m.host, store: JSON.parse(text).store },
      {
        preset: 'generic',
        password: { env: 'MAIL_INGEST_SUPPORT_PASSWORD' },
        user: 'demo',
        host: '127.0.0.1',
        store: { type: 'fs', dir: './data' },
      },
    );
    assert.doesNotMatch(text, /demo-password/);
    assert.match(r.stdout, /support\s+ok\s+TLSv1\.[23]/);
    assert.match(r.stdout, /Check passed/);
    const run = await cli(['run', '--config', path.join(t.dir, 'flags.json'), '--json'], {
      env: { MAIL_INGEST_SUPPORT_PASSWORD: 'demo-password' },
    });
    assert.equal(JSON.parse(run.stdout).mailboxes[0].stored, 8, 'the written config runs');
  });

  it('asks on a terminal (here: answers on stdin with --interactive); the password typed is used for the check only', async () => {
    const answers = ['generic', '127.0.0.1', 'asked', '', '', 'asked.json', 'demo-password', ''].join('\n');
    const r = await cliWithInput(['init', '--interactive', '--user', 'demo', ...server], answers, {
      cwd: t.dir,
      env: { MAIL_INGEST_ASKED_PASSWORD: undefined },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /Provider \(number or id\) \/ プロバイダー/);
    assert.match(r.stderr, /POP3 server \/ POP3サーバー/);
    const text = await readFile(path.join(t.dir, 'asked.json'), 'utf8');
    const [m] = JSON.parse(text).mailboxes;
    assert.deepEqual({ id: m.id, password: m.password }, { id: 'asked', password: { env: 'MAIL_INGEST_ASKED_PASSWORD' } });
    assert.doesNotMatch(text, /demo-password/, 'the typed password is not written');
    assert.match(r.stdout, /Check passed/);
  });

  it('check says where a mailbox differs from its preset', async () => {
    // Made from the OCN preset, then pointed at another server with another login form.
    const r = await cli(
      ['init', '--preset', 'ocn', '--host', '127.0.0.1', ...server, '--user', 'demo', '--id', 'ocn', '--out', 'ocn.json'],
      { cwd: t.dir, env: { MAIL_INGEST_OCN_PASSWORD: 'demo-password' } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `ocn: differs from preset "ocn" \\(OCN\\): host 127\\.0\\.0\\.1 where the preset says pop\\.ocn\\.ne\\.jp; port ${serve.port} where the preset says 995; user demo where the preset says the whole mail address`,
      ),
    );
    const check = await cli(['check', '--config', path.join(t.dir, 'ocn.json'), '--json'], {
      env: { MAIL_INGEST_OCN_PASSWORD: 'demo-password' },
    });
    const [report] = JSON.parse(check.stdout).mailboxes;
    assert.deepEqual(
      report.preset.differences.map((d: { field: string }) => d.field),
      ['host', 'port', 'user'],
    );

    const raw = JSON.parse(await readFile(path.join(t.dir, 'ocn.json'), 'utf8'));
    raw.mailboxes[0].preset = 'ocm';
    await writeFile(path.join(t.dir, 'typo.json'), JSON.stringify(raw));
    const typo = await cli(['check', '--config', path.join(t.dir, 'typo.json')], { env: { MAIL_INGEST_OCN_PASSWORD: 'demo-password' } });
    assert.match(typo.stderr, /"preset": "ocm" is not a preset of this version/);
  });

  it('Microsoft 365: writes an oauth2 block (no secret), skips check and names mail-ingest auth as the next step', async () => {
    const appId = '00000000-1111-2222-3333-444444444444';
    const r = await cli(
      [
        'init',
        '--preset',
        'microsoft365',
        '--address',
        'info@contoso.example',
        '--tenant',
        'contoso.onmicrosoft.com',
        '--client-id',
        appId,
        '--out',
        'm365.json',
      ],
      { cwd: t.dir },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const text = await readFile(path.join(t.dir, 'm365.json'), 'utf8');
    const [m] = JSON.parse(text).mailboxes;
    assert.deepEqual(
      { host: m.host, port: m.port, auth: m.auth, oauth2: m.oauth2, accessToken: m.accessToken, password: m.password },
      {
        host: 'outlook.office365.com',
        port: 995,
        auth: 'xoauth2',
        oauth2: { provider: 'microsoft', tenant: 'contoso.onmicrosoft.com', clientId: appId, refreshToken: { file: 'tokens/info.json' } },
        accessToken: undefined,
        password: undefined,
      },
    );
    assert.doesNotMatch(text, /"(?:password|accessToken|clientSecret|refreshToken)":\s*"/, 'no secret in the file, only references');
    assert.match(r.stdout, /^ {2}mail-ingest auth --config m365\.json --mailbox info$/m);
    assert.match(r.stdout, /Not checked: an OAuth 2 mailbox cannot log in before its first sign-in/);
    assert.match(r.stdout, /未確認: OAuth 2のメールボックスは最初のサインインまでログインできません/);
    assert.doesNotMatch(r.stdout, /mail-ingest check/, 'check cannot log in before auth');
    assert.doesNotMatch(r.stderr, /check failed/, 'and was not run');
    // check accepts the oauth2 form as the preset's: the login fails (no sign-in yet), the settings match.
    const check = await cli(['check', '--config', path.join(t.dir, 'm365.json'), '--json']);
    const [report] = JSON.parse(check.stdout).mailboxes;
    assert.deepEqual({ differences: report.preset.differences, code: report.error.code }, { differences: [], code: 'EOAUTH2_STORE' });

    const missing = await cli(['init', '--preset', 'microsoft365', '--address', 'info@contoso.example', '--out', 'm365b.json'], {
      cwd: t.dir,
    });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /init needs --tenant .* and --client-id/);
  });

  it('Gmail: an app password by default; with --oauth an oauth2 block and its client secret from the environment', async () => {
    const password = await cli(
      ['init', '--preset', 'gmail', '--address', 'info@example.jp', '--id', 'gpass', '--out', 'gpass.json', '--no-check'],
      { cwd: t.dir },
    );
    assert.equal(password.code, 0, password.stderr);
    const [p] = JSON.parse(await readFile(path.join(t.dir, 'gpass.json'), 'utf8')).mailboxes;
    assert.deepEqual(
      { password: p.password, oauth2: p.oauth2, auth: p.auth },
      { password: { env: 'MAIL_INGEST_GPASS_PASSWORD' }, oauth2: undefined, auth: undefined },
    );
    assert.match(password.stdout, /mail-ingest check -c gpass\.json/);

    const oauth = await cli(
      [
        'init',
        '--preset',
        'gmail',
        '--address',
        'info@example.jp',
        '--oauth',
        '--client-id',
        'abc.apps.googleusercontent.com',
        '--id',
        'goauth',
        '--out',
        'goauth.json',
      ],
      { cwd: t.dir },
    );
    assert.equal(oauth.code, 0, oauth.stderr);
    const text = await readFile(path.join(t.dir, 'goauth.json'), 'utf8');
    const [m] = JSON.parse(text).mailboxes;
    assert.deepEqual(
      { auth: m.auth, oauth2: m.oauth2, password: m.password },
      {
        auth: 'xoauth2',
        oauth2: {
          provider: 'google',
          clientId: 'abc.apps.googleusercontent.com',
          clientSecret: { env: 'MAIL_INGEST_GOAUTH_CLIENT_SECRET' },
          refreshToken: { file: 'tokens/goauth.json' },
        },
        password: undefined,
      },
    );
    assert.doesNotMatch(text, /"(?:password|clientSecret|refreshToken)":\s*"/);
    assert.match(oauth.stdout, /export MAIL_INGEST_GOAUTH_CLIENT_SECRET=\.\.\./);
    assert.match(oauth.stdout, /mail-ingest auth --config goauth\.json --mailbox goauth/);

    const contradicts = await cli(
      [
        'init',
        '--preset',
        'gmail',
        '--address',
        'info@example.jp',
        '--oauth',
        '--client-id',
        'c',
        '--password-env',
        'X',
        '--out',
        'gx.json',
      ],
      { cwd: t.dir },
    );
    assert.equal(contradicts.code, 2);
    assert.match(contradicts.stderr, /--password-env: .* OAuth 2 here, which needs no password/);
  });

  it("Gmail on a terminal: asks app password or OAuth 2, then for the client id and the secret's variable", async () => {
    // Answers: address, id (default), store (default), OAuth? y, client id, client secret variable (default), out.
    const answers = ['info@example.jp', 'gasked', '', 'y', 'abc.apps.googleusercontent.com', '', 'gasked.json', ''].join('\n');
    const r = await cliWithInput(['init', '--interactive', '--preset', 'gmail'], answers, { cwd: t.dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /Sign in with OAuth 2 instead of an app password\? \(y\/n\)/);
    assert.match(r.stderr, /OAuth client ID \/ クライアントID/);
    const [m] = JSON.parse(await readFile(path.join(t.dir, 'gasked.json'), 'utf8')).mailboxes;
    assert.deepEqual(m.oauth2, {
      provider: 'google',
      clientId: 'abc.apps.googleusercontent.com',
      clientSecret: { env: 'MAIL_INGEST_GASKED_CLIENT_SECRET' },
      refreshToken: { file: 'tokens/gasked.json' },
    });
    assert.match(r.stdout, /mail-ingest auth --config gasked\.json --mailbox gasked/);
  });

  it('without a terminal, what is missing is named by its flags (exit 2); an existing file is kept', async () => {
    const none = await cli(['init'], { cwd: t.dir });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /init needs --preset/);
    const kagoya = await cli(['init', '--preset', 'kagoya'], { cwd: t.dir });
    assert.equal(kagoya.code, 2);
    assert.match(kagoya.stderr, /--user \(the account name, e\.g\. kir000000\.info\)/);
    const xserver = await cli(['init', '--preset', 'xserver', '--address', 'info@example.jp'], { cwd: t.dir });
    assert.match(xserver.stderr, /--host \(e\.g\. sv12345\.xserver\.jp\)/);
    const unknown = await cli(['init', '--preset', 'ocm'], { cwd: t.dir });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no preset "ocm"; known: ocn, biglobe/);
    const bad = await cli(['init', '--preset', 'gmail', '--address', 'a@gmail.com', '--id', '../x', '--out', 'bad.json', '--no-check'], {
      cwd: t.dir,
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--id: must be 1-64 characters/);
    const exists = await cli(['init', '--preset', 'gmail', '--address', 'a@gmail.com', '--out', 'flags.json', '--no-check'], {
      cwd: t.dir,
    });
    assert.equal(exists.code, 2);
    assert.match(exists.stderr, /flags\.json exists; choose another --out, or --force/);
    assert.equal(JSON.parse(await readFile(path.join(t.dir, 'flags.json'), 'utf8')).mailboxes[0].id, 'support', 'untouched');
  });

  it('--list-presets shows each provider with host, port, TLS mode and login form', async () => {
    const r = await cli(['init', '--list-presets']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /ocn\s+OCN\s+pop\.ocn\.ne\.jp\s+995\s+implicit\s+whole address\s+yes/);
    assert.match(r.stdout, /kagoya\s+KAGOYA\s+pop\.kagoya\.net\s+995\s+implicit\s+account name \(e\.g\. kir000000\.info\)\s+no/);
    assert.match(r.stdout, /microsoft365\s+Microsoft 365/);
  });
});
