import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dovecotSkipReason, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { mail, tempDir } from '../e2e/e2e-helpers.ts';
import { spawn } from 'node:child_process';
import { BIN, cli, localMailbox, writeCliConfig } from './cli-helpers.ts';

const skip = dovecotSkipReason();

describe('mail-ingest run / check / status / replay against Dovecot', { skip: skip ?? false }, () => {
  let dovecot: DovecotServer;
  let t: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  before(async () => {
    dovecot = await startDovecot();
    t = await tempDir('cli-');
    await dovecot.seed('alice', [mail(1), mail(2), mail(3)]);
    config = await writeCliConfig(t.dir, [
      localMailbox({ id: 'support', port: dovecot.tlsPort, ca: dovecot.caFile, password: { env: 'ALICE_PW' } }),
      localMailbox({ id: 'sales', port: dovecot.tlsPort, ca: dovecot.caFile, user: 'bob', password: 'wrong-password' }),
    ]);
  });
  after(async () => {
    await dovecot?.stop();
    await t?.remove();
  });

  it('run --json ingests each mailbox; one failing mailbox gives exit 1 and an actionable line, the other still runs', async () => {
    const r = await cli(['run', '--config', config, '--json'], { env: { ALICE_PW: 'secret-alice' } });
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    const support = out.mailboxes.find((m: { mailbox: string }) => m.mailbox === 'support');
    const sales = out.mailboxes.find((m: { mailbox: string }) => m.mailbox === 'sales');
    assert.deepEqual({ ok: support.ok, stored: support.stored, published: support.published }, { ok: true, stored: 3, published: 3 });
    assert.equal(sales.ok, false);
    assert.equal(sales.error.class, 'auth');
    assert.doesNotMatch(r.stdout + r.stderr, /wrong-password|secret-alice/, 'no password is ever printed');
  });

  it('run --mailbox limits the run; a second run stores nothing; the table names every column', async () => {
    const r = await cli(['run', '--config', config, '--mailbox', 'support'], { env: { ALICE_PW: 'secret-alice' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mailbox\s+new\s+stored\s+published\s+deleted\s+skipped\s+failed\s+bytes\s+time\s+result/);
    assert.match(r.stdout, /support\s+0\s+0\s+0/);
  });

  it('a missing password variable fails that mailbox with a line naming the variable (exit 1)', async () => {
    const r = await cli(['run', '--config', config, '--mailbox', 'support'], { env: { ALICE_PW: '' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error support: .*config error \w+: .*ALICE_PW/);
  });

  it('usage and configuration errors exit 2 with every problem listed', async () => {
    const bad = path.join(t.dir, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({ store: { type: 'fs' }, mailboxes: [{ id: '../x', host: 'h', user: 'u', password: 'p', tls: 'none' }] }),
    );
    const r = await cli(['run', '--config', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /store\.dir/);
    assert.match(r.stderr, /mailboxes\[0\]\.id/);
    assert.match(r.stderr, /allowInsecureAuth/);
    assert.equal((await cli(['run', '--config', config, '--mailbox', 'nope'])).code, 2);
    assert.equal((await cli(['run'])).code, 2);
    assert.equal((await cli(['run', '--config', config, '--every', '1s'])).code, 2);
  });

  it('run --every keeps polling until SIGTERM, then finishes cleanly', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--config', config, '--mailbox', 'support', '--every', '10s', '--json'], {
      env: { ...process.env, ALICE_PW: 'secret-alice' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('"finishedAt"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(stdout, /"finishedAt"/, 'a first run completed');
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
    assert.equal(code, 0, "the waiting loop ends on SIGTERM with the last run's exit code");
  });

  it('check reports TLS, the certificate and the message count, and changes nothing', async () => {
    const r = await cli(['check', '--config', config, '--mailbox', 'support', '--json'], { env: { ALICE_PW: 'secret-alice' } });
    assert.equal(r.code, 0, r.stderr);
    const [report] = JSON.parse(r.stdout).mailboxes;
    assert.match(report.tls.protocol, /^TLSv1\.[23]$/);
    assert.equal(report.messages, 3);
    assert.ok(report.capabilities.includes('UIDL'));
  });

  it('status shows what the state holds; replay publishes the archive again under the same ids', async () => {
    const s = await cli(['status', '--config', config, '--json']);
    assert.equal(s.code, 1, `the last run of "sales" failed (wrong password): ${s.stderr}`);
    const support = JSON.parse(s.stdout).mailboxes.find((m: { mailbox: string }) => m.mailbox === 'support');
    assert.equal(support.ingested, 3);
    assert.equal(support.lastRun.ok, true);

    const eventsFile = path.join(t.dir, 'data', 'events.jsonl');
    const before = (await readFile(eventsFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    const r = await cli(['replay', '--config', config, '--mailbox', 'support', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).replayed, 3);
    const afterIds = (await readFile(eventsFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    assert.equal(afterIds.length, 6);
    assert.deepEqual([...new Set(afterIds)].sort(), [...new Set(before)].sort());
    assert.equal((await cli(['replay', '--config', config, '--since', '2026-13-01'])).code, 2);
  });
});
