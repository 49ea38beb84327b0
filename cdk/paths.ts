import { resolve } from 'node:path';
import { PROCESSOR_REGISTRY, type ProcessorKind } from '../lib/processors/registry.ts';

/** The repository root: NodejsFunction's project root, and where handler entries are resolved from. */
export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

/** The shipped handlers (the contract with functions/). */
export const HANDLER_ENTRIES = {
  dispatcher: resolve(PROJECT_ROOT, 'functions/dispatcher.ts'),
  poller: resolve(PROJECT_ROOT, 'functions/poller.ts'),
} as const;

/** The shipped processors' handlers, from lib/processors/registry.ts. */
export function processorEntry(kind: ProcessorKind): string {
  return resolve(PROJECT_ROOT, PROCESSOR_REGISTRY[kind].handlerEntry);
}
