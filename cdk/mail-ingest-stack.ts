import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeploymentSection, ShippedProcessor } from './app-config.ts';
import type { MailIngestConfig } from './deployment-config.ts';
import { MailIngest, statementId, type HandlerEntries } from './mail-ingest.ts';
import { processorEntry } from './paths.ts';
import { PROCESSOR_KINDS, PROCESSOR_REGISTRY, type ProcessorDefinition } from '../lib/processors/registry.ts';

export interface MailIngestStackProps extends StackProps {
  readonly config: MailIngestConfig;
  /** @default {} */
  readonly deployment?: DeploymentSection;
  /**
   * Handler entries (tests use stubs).
   * @default - the shipped handlers in functions/
   */
  readonly entries?: HandlerEntries & Record<ShippedProcessor, string>;
}

/** The example deployment: the pipeline and the three shipped processors. */
export class MailIngestStack extends Stack {
  readonly ingest: MailIngest;

  constructor(scope: Construct, id: string, props: MailIngestStackProps) {
    super(scope, id, { description: 'mail-ingest: scheduled POP3 ingest into S3 with SQS fan-out', ...props });
    const deployment = props.deployment ?? {};
    this.ingest = new MailIngest(this, 'MailIngest', {
      config: props.config,
      schedule: deployment.scheduleMinutes === undefined ? undefined : Duration.minutes(deployment.scheduleMinutes),
      alarmEmail: deployment.alarmEmail,
      entries: props.entries,
    });
    for (const name of PROCESSOR_KINDS) {
      const chosen = deployment.processors?.[name];
      if (chosen?.enabled === false) continue;
      const spec: ProcessorDefinition = PROCESSOR_REGISTRY[name];
      this.ingest.addProcessor(name, {
        entry: props.entries?.[name] ?? processorEntry(name),
        outputPrefix: spec.outputPrefix,
        filter: chosen?.filter ?? spec.defaultFilter,
        memorySize: spec.memorySize,
      });
    }
    this.#outputs();
  }

  /** What an operator needs next, printed by `cdk deploy` and kept in the stack's Outputs. */
  #outputs(): void {
    const ingest = this.ingest;
    const out = (id: string, value: string, description: string): void => {
      new CfnOutput(this, id, { value, description });
    };
    out('ArchiveBucket', ingest.archiveBucket.bucketName, 'The archive bucket: raw mail under raw/, state under state/');
    out(
      'RuntimeConfig',
      `s3://${ingest.archiveBucket.bucketName}/${ingest.configKey}`,
      'The runtime config the functions read (mail-ingest replay --config can use a copy of it)',
    );
    out('PollJobQueue', ingest.pollQueue.queueUrl, 'FIFO queue of poll jobs, one per mailbox per schedule tick');
    out('PollJobDeadLetterQueue', ingest.pollDeadLetterQueue.queueUrl, 'Poll jobs that failed 5 times: a mailbox that keeps failing');
    out('PollerFunction', ingest.poller.functionName, 'The poller: aws logs tail /aws/lambda/<this> --follow');
    out('DispatcherFunction', ingest.dispatcher.functionName, 'The dispatcher');
    out(
      'Dashboard',
      `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${ingest.monitoring.dashboard.dashboardName}`,
      'The CloudWatch dashboard',
    );
    for (const p of ingest.processors) {
      const id = statementId('', p.targetName);
      out(`${id}Queue`, p.queue.queueUrl, `Queue of the ${p.targetName} processor`);
      out(
        `${id}DeadLetterQueue`,
        p.deadLetterQueue.queueUrl,
        `Dead-letter queue of the ${p.targetName} processor (redrive with aws sqs start-message-move-task)`,
      );
      out(`${id}Function`, p.function.functionName, `The ${p.targetName} processor function`);
    }
  }
}
