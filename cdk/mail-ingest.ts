import { createHash } from 'node:crypto';
import { ArnFormat, Aspects, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ArchiveBucket, ARCHIVE_PREFIXES, type ArchiveObjectLockOptions } from './constructs/archive-bucket.ts';

export type { ArchiveObjectLockOptions };
import { ConfigDeployment, CONFIG_KEY } from './constructs/config-deployment.ts';
import { IngestFunction } from './constructs/ingest-function.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { Processor, type ProcessorOptions } from './constructs/processor.ts';
import { QueueWithDeadLetter } from './constructs/queue-with-dead-letter.ts';
import { refreshTokenSecretIdsOf, secretIdsOf, type MailIngestConfig } from './deployment-config.ts';
import { getObjects, listUnder, objectArns, putObjects, useKey } from './grants.ts';
import { flattenReference, PrefixWildcardAcknowledgements } from './nag-acknowledgements.ts';
import { HANDLER_ENTRIES } from './paths.ts';
import { secretResourceArns } from './secret-arns.ts';
import { throwIfProblems } from './validation-error.ts';
import { AUTO_PER_MAILBOX_ALARMS, validateMailIngestProps } from './mail-ingest-rules.ts';

/** Handler entries, to deploy other builds of the handlers (tests use stubs). */
export interface HandlerEntries {
  readonly dispatcher: string;
  readonly poller: string;
}

export interface MailIngestProps {
  /**
   * The mailboxes and their defaults, in the CLI's configuration schema. Credentials must be
   * `{ "secretId": "name-or-arn" }`; `store` and `publish` are set by the construct.
   */
  readonly config: MailIngestConfig;
  /**
   * How often every mailbox is polled (whole minutes, 1 minute to 1 day).
   * @default Duration.minutes(5)
   */
  readonly schedule?: Duration;
  /**
   * S3 Object Lock default retention on the archive, for an archive nobody can alter. Can only be chosen when the
   * bucket is first created.
   * @default - no Object Lock
   */
  readonly archiveObjectLock?: ArchiveObjectLockOptions;
  /**
   * Days after which raw messages move to S3 Glacier Instant Retrieval (still readable in milliseconds).
   * @default 90
   */
  readonly archiveTransitionAfterDays?: number;
  /**
   * Days a replaced or deleted object version of the archive is kept.
   * @default 365
   */
  readonly archiveNoncurrentVersionExpirationDays?: number;
  /**
   * A customer-managed key for the archive and every queue.
   * @default - a new key with yearly rotation, retained when the stack is deleted
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The poller's timeout: it stops fetching before it, commits and QUITs; a backlog drains over several runs.
   * @default Duration.minutes(5)
   */
  readonly pollerTimeout?: Duration;
  /**
   * The poller's memory in MiB (Lambda CPU grows with it; parsing is CPU-bound).
   * @default 1024
   */
  readonly pollerMemoryMiB?: number;
  /**
   * How many mailboxes are polled at the same time (2-1000).
   * @default 10
   */
  readonly pollerConcurrency?: number;
  /**
   * Email address subscribed to a new encrypted alarm topic.
   * @default - no email
   */
  readonly alarmEmail?: string;
  /**
   * An existing topic for alarm actions (instead of `alarmEmail`).
   * @default - a new topic when `alarmEmail` is set, otherwise alarms have no action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * One PollFailures alarm per mailbox, or one alarm for all (the dashboard then shows which mailbox).
   * @default - per mailbox up to 25 mailboxes, one alarm above
   */
  readonly perMailboxAlarms?: boolean;
  /**
   * The CloudWatch dashboard's name, stable so that runbooks and bookmarks can point at it.
   * @default - `<stack name>-mail-ingest`
   */
  readonly dashboardName?: string;
  /**
   * Retention of the functions' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * LOG_LEVEL of every function (Powertools levels).
   * @default 'INFO'
   */
  readonly logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';
  /**
   * Grant the poller every secret whose name starts with this prefix instead of each secret exactly. Needed
   * above 100 secrets, where the exact list no longer fits in an IAM policy. Every mailbox secret must be under it.
   * @default - each mailbox secret exactly
   */
  readonly secretNamePrefix?: string;
  /**
   * Handler entries.
   * @default - functions/dispatcher.ts and functions/poller.ts
   */
  readonly entries?: HandlerEntries;
}

/**
 * An IAM statement id for `id`: Sids are alphanumeric, so punctuation is dropped, and a short hash of the id keeps
 * ids that differ only in punctuation (`a-b`, `ab`) apart (a policy with two equal Sids fails to deploy).
 */
export function statementId(prefix: string, id: string): string {
  const alnum = id.replace(/[^A-Za-z0-9]/g, '');
  return alnum === id ? `${prefix}${id}` : `${prefix}${alnum}${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
}

/**
 * The whole pipeline: a schedule, a dispatcher that queues one poll job per mailbox on a FIFO queue (grouped by
 * mailbox, so a mailbox is never polled twice at once), the poller that stores raw mail in the archive bucket
 * and publishes metadata to the processors' queues, and alarms and a dashboard.
 */
export class MailIngest extends Construct {
  readonly archiveBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly encryptionKey: kms.IKey;
  readonly pollQueue: sqs.Queue;
  readonly pollDeadLetterQueue: sqs.Queue;
  readonly dispatcher: lambda.IFunction;
  readonly poller: lambda.IFunction;
  readonly scheduleRule: events.Rule;
  readonly monitoring: Monitoring;
  /** The S3 key of the runtime configuration in the archive bucket. */
  readonly configKey = CONFIG_KEY;
  readonly #processors: Processor[] = [];
  readonly #logRetention: logs.RetentionDays;
  readonly #logLevel: string;
  readonly #pollerRole: iam.IRole;

  constructor(scope: Construct, id: string, props: MailIngestProps) {
    super(scope, id);
    throwIfProblems('MailIngest', validateMailIngestProps(props));
    this.#logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.#logLevel = props.logLevel ?? 'INFO';
    const schedule = props.schedule ?? Duration.minutes(5);
    const pollerTimeout = props.pollerTimeout ?? Duration.minutes(5);
    const entries = props.entries ?? HANDLER_ENTRIES;

    const archive = new ArchiveBucket(this, 'Archive', {
      encryptionKey: props.encryptionKey,
      transitionAfterDays: props.archiveTransitionAfterDays,
      noncurrentVersionExpirationDays: props.archiveNoncurrentVersionExpirationDays,
      objectLock: props.archiveObjectLock,
    });
    this.archiveBucket = archive.bucket;
    this.accessLogsBucket = archive.accessLogsBucket;
    this.encryptionKey = archive.encryptionKey;
    const bucket = this.archiveBucket;

    const pollQueues = new QueueWithDeadLetter(this, 'PollJobs', {
      fifo: true,
      encryptionKey: this.encryptionKey,
      consumerTimeout: pollerTimeout,
      // A poll job older than a day is stale: the schedule has queued newer ones since.
      retentionPeriod: Duration.days(1),
    });
    this.pollQueue = pollQueues.queue;
    this.pollDeadLetterQueue = pollQueues.deadLetterQueue;

    const config = new ConfigDeployment(this, 'Config', {
      bucket,
      encryptionKey: this.encryptionKey,
      config: props.config,
      targets: () => this.#processors,
      logRetention: this.#logRetention,
      logLevel: this.#logLevel,
    });

    const dispatcher = new IngestFunction(this, 'Dispatcher', {
      entry: entries.dispatcher,
      description: 'mail-ingest dispatcher: one poll job per mailbox',
      timeout: Duration.minutes(1),
      memorySize: 256,
      logRetention: this.#logRetention,
      logLevel: this.#logLevel,
      serviceName: 'mail-ingest-dispatcher',
      environment: { CONFIG_BUCKET: bucket.bucketName, CONFIG_KEY, POLL_QUEUE_URL: this.pollQueue.queueUrl },
    });
    this.dispatcher = dispatcher.function;
    dispatcher.role.addToPrincipalPolicy(getObjects(bucket, [CONFIG_KEY], 'ReadConfig'));
    dispatcher.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendPollJobs',
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        resources: [this.pollQueue.queueArn],
      }),
    );
    dispatcher.role.addToPrincipalPolicy(useKey(this.encryptionKey, 'UseKey'));
    this.dispatcher.node.addDependency(config);

    const poller = new IngestFunction(this, 'Poller', {
      entry: entries.poller,
      description: 'mail-ingest poller: POP3 to S3, metadata to SQS',
      timeout: pollerTimeout,
      memorySize: props.pollerMemoryMiB ?? 1024,
      logRetention: this.#logRetention,
      logLevel: this.#logLevel,
      serviceName: 'mail-ingest-poller',
      environment: { CONFIG_BUCKET: bucket.bucketName, CONFIG_KEY },
    });
    this.poller = poller.function;
    this.#pollerRole = poller.role;
    const { raw, staging, state, claims } = ARCHIVE_PREFIXES;
    const secretPrefixArn =
      props.secretNamePrefix === undefined
        ? undefined
        : Stack.of(this).formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${props.secretNamePrefix}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          });
    for (const statement of [
      // staging/ is read by CopyObject when a staged upload becomes its raw/ key.
      getObjects(bucket, [raw, staging, state, CONFIG_KEY], 'ReadArchiveStateAndConfig'),
      putObjects(bucket, [raw, staging, state, claims], 'WriteArchive'),
      listUnder(bucket, [raw, staging, state, claims], 'ListArchive'),
      useKey(this.encryptionKey, 'UseKey'),
      new iam.PolicyStatement({
        sid: 'ReadMailboxSecrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources:
          secretPrefixArn !== undefined ? [secretPrefixArn] : secretIdsOf(props.config).flatMap((s) => secretResourceArns(this, s)),
      }),
      // OAuth 2 rotation: a new version of exactly the refresh-token secrets, never any other (even with a prefix).
      new iam.PolicyStatement({
        sid: 'RotateRefreshTokens',
        actions: ['secretsmanager:PutSecretValue'],
        resources: refreshTokenSecretIdsOf(props.config).flatMap((s) => secretResourceArns(this, s)),
      }),
    ]) {
      if (statement.resources.length > 0) poller.role.addToPrincipalPolicy(statement);
    }
    const pollerPolicy = poller.role.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
    if (secretPrefixArn !== undefined && pollerPolicy !== undefined) {
      Validations.of(pollerPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenReference(Stack.of(this).resolve(secretPrefixArn))}]`,
        reason: `secretNamePrefix was set: the mailbox secrets are too many to list, so the poller reads the secrets named "${props.secretNamePrefix}..." and no others.`,
      });
    }
    this.poller.addEventSource(
      new SqsEventSource(this.pollQueue, {
        batchSize: 1,
        maxConcurrency: props.pollerConcurrency ?? 10,
        reportBatchItemFailures: true,
      }),
    );
    this.poller.node.addDependency(config);

    this.scheduleRule = new events.Rule(this, 'Schedule', {
      description: 'mail-ingest: queue a poll of every mailbox',
      schedule: events.Schedule.rate(schedule),
      targets: [
        new targets.LambdaFunction(this.dispatcher, {
          retryAttempts: 2,
          maxEventAge: Duration.seconds(Math.max(60, schedule.toSeconds())),
        }),
      ],
    });

    const mailboxIds = props.config.mailboxes.map((m) => m.id);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      mailboxIds,
      perMailboxAlarms: props.perMailboxAlarms ?? mailboxIds.length <= AUTO_PER_MAILBOX_ALARMS,
      dashboardName: props.dashboardName ?? `${Stack.of(this).stackName}-mail-ingest`,
      alarmEmail: props.alarmEmail,
      alarmTopic: props.alarmTopic,
      period: schedule,
    });
    this.monitoring.monitorFunction('Dispatcher', this.dispatcher, true);
    this.monitoring.monitorFunction('Poller', this.poller, false);
    if (props.config.mailboxes.some((m) => m.oauth2 !== undefined)) this.monitoring.monitorTokens();
    this.monitoring.monitorQueues('PollJobs', this.pollQueue, this.pollDeadLetterQueue, Duration.seconds(schedule.toSeconds() * 3));

    Aspects.of(this).add(
      new PrefixWildcardAcknowledgements(bucket, () => [raw, staging, state, claims, ...this.#processors.map((p) => p.outputPrefix)]),
    );
  }

  /**
   * Read access to the archived mail for a consumer that brings its own function or role: GetObject on `raw/`
   * (messages and their metadata documents) and `claims/`, listing under them, and decrypting with the archive
   * key. Never a write or a delete.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const prefixes = [ARCHIVE_PREFIXES.raw, ARCHIVE_PREFIXES.claims];
    const objects = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: objectArns(this.archiveBucket, prefixes),
    });
    const listing = iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
      resourceArns: [this.archiveBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
    });
    return objects.combine(listing).combine(this.encryptionKey.grantDecrypt(grantee));
  }

  /** The processors added so far, in order. */
  get processors(): readonly Processor[] {
    return [...this.#processors];
  }

  /**
   * Adds a downstream processor: its own queue and dead-letter queue, a function fed from it with partial batch
   * responses, and a publish target `id` (with `options.filter`) in the runtime configuration.
   */
  addProcessor(id: string, options: ProcessorOptions): Processor {
    const problems: string[] = [];
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/.test(id))
      problems.push(`id: ${JSON.stringify(id)} must be 1-80 letters, digits, "_" or "-" (it becomes the publish target name)`);
    if (this.#processors.some((p) => p.targetName === id)) problems.push(`id: a processor named ${JSON.stringify(id)} already exists`);
    const prefix = options.outputPrefix ?? `${id}/`;
    const clash = this.#processors.find((p) => p.outputPrefix.startsWith(prefix) || prefix.startsWith(p.outputPrefix));
    if (clash !== undefined)
      problems.push(
        `outputPrefix: ${JSON.stringify(prefix)} overlaps the output of processor ${JSON.stringify(clash.targetName)} (${JSON.stringify(clash.outputPrefix)})`,
      );
    throwIfProblems(`addProcessor("${id}")`, problems);

    const processor = new Processor(this, `Processor-${id}`, {
      ...options,
      name: id,
      archiveBucket: this.archiveBucket,
      encryptionKey: this.encryptionKey,
      logRetention: this.#logRetention,
      logLevel: this.#logLevel,
    });
    // The poller publishes to every target: send, and read the queue's maximum message size for the claim check.
    this.#pollerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: statementId('Publish', id),
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        resources: [processor.queue.queueArn],
      }),
    );
    this.#processors.push(processor);
    this.monitoring.monitorQueues(`Processor-${id}`, processor.queue, processor.deadLetterQueue, Duration.hours(1));
    this.monitoring.monitorFunction(`Processor-${id}`, processor.function, false);
    return processor;
  }
}
