/**
 * Props that cannot be deployed fail in the constructor, with every problem in one message that quotes the bad
 * value, except a credential, which is never quoted. No synthesis happens here, so these tests are fast.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { MailIngest, type MailIngestProps } from '../../cdk/mail-ingest.ts';
import { MailIngestValidationError } from '../../cdk/validation-error.ts';
import { newStack, STUB_ENTRY, twoMailboxConfig } from './helpers.ts';

const CANARY = 'canary-Pa55w0rd-7f3c9e';
const entries = { dispatcher: STUB_ENTRY, poller: STUB_ENTRY };

function attempt(props: Partial<MailIngestProps>): MailIngestValidationError {
  const { stack } = newStack();
  try {
    new MailIngest(stack, 'MailIngest', { config: twoMailboxConfig(), entries, ...props });
  } catch (err) {
    assert.ok(err instanceof MailIngestValidationError, `expected a MailIngestValidationError, got ${String(err)}`);
    assert.equal(err.code, 'ECONFIG');
    assert.equal(err.retryable, false);
    return err;
  }
  assert.fail('the constructor accepted invalid props');
}

function withMailbox(patch: Record<string, unknown>): MailIngestProps['config'] {
  const config = twoMailboxConfig();
  return { ...config, mailboxes: [{ ...config.mailboxes[0]!, ...patch } as never, config.mailboxes[1]!] };
}

describe('MailIngest validation', () => {
  it('rejects a literal password without ever quoting it', () => {
    const err = attempt({ config: withMailbox({ password: CANARY }) });
    assert.match(err.message, /config\.mailboxes\[0\]\.password: a literal password is not allowed in a deployment/);
    assert.match(err.message, /"secretId"/);
    assert.ok(!err.message.includes(CANARY), 'the password appears in the error');
    assert.ok(!JSON.stringify(err.problems).includes(CANARY));
  });

  it('rejects an environment-variable password, naming the variable', () => {
    const err = attempt({ config: withMailbox({ password: { env: 'SUPPORT_POP3_PASSWORD' } }) });
    assert.match(err.message, /config\.mailboxes\[0\]\.password: \{ "env": "SUPPORT_POP3_PASSWORD" \} cannot be resolved in Lambda/);
  });

  it('rejects a literal OAuth access token the same way', () => {
    const err = attempt({ config: withMailbox({ accessToken: CANARY, auth: 'xoauth2' }) });
    assert.match(err.message, /config\.mailboxes\[0\]\.accessToken: a literal accessToken is not allowed/);
    assert.ok(!err.message.includes(CANARY));
  });

  it('rejects store and publish, which the construct owns', () => {
    const err = attempt({ config: { ...twoMailboxConfig(), store: { type: 'fs', dir: './data' }, publish: { type: 'local' } } as never });
    assert.match(err.message, /config\.store: is set by MailIngest/);
    assert.match(err.message, /config\.publish: is set by MailIngest/);
  });

  it('reports schema problems from the CLI schema with their path, and duplicate ids with the id', () => {
    const config = twoMailboxConfig();
    const err = attempt({
      config: { ...config, mailboxes: [config.mailboxes[0]!, { ...config.mailboxes[1]!, id: 'support', port: 70000 }] },
    });
    assert.match(err.message, /config\.mailboxes\[1\]\.port: /);
    assert.match(err.message, /config\.mailboxes\[1\]\.id: duplicate mailbox id "support"/);
  });

  it('rejects a CA file path, which does not exist in Lambda', () => {
    const err = attempt({ config: withMailbox({ ca: './certs/extra-ca.pem' }) });
    assert.match(err.message, /config\.mailboxes\[0\]\.ca: "\.\/certs\/extra-ca\.pem" is a file path/);
  });

  it('collects every conflicting prop into one message, quoting each bad value', () => {
    const { stack } = newStack('Topic');
    const err = attempt({
      schedule: Duration.seconds(90),
      pollerTimeout: Duration.minutes(20),
      pollerMemoryMiB: 100,
      pollerConcurrency: 1,
      alarmEmail: 'not-an-address',
      alarmTopic: new sns.Topic(stack, 'T'),
      archiveObjectLock: { mode: 'LEGAL' as never, days: 0 },
      archiveTransitionAfterDays: 0,
    });
    assert.match(err.message, /^MailIngest: invalid props \(9 problems\):/);
    for (const expected of [
      /schedule: must be whole minutes from 1 minute to 1 day, got 1 minute 30 seconds/,
      /pollerTimeout: must be from 30 seconds to 15 minutes, got 20 minutes/,
      /pollerMemoryMiB: must be a whole number from 256 to 10240, got 100/,
      /pollerConcurrency: must be a whole number from 2 to 1000 \(an SQS event source limit\), got 1/,
      /alarmEmail and alarmTopic: give one/,
      /alarmEmail: "not-an-address" is not an email address/,
      /archiveObjectLock\.mode: must be "GOVERNANCE" or "COMPLIANCE", got "LEGAL"/,
      /archiveObjectLock\.days: must be whole days from 1 to 36500, got 0/,
      /archiveTransitionAfterDays: must be a whole number of days, at least 1, got 0/,
    ])
      assert.match(err.message, expected);
  });

  it('refuses per-mailbox alarms for more mailboxes than a stack can hold alarms for', () => {
    const mailboxes = Array.from({ length: 101 }, (_, i) => ({
      id: `mb${i}`,
      host: 'pop.example.jp',
      user: `u${i}`,
      password: { secretId: `mail-ingest/mb${i}` },
    }));
    const err = attempt({ config: { mailboxes }, perMailboxAlarms: true, secretNamePrefix: 'mail-ingest/' });
    assert.match(err.message, /perMailboxAlarms: 101 mailboxes would need 101 alarms/);
  });

  it('asks for a secret name prefix when the exact secrets no longer fit in a policy, and checks every secret is under it', () => {
    const mailboxes = Array.from({ length: 101 }, (_, i) => ({
      id: `mb${i}`,
      host: 'pop.example.jp',
      user: `u${i}`,
      password: { secretId: `pop/mb${i}` },
    }));
    assert.match(attempt({ config: { mailboxes } }).message, /secretNamePrefix: 101 mailbox secrets do not fit in one IAM policy/);
    assert.match(
      attempt({ config: { mailboxes }, secretNamePrefix: 'mail-ingest/' }).message,
      /secretNamePrefix: the secret "pop\/mb0" is not under "mail-ingest\/"/,
    );
  });

  it('rejects a malformed secret ARN, quoting it', () => {
    const err = attempt({ config: withMailbox({ password: { secretId: 'arn:aws:s3:::not-a-secret' } }) });
    assert.match(err.message, /"arn:aws:s3:::not-a-secret" is not a Secrets Manager secret ARN/);
  });
});
