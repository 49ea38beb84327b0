import { Duration, Token } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TargetFilter as ConfigTargetFilter } from '../../lib/config/index.ts';
import { getObjects, listUnder, putObjects, useKey } from '../grants.ts';
import { throwIfProblems } from '../validation-error.ts';
import { ARCHIVE_PREFIXES } from './archive-bucket.ts';
import { IngestFunction } from './ingest-function.ts';
import { MIN_MAX_RECEIVE_COUNT, QueueWithDeadLetter } from './queue-with-dead-letter.ts';

/** Which metadata documents a processor receives: every condition given must hold (lib/config's schema). */
export type TargetFilter = ConfigTargetFilter;

/** What a caller of `MailIngest.addProcessor` chooses. */
export interface ProcessorOptions {
  /**
   * The TypeScript handler to bundle and deploy (exporting `handler`). Give this or `fn`.
   * @default - none; `fn` must be given
   */
  readonly entry?: string;
  /**
   * An existing function to subscribe instead of deploying `entry`. It gets the queue, read access to the
   * archive and write access to `outputPrefix` (when it has a role this stack can change).
   * @default - none; `entry` must be given
   */
  readonly fn?: lambda.IFunction;
  /**
   * Only documents matching this filter are sent to the processor.
   * @default - every document
   */
  readonly filter?: TargetFilter;
  /**
   * Key prefix in the archive bucket where the processor writes its output (OUTPUT_PREFIX).
   * @default `<id>/`
   */
  readonly outputPrefix?: string;
  /**
   * Records per invocation (1-10,000; above 10 needs `maxBatchingWindow`).
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * How long to gather records before invoking.
   * @default - none for batchSize up to 10, otherwise 1 second
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Upper bound on concurrent invocations from the queue (2-1,000).
   * @default - no limit beyond the account's concurrency
   */
  readonly maxConcurrency?: number;
  /**
   * The function timeout. With `fn`, give the existing function's timeout: the queue's visibility timeout is
   * six times it.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Memory of the deployed function (only with `entry`).
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Extra environment variables of the deployed function (only with `entry`).
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Receives before a record goes to the dead-letter queue (at least 5).
   * @default 5
   */
  readonly maxReceiveCount?: number;
}

/** What `MailIngest` adds to the caller's options. */
export interface ProcessorProps extends ProcessorOptions {
  /**
   * The publish target name in the runtime config, and the function's service name.
   * @default - the construct id
   */
  readonly name?: string;
  readonly archiveBucket: s3.IBucket;
  readonly encryptionKey: kms.IKey;
  /** @default logs.RetentionDays.ONE_MONTH (from MailIngest) */
  readonly logRetention: logs.RetentionDays;
  /** @default 'INFO' (from MailIngest) */
  readonly logLevel: string;
}

const RESERVED_ENV = new Set(['ARCHIVE_BUCKET', 'OUTPUT_PREFIX', 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'LOG_LEVEL']);
const LAYOUT_ROOTS = new Set(Object.values(ARCHIVE_PREFIXES));

function validate(id: string, props: ProcessorProps): string[] {
  const problems: string[] = [];
  if ((props.entry === undefined) === (props.fn === undefined)) {
    problems.push(
      props.entry === undefined
        ? 'give either "entry" (a handler to deploy) or "fn" (an existing function)'
        : 'give either "entry" or "fn", not both',
    );
  }
  if (props.fn !== undefined) {
    if (props.timeout === undefined)
      problems.push(
        '"timeout" is required with "fn": it must be the function\'s timeout, so the queue\'s visibility timeout can be six times it',
      );
    if (props.memorySize !== undefined)
      problems.push(`"memorySize" (${props.memorySize}) applies only to a function deployed from "entry"`);
    if (props.environment !== undefined) problems.push('"environment" applies only to a function deployed from "entry"');
  }
  const batch = props.batchSize ?? 10;
  if (!Token.isUnresolved(batch) && (!Number.isInteger(batch) || batch < 1 || batch > 10_000)) {
    problems.push(`"batchSize" must be a whole number from 1 to 10000, got ${batch}`);
  }
  if (
    props.maxConcurrency !== undefined &&
    (!Number.isInteger(props.maxConcurrency) || props.maxConcurrency < 2 || props.maxConcurrency > 1000)
  ) {
    problems.push(`"maxConcurrency" must be a whole number from 2 to 1000, got ${props.maxConcurrency}`);
  }
  const timeout = props.timeout?.toSeconds();
  if (timeout !== undefined && (timeout < 1 || timeout > 900)) {
    problems.push(`"timeout" must be from 1 second to 15 minutes, got ${props.timeout!.toHumanString()}`);
  } else if (timeout !== undefined && timeout * 6 > 43_200) {
    problems.push(
      `"timeout" ${props.timeout!.toHumanString()} needs a visibility timeout of ${timeout * 6} s, above SQS's 12 hours; use at most 2 hours`,
    );
  }
  if (props.memorySize !== undefined && (!Number.isInteger(props.memorySize) || props.memorySize < 128 || props.memorySize > 10_240)) {
    problems.push(`"memorySize" must be 128-10240 MB, got ${props.memorySize}`);
  }
  if (props.maxReceiveCount !== undefined && (!Number.isInteger(props.maxReceiveCount) || props.maxReceiveCount < MIN_MAX_RECEIVE_COUNT)) {
    problems.push(`"maxReceiveCount" must be a whole number of at least ${MIN_MAX_RECEIVE_COUNT}, got ${props.maxReceiveCount}`);
  }
  const prefix = props.outputPrefix ?? `${id}/`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*\/$/.test(prefix)) {
    problems.push(`"outputPrefix" must be key segments ending in "/", like "tickets/", got ${JSON.stringify(prefix)}`);
  } else if ([...LAYOUT_ROOTS].some((root) => prefix.startsWith(root))) {
    problems.push(`"outputPrefix" ${JSON.stringify(prefix)} is inside the archive's own layout (${[...LAYOUT_ROOTS].join(', ')})`);
  }
  for (const key of Object.keys(props.environment ?? {})) {
    if (RESERVED_ENV.has(key)) problems.push(`"environment" must not set ${key}: the construct sets it`);
  }
  return problems;
}

/**
 * A downstream processor: its own queue and dead-letter queue, and a function fed by an SQS event source with
 * partial batch responses, so one bad record is retried alone and never re-drives the rest of its batch.
 */
export class Processor extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: lambda.IFunction;
  /** The publish target name in the runtime config (the construct id). */
  readonly targetName: string;
  readonly filter?: TargetFilter;
  readonly outputPrefix: string;

  constructor(scope: Construct, id: string, props: ProcessorProps) {
    super(scope, id);
    const name = props.name ?? id;
    throwIfProblems(`Processor "${name}"`, validate(name, props));
    this.targetName = name;
    this.filter = props.filter;
    this.outputPrefix = props.outputPrefix ?? `${name}/`;
    const timeout = props.timeout ?? Duration.minutes(1);

    const queues = new QueueWithDeadLetter(this, 'Queues', {
      encryptionKey: props.encryptionKey,
      consumerTimeout: timeout,
      maxReceiveCount: props.maxReceiveCount,
    });
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;

    if (props.entry !== undefined) {
      this.function = new IngestFunction(this, 'Handler', {
        entry: props.entry,
        description: `mail-ingest processor ${name}`,
        timeout,
        memorySize: props.memorySize ?? 512,
        logRetention: props.logRetention,
        logLevel: props.logLevel,
        serviceName: `mail-ingest-${name}`,
        environment: {
          ...props.environment,
          ARCHIVE_BUCKET: props.archiveBucket.bucketName,
          OUTPUT_PREFIX: this.outputPrefix,
        },
      }).function;
    } else {
      this.function = props.fn!;
    }

    const bucket = props.archiveBucket;
    for (const statement of [
      getObjects(bucket, [ARCHIVE_PREFIXES.raw, ARCHIVE_PREFIXES.claims, this.outputPrefix], 'ReadArchiveAndOwnOutput'),
      putObjects(bucket, [this.outputPrefix], 'WriteOwnOutput'),
      listUnder(bucket, [ARCHIVE_PREFIXES.raw, this.outputPrefix], 'ListArchiveAndOwnOutput'),
      useKey(props.encryptionKey, 'UseArchiveKey'),
    ]) {
      this.function.addToRolePolicy(statement);
    }

    const batchSize = props.batchSize ?? 10;
    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize,
        maxBatchingWindow: props.maxBatchingWindow ?? (batchSize > 10 ? Duration.seconds(1) : undefined),
        maxConcurrency: props.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
  }
}
