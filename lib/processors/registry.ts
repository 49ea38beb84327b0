import type { TargetFilter } from '../config/types.ts';

/**
 * The shipped downstream processors, in one table: the config schema's processor kinds, the local runner, the
 * CDK stack's processors (handler entry, output prefix, memory) and every default filter come from here. This
 * file holds facts only, no processor code, so that whatever reads it (the config schema, the dispatcher
 * Lambda) does not bundle the processors.
 *
 * A new processor is its logic under lib/processors/, a thin handler in functions/processors/, and one entry
 * here (plus its case in lib/processors/local.ts to run it locally).
 */
export interface ProcessorDefinition {
  readonly description: string;
  /** Documents it receives when the config gives no filter, locally and in AWS alike. */
  readonly defaultFilter?: TargetFilter;
  /** The Lambda handler, relative to the repository root. */
  readonly handlerEntry: string;
  /** Where it writes in the archive bucket. */
  readonly outputPrefix: string;
  /** Lambda memory (MB): CPU grows with it. */
  readonly memorySize: number;
}

export const PROCESSOR_REGISTRY = {
  'ticket-intake': {
    description: 'threads messages into helpdesk tickets by Message-ID, References and subject',
    // A helpdesk wants people, not machines: auto-replies, bounces and list mail would open tickets nobody
    // should answer.
    defaultFilter: { autoReply: false, bounce: false, list: false },
    handlerEntry: 'functions/processors/ticket-intake.ts',
    outputPrefix: 'tickets/',
    memorySize: 512,
  },
  'attachment-extraction': {
    description: 'stores each attachment once by SHA-256, with a manifest per message',
    defaultFilter: { hasAttachments: true },
    handlerEntry: 'functions/processors/attachment-extraction.ts',
    outputPrefix: 'attachments/',
    memorySize: 1024,
  },
  'archive-index': {
    description: 'one JSON line per message, date-partitioned, for Athena',
    handlerEntry: 'functions/processors/archive-index.ts',
    outputPrefix: 'index/',
    memorySize: 256,
  },
} as const satisfies Record<string, ProcessorDefinition>;

export type ProcessorKind = keyof typeof PROCESSOR_REGISTRY;

export const PROCESSOR_KINDS = Object.keys(PROCESSOR_REGISTRY) as [ProcessorKind, ...ProcessorKind[]];

export function processorDefinition(kind: ProcessorKind): ProcessorDefinition {
  return PROCESSOR_REGISTRY[kind];
}
