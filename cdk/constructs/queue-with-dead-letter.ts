import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface QueueWithDeadLetterProps {
  /** The customer-managed key both queues are encrypted with. */
  readonly encryptionKey: kms.IKey;
  /** The timeout of the function that consumes the queue; the visibility timeout is six times it. */
  readonly consumerTimeout: Duration;
  /**
   * A FIFO queue pair (for poll jobs: one in flight per message group). Content-based deduplication stays off:
   * the sender sets `MessageDeduplicationId`.
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * Receives before a message moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * How long a message waits in the main queue.
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;
}

/** Minimum receives before dead-lettering: fewer turns a brief outage into dead letters. */
export const MIN_MAX_RECEIVE_COUNT = 5;
/** AWS's guidance for SQS event sources: visibility at least six times the function timeout. */
export const VISIBILITY_FACTOR = 6;

/** A queue and its dead-letter queue, both KMS-encrypted with the pipeline key and TLS-only. */
export class QueueWithDeadLetter extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueueWithDeadLetterProps) {
    super(scope, id);
    const fifo = props.fifo === true ? true : undefined;
    const common = {
      fifo,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      // Reuse the data key for 5 minutes: one KMS call per 5 minutes per sender instead of one per message.
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
    };
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...common,
      // The maximum, so a person has two weeks to inspect and redrive.
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      contentBasedDeduplication: fifo ? false : undefined,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * VISIBILITY_FACTOR),
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? MIN_MAX_RECEIVE_COUNT,
      },
    });
  }
}
