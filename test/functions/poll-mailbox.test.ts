import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { parseConfig } from '../../lib/config/parse-config.ts';
import type { MailboxRunSummary, RunMailboxOptions } from '../../lib/ingest/pipeline-types.ts';
import { MailboxRunError, pollMailbox, type PollDeps } from '../../functions/commons/poll-mailbox.ts';
import type { MailboxLeases } from '../../lib/store/types.ts';

const config = parseConfig(
  {
    store: { type: 's3', bucket: 'archive-bucket', prefix: 'mail' },
    publish: { type: 'sqs', targets: [{ name: 't', queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/t' }] },
    mailboxes: [
      { id: 'support', host: 'pop.example.jp', user: 'support@example.jp', password: { secretId: 'mail-ingest/support' } },
      { id: 'off', host: 'pop.example.jp', user: 'off', password: { secretId: 'mail-ingest/off' }, enabled: false },
    ],
  },
  { baseDir: '/' },
);

const summary = (over: Partial<MailboxRunSummary> = {}): MailboxRunSummary => ({
  mailbox: 'support',
  ok: true,
  new: 2,
  stored: 2,
  published: 2,
  deleted: 0,
  skipped: 0,
  oversized: 0,
  failed: 0,
  bytes: 2048,
  durationMs: 120,
  quitOk: true,
  error: null,
  ...over,
});

function deps(run: (o: RunMailboxOptions) => Promise<MailboxRunSummary>, secret = 'pw-canary-91d2') {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const keys: Record<string, unknown> = {};
  const metrics: Array<{ dims: Record<string, string>; name: string; value: number }> = [];
  let dims: Record<string, string> = {};
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields: { ...keys, ...fields } });
  const logger = {
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    debug: log('debug'),
    appendKeys: (k: Record<string, unknown>) => Object.assign(keys, k),
    removeKeys: (ks: string[]) => ks.forEach((k) => delete keys[k]),
  } as unknown as Logger;
  const m = {
    addDimension: (k: string, v: string) => {
      dims[k] = v;
    },
    addMetric: (name: string, _u: unknown, value: number) => metrics.push({ dims: { ...dims }, name, value }),
    publishStoredMetrics: () => {
      dims = {};
    },
  } as unknown as Metrics;
  const secretsAsked: string[] = [];
  const d: PollDeps = {
    config: async () => config,
    secretsManager: {
      getSecretString: async (id) => {
        secretsAsked.push(id);
        return secret;
      },
    },
    adapters: () => ({ store: {} as never, state: {} as never, publisher: {} as never }),
    runMailbox: run,
    logger,
    metrics: m,
    safetyMarginMs: 30_000,
  };
  return { d, lines, metrics, secretsAsked };
}

describe('pollMailbox', () => {
  it('runs the mailbox with its resolved password and a deadline 30 s before the Lambda deadline', async () => {
    let seen: RunMailboxOptions | undefined;
    const { d, metrics, lines } = deps(async (o) => {
      seen = o;
      return summary();
    });
    const before = Date.now();

    const out = await pollMailbox({ mailboxId: 'support', scheduledAt: 't' }, 300_000, d);

    assert.equal(out.status, 'ran');
    assert.equal(seen!.job.connect.password, 'pw-canary-91d2');
    assert.equal(seen!.job.connect.host, 'pop.example.jp');
    assert.ok(seen!.deadline! >= before + 270_000 && seen!.deadline! <= Date.now() + 270_000);
    const byName = Object.fromEntries(metrics.map((x) => [x.name, x]));
    assert.equal(byName.MessagesIngested!.value, 2);
    assert.equal(byName.BytesIngested!.value, 2048);
    assert.equal(byName.PollFailures!.value, 0);
    assert.equal(byName.AuthFailures!.value, 0);
    assert.ok(metrics.every((x) => x.dims.mailbox === 'support'));
    assert.equal(lines.at(-1)!.fields.mailbox, 'support');
    assert.ok(!JSON.stringify(lines).includes('pw-canary-91d2'));
  });

  it('the deadline is the smaller of maxSessionSeconds and the time left less the margin', async () => {
    const short = parseConfig(
      {
        store: { type: 's3', bucket: 'archive-bucket' },
        publish: { type: 'sqs', targets: [{ name: 't', queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/t' }] },
        defaults: { maxSessionSeconds: 60 },
        mailboxes: [{ id: 'support', host: 'h', user: 'u', password: { secretId: 's' } }],
      },
      { baseDir: '/' },
    );
    let seen: RunMailboxOptions | undefined;
    const { d } = deps(async (o) => {
      seen = o;
      return summary();
    });
    const withShort = { ...d, config: async () => short };
    const before = Date.now();
    await pollMailbox({ mailboxId: 'support', scheduledAt: 't' }, 600_000, withShort);
    assert.ok(seen!.deadline! >= before + 60_000 && seen!.deadline! <= Date.now() + 60_000, 'maxSessionSeconds is the smaller');
    assert.ok(seen!.cutoff! >= before + 60_000 && seen!.cutoff! <= Date.now() + 60_000, 'the connection is dropped at maxSessionSeconds');
    await pollMailbox({ mailboxId: 'support', scheduledAt: 't' }, 40_000, withShort);
    assert.ok(seen!.deadline! <= Date.now() + 10_000, 'the time left less the 30 s margin is the smaller');
    assert.ok(
      seen!.cutoff! > seen!.deadline! && seen!.cutoff! <= Date.now() + 25_000,
      'dropped half the margin later, still within the invocation',
    );
  });

  it('turns a failed run into a MailboxRunError (a batch item failure) and counts an auth failure', async () => {
    const { d, metrics, lines } = deps(async () =>
      summary({ ok: false, stored: 0, error: { class: 'auth', code: 'EAUTH', message: 'login refused' } }),
    );
    await assert.rejects(
      pollMailbox({ mailboxId: 'support', scheduledAt: 't' }, 300_000, d),
      (e: unknown) => e instanceof MailboxRunError && e.code === 'EAUTH',
    );
    assert.equal(metrics.find((x) => x.name === 'AuthFailures')!.value, 1);
    assert.equal(metrics.find((x) => x.name === 'PollFailures')!.value, 1);
    assert.ok(lines.some((l) => l.level === 'error' && l.message === 'mailbox run failed'));
    assert.ok(!JSON.stringify(lines).includes('pw-canary-91d2'));
  });

  it("redacts the password from whatever the run logs, the server's words included", async () => {
    const { d, lines } = deps(async (o) => {
      o.log?.('warn', 'server said something', { response: '-ERR bad password pw-canary-91d2', nested: { list: ['PW-CANARY-91D2'] } });
      return summary();
    });
    await pollMailbox({ mailboxId: 'support', scheduledAt: 't' }, 300_000, d);
    const warned = lines.find((l) => l.message === 'server said something')!;
    assert.equal(warned.fields.response, '-ERR bad password [redacted]');
    assert.deepEqual(warned.fields.nested, { list: ['[redacted]'] });
    assert.ok(!JSON.stringify(lines).toLowerCase().includes('pw-canary-91d2'));
  });

  it('skips the mailbox while another run holds its lease: no run, no retry, one line naming the holder', async () => {
    const { d, lines, metrics } = deps(async () => assert.fail('must not run'));
    const holder = {
      mailbox: 'support',
      host: 'cli-host',
      pid: 7,
      runId: 'r-1',
      acquiredAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2999-01-01T00:00:00.000Z',
    };
    const leases: MailboxLeases = { acquire: async () => ({ acquired: false, holder }) };
    const out = await pollMailbox({ mailboxId: 'support', scheduledAt: 't' }, 300_000, {
      ...d,
      adapters: () => ({ ...(d.adapters(config) as object), leases }) as never,
    });
    assert.deepEqual(out, { status: 'skipped', reason: 'leased' });
    assert.match(lines.at(-1)!.message, /^support: skipped: another run holds this mailbox's lease \(host cli-host, pid 7, run r-1/);
    assert.equal(
      metrics.find((x) => x.name === 'PollFailures'),
      undefined,
      'not counted as a failure',
    );
  });

  it('holds the lease while the mailbox runs and releases it after', async () => {
    const events: string[] = [];
    const leases: MailboxLeases = {
      acquire: async (mailbox) => {
        events.push(`acquire ${mailbox}`);
        const record = { mailbox, host: 'h', pid: 1, runId: 'r', acquiredAt: '', expiresAt: '' };
        return {
          acquired: true,
          lease: {
            record,
            renew: async () => {
              events.push('renew');
            },
            release: async () => {
              events.push('release');
            },
          },
        };
      },
    };
    const { d } = deps(async (o) => {
      events.push(`run (signal: ${o.signal !== undefined})`);
      return summary();
    });
    await pollMailbox({ mailboxId: 'support', scheduledAt: 't' }, 300_000, {
      ...d,
      adapters: () => ({ ...(d.adapters(config) as object), leases }) as never,
    });
    assert.deepEqual(events, ['acquire support', 'run (signal: true)', 'release']);
  });

  it('a LOGIN-DELAY refusal is not redriven (it would be refused again): the next scheduled poll retries', async () => {
    const refused = summary({
      ok: false,
      stored: 0,
      error: { class: 'network', code: 'ELOGINDELAY', message: 'too soon', retryAfterSeconds: 300 },
    });
    const { d, lines } = deps(async () => refused);
    const out = await pollMailbox({ mailboxId: 'support', scheduledAt: 't' }, 300_000, d);
    assert.deepEqual(
      { status: out.status, reason: out.status === 'skipped' ? out.reason : null },
      { status: 'skipped', reason: 'login-delay' },
    );
    const warn = lines.find((l) => l.level === 'warn')!;
    assert.match(warn.message, /LOGIN-DELAY/);
    assert.equal(warn.fields.retryAfterSeconds, 300);
  });

  it('drops jobs for unknown or disabled mailboxes without asking for a secret', async () => {
    const { d, secretsAsked } = deps(async () => assert.fail('must not run'));
    assert.deepEqual(await pollMailbox({ mailboxId: 'gone', scheduledAt: 't' }, 300_000, d), {
      status: 'skipped',
      reason: 'unknown-mailbox',
    });
    assert.deepEqual(await pollMailbox({ mailboxId: 'off', scheduledAt: 't' }, 300_000, d), { status: 'skipped', reason: 'disabled' });
    assert.deepEqual(secretsAsked, []);
  });
});
