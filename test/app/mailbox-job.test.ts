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
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailbox-job-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mailboxOf = (over: Record<string, unknown>, defaults?: Record<string, unknown>): MailboxConfig =>
  parseConfig(
    {
      store: { type: 'fs', dir: 'd' },
      ...(defaults ? { defaults } : {}),
      mailboxes: [{ id: 'support', host: 'pop.example.jp', user: 'u', password: 'p', ...over }],
    },
    { baseDir: dir },
  ).mailboxes[0]!;

describe('toMailboxJob', () => {
  it('maps the config and resolved credentials to connect options, reading the CA file', async () => {
    const cfg = await loadConfig(join(FIXTURES, 'minimal.json'));
    const job = await toMailboxJob(cfg.mailboxes[0]!, { password: 'resolved' });
    assert.deepEqual(job, {
      id: 'support',
      connect: {
        host: 'pop.example.jp',
        port: 995,
        tls: 'implicit',
        ca: '-----BEGIN CERTIFICATE-----\nMIIBfixture0notarealcertificate0onlyforconfigtests\n-----END CERTIFICATE-----\n',
        allowInsecureAuth: false,
        user: 'support@example.jp',
        password: 'resolved',
        auth: 'auto',
        pipelining: true,
      },
      retention: 'keep',
      maxMessageBytes: 104857600,
      deleteOversized: false,
      acceptUidlReset: false,
      maxSessionSeconds: 900,
    });
  });

  it('carries every option: servername, token, auth, timeouts, limits, retention', async () => {
    const m = mailboxOf(
      {
        servername: 'mail.example.jp',
        auth: 'xoauth2',
        accessToken: { env: 'T' },
        pipelining: false,
        tls: 'starttls',
        timeouts: { idleMs: 1000 },
        retention: { deleteAfterDays: 7 },
        maxMessagesPerRun: 5,
        deleteOversized: true,
        acceptUidlReset: true,
      },
      { maxMessageBytes: 1000 },
    );
    const job = await toMailboxJob(m, { accessToken: 'tok', password: 'pw' });
    assert.deepEqual(job.connect, {
      host: 'pop.example.jp',
      port: 110,
      tls: 'starttls',
      servername: 'mail.example.jp',
      allowInsecureAuth: false,
      user: 'u',
      password: 'pw',
      accessToken: 'tok',
      auth: 'xoauth2',
      pipelining: false,
      timeouts: { idleMs: 1000 },
    });
    assert.deepEqual(
      { ...job, connect: undefined },
      {
        id: 'support',
        connect: undefined,
        retention: { deleteAfterDays: 7 },
        maxMessageBytes: 1000,
        maxMessagesPerRun: 5,
        deleteOversized: true,
        acceptUidlReset: true,
        maxSessionSeconds: 900,
      },
    );
  });

  it("takes the session limits from the mailbox, else from defaults, else the built-in ones (the client's own for listings)", async () => {
    const own = await toMailboxJob(mailboxOf({ maxSessionSeconds: 60, maxListingEntries: 10, maxListingBytes: 1000 }), { password: 'p' });
    assert.deepEqual(
      { session: own.maxSessionSeconds, entries: own.connect.maxListingEntries, bytes: own.connect.maxListingBytes },
      { session: 60, entries: 10, bytes: 1000 },
    );
    const cfg = parseConfig(
      {
        store: { type: 'fs', dir: 'd' },
        defaults: { maxSessionSeconds: 120, maxListingBytes: 5000 },
        mailboxes: [
          { id: 'a', host: 'h', user: 'u', password: 'p' },
          { id: 'b', host: 'h', user: 'u', password: 'p', maxSessionSeconds: 30 },
        ],
      },
      { baseDir: dir },
    );
    const [a, b] = await Promise.all(cfg.mailboxes.map((m) => toMailboxJob(m, { password: 'p' })));
    assert.deepEqual(
      { session: a!.maxSessionSeconds, bytes: a!.connect.maxListingBytes, entries: a!.connect.maxListingEntries },
      { session: 120, bytes: 5000, entries: undefined },
    );
    assert.equal(b!.maxSessionSeconds, 30);
    assert.ok(!('maxListingEntries' in a!.connect), 'left out, so the POP3 client applies its default');
  });

  it('accepts inline PEM text', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    assert.equal((await toMailboxJob(mailboxOf({ ca: pem }), { password: 'p' })).connect.ca, pem);
  });

  it('reports a missing or non-PEM CA file as a ConfigError naming the mailbox', async () => {
    await assert.rejects(
      toMailboxJob(mailboxOf({ ca: 'missing.pem' }), { password: 'p' }),
      (e: unknown) => e instanceof ConfigError && /mailbox "support": cannot read CA file .*missing\.pem \(ENOENT\)/.test(e.message),
    );
    await writeFile(join(dir, 'not-pem.txt'), 'hello');
    await assert.rejects(
      toMailboxJob(mailboxOf({ ca: 'not-pem.txt' }), { password: 'p' }),
      (e: unknown) => e instanceof ConfigError && /holds no PEM certificate/.test(e.message),
    );
  });

  it('refuses a job without credentials', async () => {
    await assert.rejects(toMailboxJob(mailboxOf({}), {}), ConfigError);
  });
});
