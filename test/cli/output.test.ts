import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { tempDir } from '../e2e/e2e-helpers.ts';
import { BIN, cli, startDemoServe, type DemoServe } from './cli-helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEMO_CERT = path.join(ROOT, 'lib', 'cli', 'demo', 'certs', 'demo-server.pem');
// A local time with its offset, as the text log writes it (TZ is set to Tokyo below).
const LOCAL_STAMP = /^2\d{3}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+09:00 /;
const env = { TZ: 'Asia/Tokyo' };

/** What a person and a machine read from run, check and status, against the demo's POP3S server. */
describe('CLI output: JSON Lines, timestamps, one line per failure, TLS failures explained', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let serve: DemoServe;
  let plain: Server;
  let good: Record<string, unknown>;
  const write = async (name: string, mailboxes: Array<Record<string, unknown>>): Promise<string> => {
    const raw = JSON.parse(await readFile(serve.config, 'utf8'));
    const file = path.join(t.dir, name);
    await writeFile(file, JSON.stringify({ ...raw, mailboxes }));
    return file;
  };

  before(async () => {
    t = await tempDir('cli-output-');
    serve = await startDemoServe(t.dir);
    good = JSON.parse(await readFile(serve.config, 'utf8')).mailboxes[0];
    // A server that speaks plain POP3 at once, as on port 110, for a config that expects TLS there.
    plain = createServer((s) => {
      s.on('error', () => undefined);
      s.write('+OK POP3 server ready\r\n');
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    plain?.close();
    await serve?.stop();
    await t?.remove();
  });

  it('run: the table on stdout; on stderr each failure once, with a timestamp and what to do', async () => {
    const config = await write('two.json', [
      { ...good, id: 'support' },
      { ...good, id: 'sales', password: 'wrong-password' },
    ]);
    const r = await cli(['run', '--config', config], { env });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /support\s+8\s+8\s+8\s+0\s+0\s+0\s.*ok/);
    assert.match(r.stdout, /sales\s+0\s+0\s+0\s+0\s+0\s+0\s.*FAILED \(auth\)/);
    const lines = r.stderr.trim().split('\n');
    const failures = lines.filter((l) => l.includes('EAUTH'));
    assert.equal(failures.length, 1, `one line for the failure:\n${r.stderr}`);
    assert.match(failures[0]!, LOCAL_STAMP);
    assert.match(failures[0]!, /error sales: .*auth error EAUTH: PASS failed: -ERR \[AUTH\] invalid credentials \(check the user name/);
    for (const l of lines) assert.match(l, LOCAL_STAMP, `every log line has its time: ${l}`);
    assert.doesNotMatch(r.stdout + r.stderr, /wrong-password|demo-password/, 'no password is printed');

    const s = await cli(['status', '--config', config], { env });
    assert.equal(s.code, 1, 'status exits 1: the last run of "sales" failed');
    assert.match(s.stdout, /support\s+8\s+8\s+0\s+just now \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+09:00\)\s+ok \(8 stored, 0 deleted\)/);
    assert.match(s.stdout, /sales\s+0\s+0\s+0\s+just now .*FAILED\s+EAUTH just now: PASS failed/);
    const ok = await cli(['status', '--config', await write('one.json', [{ ...good, id: 'support' }]), '--json'], { env });
    assert.equal(ok.code, 0, 'a config whose mailboxes last ran fine: exit 0');
    assert.equal(JSON.parse(ok.stdout).ok, true);
  });

  it('--log-format json: stderr is JSON Lines (time in UTC, level, mailbox, error, hint); --json: stdout too', async () => {
    const config = await write('json.json', [
      { ...good, id: 'support' },
      { ...good, id: 'sales', password: 'wrong-password' },
    ]);
    const r = await cli(['run', '--config', config, '--json', '--log-format', 'json'], { env });
    assert.equal(r.code, 1);
    const logs = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const l of logs) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const failures = logs.filter((l) => l.error !== undefined);
    assert.equal(failures.length, 1);
    assert.deepEqual(
      { level: failures[0].level, mailbox: failures[0].mailbox, code: failures[0].error.code, cls: failures[0].error.class },
      { level: 'error', mailbox: 'sales', code: 'EAUTH', cls: 'auth' },
    );
    assert.match(failures[0].hint, /password/);
    const out = r.stdout.trim().split('\n');
    assert.equal(out.length, 1);
    const run = JSON.parse(out[0]!);
    assert.equal(run.type, 'run');
    assert.equal(run.ok, false);
    assert.ok(Date.parse(run.startedAt) <= Date.parse(run.finishedAt));
  });

  it('run --every --json prints one JSON object per run and line, ready to append to runs.jsonl', async () => {
    const config = await write('every.json', [{ ...good, id: 'every' }]);
    const child = spawn(process.execPath, [BIN, 'run', '--config', config, '--every', '10s', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 40_000;
    while (stdout.split('\n').filter(Boolean).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const runs = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(runs.length >= 2, `two runs in 40 s: ${stdout}`);
    assert.deepEqual(
      runs.slice(0, 2).map((x) => x.mailboxes[0].stored),
      [8, 0],
      'the second run finds nothing new',
    );
  });

  it('a certificate that does not verify: its subject, issuer, names and fingerprint, and "ca" to trust it; in check and in run', async () => {
    const fingerprint = new X509Certificate(await readFile(DEMO_CERT)).fingerprint256;
    const { ca: _ca, ...noCa } = good;
    const config = await write('noca.json', [{ ...noCa, id: 'noca' }]);
    for (const command of ['check', 'run']) {
      const r = await cli([command, '--config', config], { env });
      assert.equal(r.code, 1, `${command}: ${r.stderr}`);
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.includes('ETLS'));
      assert.equal(lines.length, 1, `${command} prints the failure once:\n${r.stderr}`);
      const line = lines[0]!;
      assert.match(line, /the certificate is not trusted \(unable to verify the first certificate/);
      assert.match(
        line,
        /subject CN=localhost; issuer CN=mail-ingest demo CA \(not for production\); names DNS:localhost, IP Address:127\.0\.0\.1/,
      );
      assert.ok(line.includes(fingerprint), `${command} shows the fingerprint`);
      assert.match(line, /set "ca" to its PEM file/);
      assert.doesNotMatch(r.stderr, /use-system-ca/, "Node's own hint is not shown");
    }
    const check = await cli(['check', '--config', config, '--json'], { env });
    const [report] = JSON.parse(check.stdout).mailboxes;
    assert.equal(report.certificate.fingerprint256, fingerprint);
    assert.deepEqual(report.certificate.names, ['DNS:localhost', 'IP Address:127.0.0.1']);
  });

  it('a certificate for another name suggests "servername"; a plain-text server on a TLS port suggests starttls or 995', async () => {
    const plainPort = (plain.address() as { port: number }).port;
    const config = await write('tls.json', [
      { ...good, id: 'othername', servername: 'pop.example.jp' },
      { ...good, id: 'plaintext', port: plainPort },
    ]);
    const r = await cli(['check', '--config', config], { env });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /othername: .*the certificate is not for "pop\.example\.jp".*names DNS:localhost, IP Address:127\.0\.0\.1.*set "servername"/,
    );
    assert.match(
      r.stderr,
      new RegExp(
        `plaintext: .*the server answered in plain text, not TLS \\(wrong version number\\)\\. Port ${plainPort} speaks plain POP3 first: use "tls": "starttls" on this port, or "tls": "implicit" on the server's POP3S port \\(usually 995\\)`,
      ),
    );
  });

  it('--help of every command: examples, exit codes, and where the config format and error codes are documented', async () => {
    for (const command of ['run', 'check', 'status', 'replay', 'demo', 'init']) {
      const r = await cli([command, '--help']);
      assert.equal(r.code, 0, `${command} --help`);
      assert.match(r.stdout, /\nExamples:\n {2}mail-ingest /, command);
      assert.match(r.stdout, /\nExit codes:\n {2}0 /, command);
      assert.ok(r.stdout.includes(path.join(ROOT, 'README.md')), `${command} --help names the README`);
      assert.ok(r.stdout.includes(path.join(ROOT, 'lib', 'config', 'config.schema.json')), `${command} --help names the JSON Schema`);
      assert.ok(r.stdout.includes(path.join(ROOT, 'docs', 'errors.md')), `${command} --help names the error codes`);
    }
    const v = await cli(['--version']);
    assert.equal(v.stdout.trim(), JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')).version);
  });
});
