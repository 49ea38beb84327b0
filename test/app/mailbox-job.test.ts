import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, parseConfig } from '../../lib/config/index.ts';
import { toMailboxJob } from '../../lib/app/index.ts';
import type { MailboxConfig } from '../../lib/config/index.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'mailbox-job-test-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

const mailboxOf = (over: Record<string, unknown>, defaults?: Record<string, unknown>): MailboxConfig =>
  parseConfig({ store: { type: 'fs', dir: 'd' }, ...(defaults ? { defaults } : {}), mailboxes: [{ id: 'support', host: 'pop.example.jp', user: 'u', password: 'p', ...over }] }, { baseDir: dir }).mailboxes[0]!;

describe('toMailboxJob', () => {
  it('maps the config and resolved credentials to connect options, reading the CA file', async () => {
    const cfg = await loadConfig(join(FIXTURES, 'minimal.json'));
    const job = await toMailboxJob(cfg.mailboxes[0]!, { password: 'resolved' }, cfg.defaults);
    assert.deepEqual(job, {
      id: 'support',
      connect: {
        host: 'pop.example.jp', port: 995, tls: 'implicit',
        ca: '-----BEGIN CERTIFICATE-----\nMIIBfixture0notarealcertificate0onlyforconfigtests\n-----END CERTIFICATE-----\n',
        allowInsecureAuth: false, user: 'support@example.jp', password: 'resolved', auth: 'auto', pipelining: true,
      },
      retention: 'keep', maxMessageBytes: 104857600, deleteOversized: false, acceptUidlReset: false,
    });
  });

  it('carries every option: servername, token, auth, timeouts, limits, retention', async () => {
    const m = mailboxOf({
      servername: 'mail.example.jp', auth: 'xoauth2', accessToken: { env: 'T' }, pipelining: false, tls: 'starttls',
      timeouts: { idleMs: 1000 }, retention: { deleteAfterDays: 7 }, maxMessagesPerRun: 5, deleteOversized: true, acceptUidlReset: true,
    }, { maxMessageBytes: 1000 });
    const job = await toMailboxJob(m, { accessToken: 'tok', password: 'pw' });
    assert.deepEqual(job.connect, {
      host: 'pop.example.jp', port: 110, tls: 'starttls', servername: 'mail.example.jp', allowInsecureAuth: false, user: 'u',
      password: 'pw', accessToken: 'tok', auth: 'xoauth2', pipelining: false, timeouts: { idleMs: 1000 },
    });
    assert.deepEqual({ ...job, connect: undefined }, {
      id: 'support', connect: undefined, retention: { deleteAfterDays: 7 }, maxMessageBytes: 1000, maxMessagesPerRun: 5,
      deleteOversized: true, acceptUidlReset: true,
    });
  });

  it('accepts inline PEM text', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    assert.equal((await toMailboxJob(mailboxOf({ ca: pem }), { password: 'p' })).connect.ca, pem);
  });

  it('reports a missing or non-PEM CA file as a ConfigError naming the mailbox', async () => {
    await assert.rejects(toMailboxJob(mailboxOf({ ca: 'missing.pem' }), { password: 'p' }), (e: unknown) =>
      e instanceof ConfigError && /mailbox "support": cannot read CA file .*missing\.pem \(ENOENT\)/.test(e.message));
    await writeFile(join(dir, 'not-pem.txt'), 'hello');
    await assert.rejects(toMailboxJob(mailboxOf({ ca: 'not-pem.txt' }), { password: 'p' }), (e: unknown) =>
      e instanceof ConfigError && /holds no PEM certificate/.test(e.message));
  });

  it('refuses a job without credentials', async () => {
    await assert.rejects(toMailboxJob(mailboxOf({}), {}), ConfigError);
  });
});
