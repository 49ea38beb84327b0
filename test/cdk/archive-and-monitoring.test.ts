/**
 * The archive bucket's options and the monitoring's scaling rule, on the small constructs alone (no functions to
 * bundle, so each case synthesizes in milliseconds).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from 'aws-cdk-lib';
import nag from 'cdk-nag';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ArchiveBucket } from '../../cdk/constructs/archive-bucket.ts';
import { Monitoring } from '../../cdk/constructs/monitoring.ts';
import { MailIngest } from '../../cdk/mail-ingest.ts';
import { flat, newStack, resourcesOf, statementsOfRole, STUB_ENTRY } from './helpers.ts';

describe('ArchiveBucket options', () => {
  it('GIVEN objectLock GOVERNANCE 365 days THEN Object Lock is enabled with that default retention', () => {
    const { stack } = newStack();
    new ArchiveBucket(stack, 'Archive', { objectLock: { mode: 'GOVERNANCE', days: 365 } });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } } },
    });
  });

  it('GIVEN objectLock COMPLIANCE 2555 days THEN the retention is in compliance mode', () => {
    const { stack } = newStack();
    new ArchiveBucket(stack, 'Archive', { objectLock: { mode: 'COMPLIANCE', days: 2555 } });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } } },
    });
  });

  it('GIVEN a key and other lifecycle days THEN the bucket uses them and creates no key of its own', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    new ArchiveBucket(stack, 'Archive', {
      encryptionKey: key,
      transitionAfterDays: 30,
      noncurrentVersionExpirationDays: 3650,
      accessLogRetentionDays: 90,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
            },
          }),
        ],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'raw-to-glacier-instant-retrieval', Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }] }),
          Match.objectLike({ Id: 'expire-noncurrent-versions', NoncurrentVersionExpiration: { NoncurrentDays: 3650 } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-access-logs', ExpirationInDays: 90 })] },
    });
  });
});

describe('Monitoring', () => {
  const ids = Array.from({ length: 30 }, (_, i) => `mb${i}`);

  it('GIVEN perMailboxAlarms false THEN one PollFailures alarm covers every mailbox', () => {
    const { stack } = newStack();
    new Monitoring(stack, 'Monitoring', { mailboxIds: ids, perMailboxAlarms: false, period: Duration.minutes(10) });
    const alarms = resourcesOf(Template.fromStack(stack), 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const expressions = alarms.map((a) => a['Metrics'][0].Expression);
    assert.deepEqual(expressions.sort(), ['SELECT SUM(AuthFailures) FROM MailIngest', 'SELECT SUM(PollFailures) FROM MailIngest']);
    assert.ok(alarms.every((a) => a['Metrics'][0].Period === 600));
    assert.ok(
      alarms.every((a) => a['AlarmActions'] === undefined),
      'no topic, no action',
    );
  });

  it('GIVEN perMailboxAlarms true THEN one alarm per mailbox, each describing which mailbox failed', () => {
    const { stack } = newStack();
    new Monitoring(stack, 'Monitoring', { mailboxIds: ids.slice(0, 3), perMailboxAlarms: true, period: Duration.minutes(5) });
    const alarms = resourcesOf(Template.fromStack(stack), 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    for (const id of ids.slice(0, 3)) {
      const alarm = alarms.find((a) => a['Metrics'][0].Expression === `SELECT SUM(PollFailures) FROM MailIngest WHERE mailbox = '${id}'`);
      assert.match(alarm?.['AlarmDescription'] ?? '', new RegExp(`Mailbox "${id}" failed to poll`));
    }
  });

  it('GIVEN an existing topic THEN alarms notify it and no topic or key is created', () => {
    const { stack } = newStack();
    const topic = new sns.Topic(stack, 'Ops', { enforceSSL: true });
    new Monitoring(stack, 'Monitoring', { mailboxIds: ['a'], perMailboxAlarms: true, alarmTopic: topic, period: Duration.minutes(5) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::KMS::Key', 0);
    const topicId = stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic);
    for (const [, a] of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
      assert.deepEqual(a.Properties['AlarmActions'], [{ Ref: topicId }]);
      assert.deepEqual(a.Properties['OKActions'], [{ Ref: topicId }]);
    }
  });
});

describe('MailIngest at scale', () => {
  it('GIVEN 30 mailboxes under a secret prefix THEN one poll-failure alarm, and the poller reads the secrets under the prefix only', () => {
    const { stack } = newStack();
    const mailboxes = Array.from({ length: 30 }, (_, i) => ({
      id: `mb${i}`,
      host: 'pop.example.jp',
      user: `u${i}`,
      password: { secretId: `mail-ingest/mb${i}` },
    }));
    const ingest = new MailIngest(stack, 'MailIngest', {
      config: { mailboxes },
      secretNamePrefix: 'mail-ingest/',
      entries: { dispatcher: STUB_ENTRY, poller: STUB_ENTRY },
    });
    const pollAlarms = ingest.monitoring.alarms.filter((a) => a.node.id.startsWith('PollFailures'));
    assert.equal(pollAlarms.length, 1);
    const secrets = statementsOfRole(Template.fromStack(stack), 'PollerRole').filter((st) => st.Action === 'secretsmanager:GetSecretValue');
    assert.deepEqual(
      secrets.flatMap((st) => [st.Resource].flat().map(flat)),
      ['arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:mail-ingest/*'],
    );
    // The prefix wildcard is the operator's choice: cdk-nag finds nothing else to report.
    const violations = new nag.AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName);
    assert.deepEqual(violations, []);
  });
});
