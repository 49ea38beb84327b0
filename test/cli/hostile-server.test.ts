/**
 * The CLI against a server that tries to reach the operator's terminal (control bytes in CAPA words and in its
 * certificate's subject) or that echoes the password back in its -ERR lines.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTestCerts, type KeyAndCert } from '../helpers/certs.ts';
import { DEFAULT_CAPABILITIES, startFakePop3Server, type FakePop3Server } from '../helpers/fake-pop3-server.ts';
import { cli, localMailbox, writeCliConfig } from './cli-helpers.ts';

/** A leaf for localhost, signed by the test CA, whose subject carries an OSC sequence (ESC ] 0 ; ... BEL). */
function certWithControlsInSubject(dir: string): KeyAndCert {
  const ca = makeTestCerts();
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'evil.key']);
  run(['req', '-new', '-utf8', '-key', 'evil.key', '-subj', '/CN=localhost/O=evil\x1b]0;pwned\x07corp', '-out', 'evil.csr']);
  writeFileSync(path.join(dir, 'evil.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run([
    'x509',
    '-req',
    '-in',
    'evil.csr',
    '-CA',
    path.join(ca.dir, 'ca.pem'),
    '-CAkey',
    path.join(ca.dir, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'evil.ext',
    '-out',
    'evil.pem',
  ]);
  return { keyPem: readFileSync(path.join(dir, 'evil.key'), 'utf8'), certPem: readFileSync(path.join(dir, 'evil.pem'), 'utf8') };
}

// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

describe('mail-ingest check against a server with control bytes in what it says', () => {
  let dir: string;
  let server: FakePop3Server;
  let config: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hostile-check-'));
    server = await startFakePop3Server({
      mode: 'implicit',
      cert: certWithControlsInSubject(dir),
      // ESC ] 2 ; title BEL (sets the window title), and C1 CSI U+009B in UTF-8 (C2 9B: clears the screen).
      capabilities: [...DEFAULT_CAPABILITIES, 'X-\x1b]2;owned\x07', 'X-\xc2\x9b2J'],
      messages: ['Subject: hi\r\n\r\nhello\r\n'],
    });
    config = await writeCliConfig(dir, [
      localMailbox({ id: 'support', port: server.port, ca: makeTestCerts().caFile, password: { env: 'PW' } }),
    ]);
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the CAPA words and the certificate subject escaped, in the table', async () => {
    const r = await cli(['check', '--config', config], { env: { PW: 'secret' } });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, TERMINAL_CONTROL);
    assert.match(r.stdout, /X-\\x1b\]2;OWNED\\x07/);
    assert.match(r.stdout, /X-\\x9b2J/);
    assert.match(r.stdout, /O=evil\\x1b\]0;pwned\\x07corp/);
  });

  it('keeps them escaped in --json, even once a JSON reader has decoded the strings', async () => {
    const r = await cli(['check', '--config', config, '--json'], { env: { PW: 'secret' } });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, TERMINAL_CONTROL);
    const [report] = JSON.parse(r.stdout).mailboxes;
    for (const value of [...report.capabilities, report.tls.subject]) assert.doesNotMatch(value, TERMINAL_CONTROL);
    assert.ok(report.capabilities.includes('X-\\x1b]2;OWNED\\x07'));
    assert.ok(report.capabilities.includes('X-\\x9b2J'));
    assert.match(report.tls.subject, /O=evil\\x1b\]0;pwned\\x07corp/);
  });
});

describe('a server that echoes the password in its -ERR', () => {
  const PASSWORD = 'Hunter2-Canary/+=%"x';
  let dir: string;
  let server: FakePop3Server;
  let config: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hostile-echo-'));
    server = await startFakePop3Server({
      mode: 'implicit',
      messages: ['Subject: hi\r\n\r\nhello\r\n'],
      handlers: {
        // Echoes what it was sent: the SASL blob as sent and decoded, the password of USER/PASS as is.
        AUTH: (s, [, ir]) => s.err(`[AUTH] cannot log in with ${ir} (${Buffer.from(ir ?? '', 'base64').toString('utf8')})`),
        PASS: (s, _args, line) => s.err(`[AUTH] wrong password: ${line.slice(5)}`),
      },
    });
    config = await writeCliConfig(dir, [
      localMailbox({ id: 'sasl', port: server.port, ca: makeTestCerts().caFile, password: { env: 'PW' } }),
      localMailbox({ id: 'user', port: server.port, ca: makeTestCerts().caFile, password: { env: 'PW' }, auth: 'user' }),
    ]);
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const leaks = (text: string) =>
    [
      PASSWORD,
      JSON.stringify(PASSWORD).slice(1, -1),
      encodeURIComponent(PASSWORD),
      Buffer.from(`\0alice\0${PASSWORD}`).toString('base64'),
    ].filter((form) => text.toLowerCase().includes(form.toLowerCase()));

  it('run never prints it, in the table, the failure lines, text or JSON logs or --json, and never saves it in the state', async () => {
    const plain = await cli(['run', '--config', config, '--verbose'], { env: { PW: PASSWORD } });
    const json = await cli(['run', '--config', config, '--json', '--log-format', 'json'], { env: { PW: PASSWORD } });
    assert.equal(plain.code, 1);
    assert.match(json.stderr, /"level":"error".*\[redacted\]/);
    assert.match(plain.stderr, /sasl: mailbox run failed: auth error EAUTH: .*cannot log in with \[redacted\] \(\?alice\?\[redacted\]\)/);
    assert.match(plain.stderr, /user: mailbox run failed: auth error EAUTH: .*wrong password: \[redacted\]/);
    assert.deepEqual(leaks(plain.stdout + plain.stderr + json.stdout + json.stderr), []);
    const states = await Promise.all(['sasl', 'user'].map((m) => readFile(path.join(dir, 'data', 'state', `${m}.json`), 'utf8')));
    for (const s of states) assert.match(JSON.parse(s).lastError.message, /\[redacted\]/);
    assert.deepEqual(leaks(states.join('\n')), []);
    const status = await cli(['status', '--config', config]);
    assert.deepEqual(leaks(status.stdout + status.stderr), []);
    assert.ok(
      server.commands.some((c) => c.verb === 'PASS'),
      'the USER/PASS mailbox did send its password',
    );
  });

  it('check never prints it either', async () => {
    const plain = await cli(['check', '--config', config], { env: { PW: PASSWORD } });
    const json = await cli(['check', '--config', config, '--json'], { env: { PW: PASSWORD } });
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /\[redacted\]/);
    assert.deepEqual(leaks(plain.stdout + plain.stderr + json.stdout + json.stderr), []);
  });
});
