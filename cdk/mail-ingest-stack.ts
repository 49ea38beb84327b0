import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeploymentSection, ShippedProcessor } from './app-config.ts';
import type { TargetFilter } from './constructs/processor.ts';
import type { MailIngestConfig } from './deployment-config.ts';
import { MailIngest, type HandlerEntries } from './mail-ingest.ts';
import { HANDLER_ENTRIES } from './paths.ts';

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

/** The shipped processors, their handler, output prefix and default filter. */
const PROCESSORS: Record<ShippedProcessor, { entry: keyof typeof HANDLER_ENTRIES; outputPrefix: string; filter?: TargetFilter; memorySize: number }> = {
  // A helpdesk wants people, not machines: auto-replies and bounces would open tickets nobody should answer.
  'ticket-intake': { entry: 'ticketIntake', outputPrefix: 'tickets/', filter: { autoReply: false, bounce: false }, memorySize: 512 },
  'attachment-extraction': { entry: 'attachmentExtraction', outputPrefix: 'attachments/', filter: { hasAttachments: true }, memorySize: 1024 },
  'archive-index': { entry: 'archiveIndex', outputPrefix: 'index/', memorySize: 256 },
};

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
    for (const [name, spec] of Object.entries(PROCESSORS) as Array<[ShippedProcessor, (typeof PROCESSORS)[ShippedProcessor]]>) {
      const chosen = deployment.processors?.[name];
      if (chosen?.enabled === false) continue;
      this.ingest.addProcessor(name, {
        entry: props.entries?.[name] ?? HANDLER_ENTRIES[spec.entry],
        outputPrefix: spec.outputPrefix,
        filter: chosen?.filter ?? spec.filter,
        memorySize: spec.memorySize,
      });
    }
  }
}
