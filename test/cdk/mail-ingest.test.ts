/**
 * MailIngest, fine-grained: GIVEN two mailboxes, an alarm email and one processor, WHEN synthesized, THEN every
 * resource has the security and reliability properties the design promises. One synthesis for the whole file.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MailIngest } from '../../cdk/mail-ingest.ts';
import {
  actionsOf,
  flat,
  newStack,
  onlyResource,
  resourcesOf,
  statementsOfRole,
  STUB_ENTRY,
  twoMailboxConfig,
  type StatementJson,
} from './helpers.ts';
import { deployedConfig } from './deployed-config.ts';

let template: Template;
let assetDir: string;
let ids: { key: string; bucket: string; logs: string; pollQueue: string; pollDlq: string; ticketsQueue: string };

before(() => {
  // GIVEN
  const { app, stack } = newStack('Ingest');
  const ingest = new MailIngest(stack, 'MailIngest', {
    config: twoMailboxConfig(),
    alarmEmail: 'ops@example.jp',
    entries: { dispatcher: STUB_ENTRY, poller: STUB_ENTRY },
  });
  ingest.addProcessor('tickets', {
    entry: STUB_ENTRY,
    filter: { autoReply: false, bounce: false },
    outputPrefix: 'tickets/',
    maxConcurrency: 5,
  });
  // WHEN
  const assembly = app.synth();
  template = Template.fromJSON(assembly.getStackByName('Ingest').template);
  assetDir = assembly.directory;
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  ids = {
    key: id(ingest.encryptionKey as never),
    bucket: id(ingest.archiveBucket),
    logs: id(ingest.accessLogsBucket),
    pollQueue: id(ingest.pollQueue),
    pollDlq: id(ingest.pollDeadLetterQueue),
    ticketsQueue: id(ingest.processors[0]!.queue),
  };
});

const OUR_FUNCTIONS = ['Dispatcher', 'Poller', 'Processortickets'];

describe('archive bucket', () => {
  it('is encrypted with a rotating customer-managed key that is retained', () => {
    template.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [ids.key, 'Arn'] } },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
  });

  it('is versioned, private, ACL-less, access-logged and retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketName: Match.absent(),
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: { DestinationBucketName: { Ref: ids.logs }, LogFilePrefix: 'archive/' },
        ObjectLockEnabled: Match.absent(),
      }),
    });
  });

  it('moves raw mail to Glacier Instant Retrieval after 90 days, expires staging after 1 day, aborts stale uploads, expires old versions', () => {
    const [, bucket] = onlyResource(template, 'AWS::S3::Bucket', ids.bucket);
    const rules = bucket.Properties['LifecycleConfiguration'].Rules as Array<Record<string, any>>;
    assert.deepEqual(
      rules.find((r) => r.Id === 'raw-to-glacier-instant-retrieval'),
      {
        Id: 'raw-to-glacier-instant-retrieval',
        Prefix: 'raw/',
        Status: 'Enabled',
        Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
      },
    );
    assert.deepEqual(
      rules.find((r) => r.Id === 'expire-staging'),
      {
        Id: 'expire-staging',
        Prefix: 'staging/',
        Status: 'Enabled',
        ExpirationInDays: 1,
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      },
    );
    assert.equal(rules.find((r) => r.Id === 'abort-incomplete-multipart-uploads')?.AbortIncompleteMultipartUpload.DaysAfterInitiation, 1);
    assert.equal(rules.find((r) => r.Id === 'expire-noncurrent-versions')?.NoncurrentVersionExpiration.NoncurrentDays, 365);
    assert.ok(
      rules.every((r) => r.ExpirationInDays === undefined || r.Prefix === 'staging/'),
      'only staging/ objects ever expire',
    );
  });

  it('refuses any request without TLS, on the archive and on the log bucket', () => {
    for (const bucketId of [ids.bucket, ids.logs]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Principal: { AWS: '*' },
            }),
          ]),
        },
      });
    }
  });

  it('keeps access logs in a separate private, S3-encrypted, retained bucket that only log delivery writes to', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids.logs },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:PutObject',
            Principal: { Service: 'logging.s3.amazonaws.com' },
          }),
        ]),
      },
    });
  });
});

describe('queues', () => {
  it('poll jobs: FIFO without content-based deduplication, visibility six times the poller timeout, dead letters after 5 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: 1800,
      KmsMasterKeyId: { 'Fn::GetAtt': [ids.key, 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [ids.pollDlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: Match.absent(),
    });
  });

  it('every queue is encrypted with the customer-managed key and refuses requests without TLS', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    assert.equal(queues.length, 4, 'poll jobs and one processor, each with a dead-letter queue');
    for (const [id, q] of queues) {
      assert.deepEqual(q.Properties['KmsMasterKeyId'], { 'Fn::GetAtt': [ids.key, 'Arn'] }, id);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  it('every consumed queue has a dead-letter queue (maxReceiveCount >= 5) and a visibility timeout >= 6 x its consumer timeout', () => {
    const functions = Object.fromEntries(resourcesOf(template, 'AWS::Lambda::Function'));
    const queues = Object.fromEntries(resourcesOf(template, 'AWS::SQS::Queue'));
    const mappings = resourcesOf(template, 'AWS::Lambda::EventSourceMapping');
    assert.equal(mappings.length, 2);
    for (const [, m] of mappings) {
      const queue = queues[m.Properties['EventSourceArn']['Fn::GetAtt'][0]]!;
      const fn = functions[m.Properties['FunctionName'].Ref]!;
      assert.ok(queue.Properties['VisibilityTimeout'] >= 6 * fn.Properties['Timeout']);
      assert.ok(queue.Properties['RedrivePolicy'].maxReceiveCount >= 5);
      assert.deepEqual(m.Properties['FunctionResponseTypes'], ['ReportBatchItemFailures']);
    }
  });

  it('the poller takes one poll job at a time, at most 10 mailboxes at once', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [ids.pollQueue, 'Arn'] },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 10 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('functions', () => {
  const ours = () => resourcesOf(template, 'AWS::Lambda::Function').filter(([id]) => OUR_FUNCTIONS.some((f) => id.includes(f)));

  it('run Node.js 24 on arm64 with explicit memory and timeout, X-Ray, JSON logs into their own log group, Powertools settings', () => {
    assert.equal(ours().length, 3);
    for (const [id, fn] of ours()) {
      const p = fn.Properties;
      assert.equal(p['Runtime'], 'nodejs24.x', id);
      assert.deepEqual(p['Architectures'], ['arm64'], id);
      assert.equal(p['Handler'], 'index.handler', id);
      assert.ok(Number.isInteger(p['MemorySize']) && Number.isInteger(p['Timeout']), id);
      assert.deepEqual(p['TracingConfig'], { Mode: 'Active' }, id);
      assert.equal(p['LoggingConfig'].LogFormat, 'JSON', id);
      assert.ok(p['LoggingConfig'].LogGroup.Ref, id);
      const env = p['Environment'].Variables;
      assert.equal(env.POWERTOOLS_METRICS_NAMESPACE, 'MailIngest', id);
      assert.match(env.POWERTOOLS_SERVICE_NAME, /^mail-ingest-/, id);
      assert.equal(env.LOG_LEVEL, 'INFO', id);
      assert.equal(env.NODE_OPTIONS, '--enable-source-maps', id);
    }
  });

  it('the dispatcher knows the config object and the poll queue; the poller the config object', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('dispatcher'),
      Timeout: 60,
      MemorySize: 256,
      Environment: {
        Variables: Match.objectLike({
          CONFIG_BUCKET: { Ref: ids.bucket },
          CONFIG_KEY: 'config/mail-ingest.json',
          POLL_QUEUE_URL: { Ref: ids.pollQueue },
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('poller'),
      Timeout: 300,
      MemorySize: 1024,
      Environment: { Variables: Match.objectLike({ CONFIG_BUCKET: { Ref: ids.bucket }, CONFIG_KEY: 'config/mail-ingest.json' }) },
    });
  });

  it('processors know the archive bucket and their output prefix', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'mail-ingest processor tickets',
      Environment: {
        Variables: Match.objectLike({
          ARCHIVE_BUCKET: { Ref: ids.bucket },
          OUTPUT_PREFIX: 'tickets/',
          POWERTOOLS_SERVICE_NAME: 'mail-ingest-tickets',
        }),
      },
    });
  });

  it('log groups keep logs for a month', () => {
    const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
    assert.equal(groups.length, 4, 'three functions and the config deployment');
    for (const [id, g] of groups) assert.equal(g.Properties['RetentionInDays'], 30, id);
  });

  it('roles carry no AWS managed policy', () => {
    for (const [id, role] of resourcesOf(template, 'AWS::IAM::Role')) assert.equal(role.Properties['ManagedPolicyArns'], undefined, id);
  });
});

describe('least privilege', () => {
  const objectArn = (prefix: string) => `<${ids.bucket}.Arn>/${prefix}`;
  const resourcesFor = (statements: StatementJson[], action: string) =>
    statements
      .filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes(action))
      .flatMap((s) => [s.Resource].flat().map(flat))
      .sort();

  it('the poller writes raw/, staging/, state/ and claims/ and reads raw/, staging/, state/ and the config, and never deletes', () => {
    const st = statementsOfRole(template, 'PollerRole');
    assert.deepEqual(resourcesFor(st, 's3:PutObject'), ['claims/*', 'raw/*', 'staging/*', 'state/*'].map(objectArn));
    assert.deepEqual(resourcesFor(st, 's3:AbortMultipartUpload'), ['claims/*', 'raw/*', 'staging/*', 'state/*'].map(objectArn));
    assert.deepEqual(resourcesFor(st, 's3:GetObject'), ['config/mail-ingest.json', 'raw/*', 'staging/*', 'state/*'].map(objectArn));
    const list = st.find((s) => [s.Action].flat().includes('s3:ListBucket'))!;
    assert.deepEqual(list.Condition, { StringLike: { 's3:prefix': ['raw/*', 'staging/*', 'state/*', 'claims/*'] } });
    const actions = actionsOf(st);
    assert.ok(!actions.some((a) => /^s3:Delete|\*/.test(a)), `no delete and no wildcard action: ${actions.join(', ')}`);
    assert.deepEqual(resourcesFor(st, 'kms:GenerateDataKey'), [`<${ids.key}.Arn>`]);
  });

  it("the poller reads exactly the mailboxes' secrets: a name as NAME-??????, an ARN as given", () => {
    const st = statementsOfRole(template, 'PollerRole');
    assert.deepEqual(
      resourcesFor(st, 'secretsmanager:GetSecretValue'),
      [
        'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:mail-ingest/support-??????',
        'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mail-ingest/sales-AbCdEf',
        'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mail-ingest/sales-AbCdEf-??????',
      ].sort(),
    );
  });

  it('the poller may send to each processor queue and read its attributes (the claim-check size limit)', () => {
    const st = statementsOfRole(template, 'PollerRole');
    assert.deepEqual(resourcesFor(st, 'sqs:SendMessage'), [`<${ids.ticketsQueue}.Arn>`]);
    assert.deepEqual(resourcesFor(st, 'sqs:GetQueueAttributes'), [`<${ids.pollQueue}.Arn>`, `<${ids.ticketsQueue}.Arn>`].sort());
  });

  it('the dispatcher reads only the config object and sends only to the poll queue', () => {
    const st = statementsOfRole(template, 'DispatcherRole');
    assert.deepEqual(resourcesFor(st, 's3:GetObject'), [objectArn('config/mail-ingest.json')]);
    assert.deepEqual(resourcesFor(st, 'sqs:SendMessage'), [`<${ids.pollQueue}.Arn>`]);
    assert.ok(!actionsOf(st).some((a) => a.startsWith('s3:') && a !== 's3:GetObject'));
    assert.ok(!actionsOf(st).includes('secretsmanager:GetSecretValue'));
  });

  it('a processor reads raw/, claims/ and its own output, writes only its own output, never deletes', () => {
    const st = statementsOfRole(template, 'ProcessorticketsHandlerRole');
    assert.deepEqual(resourcesFor(st, 's3:GetObject'), ['claims/*', 'raw/*', 'tickets/*'].map(objectArn));
    assert.deepEqual(resourcesFor(st, 's3:PutObject'), [objectArn('tickets/*')]);
    assert.ok(!actionsOf(st).some((a) => /^s3:Delete/.test(a)));
    assert.deepEqual(resourcesFor(st, 'sqs:ReceiveMessage'), [`<${ids.ticketsQueue}.Arn>`]);
  });

  it('the config writer may put the config object and nothing else, and never deletes', () => {
    const st = statementsOfRole(template, 'ConfigWriterRole');
    assert.deepEqual(resourcesFor(st, 's3:PutObject'), [objectArn('config/mail-ingest.json')]);
    assert.ok(!actionsOf(st).some((a) => /^s3:Delete|^s3:\*|^\*$/.test(a)), `no delete and no S3 wildcard: ${actionsOf(st).join(', ')}`);
  });
});

describe('schedule and runtime config', () => {
  it('an EventBridge rule invokes the dispatcher every 5 minutes, with retries', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
  });

  it('writes config/mail-ingest.json to the archive with the archive key, filled in at deploy time with the store and the processors', () => {
    const { properties, doc } = deployedConfig(template, assetDir);
    assert.deepEqual(properties['Bucket'], { Ref: ids.bucket });
    assert.equal(properties['Key'], 'config/mail-ingest.json');
    assert.deepEqual(properties['KmsKeyId'], { 'Fn::GetAtt': [ids.key, 'Arn'] });
    assert.deepEqual(doc.store, { type: 's3', bucket: `<${ids.bucket}>`, prefix: '', kmsKeyId: `<${ids.key}.Arn>` });
    assert.deepEqual(doc.publish, {
      type: 'sqs',
      targets: [{ name: 'tickets', queueUrl: `<${ids.ticketsQueue}>`, filter: { autoReply: false, bounce: false } }],
    });
    assert.deepEqual(doc.mailboxes, twoMailboxConfig().mailboxes);
    assert.deepEqual(doc.defaults, twoMailboxConfig().defaults);
  });
});

describe('observability', () => {
  const alarms = () => resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

  it('one poll-failure alarm per mailbox, on the PollFailures metric of that mailbox', () => {
    for (const mailbox of ['support', 'sales']) {
      const alarm = alarms().find(
        (a) => a['Metrics']?.[0]?.Expression === `SELECT SUM(PollFailures) FROM MailIngest WHERE mailbox = '${mailbox}'`,
      );
      assert.ok(alarm, mailbox);
      assert.equal(alarm['Threshold'], 1);
      assert.equal(alarm['ComparisonOperator'], 'GreaterThanOrEqualToThreshold');
      assert.equal(alarm['TreatMissingData'], 'notBreaching');
      assert.equal(alarm['Metrics'][0].Period, 300);
    }
  });

  it('an alarm on authentication failures over all mailboxes', () => {
    assert.ok(alarms().some((a) => a['Metrics']?.[0]?.Expression === 'SELECT SUM(AuthFailures) FROM MailIngest'));
  });

  it('an alarm on any message in each dead-letter queue, and on the age of the oldest message in each queue', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    for (const [id, q] of queues) {
      const isDlq = q.Properties['RedrivePolicy'] === undefined;
      const metric = isDlq ? 'ApproximateNumberOfMessagesVisible' : 'ApproximateAgeOfOldestMessage';
      assert.ok(
        alarms().some(
          (a) =>
            a['MetricName'] === metric &&
            a['Namespace'] === 'AWS/SQS' &&
            JSON.stringify(a['Dimensions']) === JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }]) &&
            (!isDlq || (a['Threshold'] === 1 && a['ComparisonOperator'] === 'GreaterThanOrEqualToThreshold')),
        ),
        `${metric} alarm for ${id}`,
      );
    }
  });

  it('every alarm notifies an encrypted, TLS-only topic with the email subscribed', () => {
    const [topicId, topic] = resourcesOf(template, 'AWS::SNS::Topic')[0]!;
    assert.ok(topic.Properties['KmsMasterKeyId']);
    for (const a of alarms()) assert.deepEqual(a['AlarmActions'], [{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.jp', TopicArn: { Ref: topicId } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } })]) },
    });
  });

  it('a dashboard with the ingest metrics, failures by mailbox and every queue', () => {
    const [, dash] = resourcesOf(template, 'AWS::CloudWatch::Dashboard')[0]!;
    const body = flat(dash.Properties['DashboardBody']);
    for (const text of [
      'MessagesIngested',
      'BytesIngested',
      'PollDurationMs',
      'GROUP BY mailbox',
      'AuthFailures',
      'PollJobs: queue',
      'Processor-tickets: queue',
    ]) {
      assert.ok(body.includes(text), text);
    }
  });
});
