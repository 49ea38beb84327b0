import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { DeploymentSection, ShippedProcessor } from './app-config.ts';
import type { MailIngestConfig } from './deployment-config.ts';
import { MailIngest, type HandlerEntries } from './mail-ingest.ts';
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
  }
}
