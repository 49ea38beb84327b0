import { resolve } from 'node:path';

/** The repository root: NodejsFunction's project root, and where handler entries are resolved from. */
export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

/** The shipped handlers (the contract with functions/). */
export const HANDLER_ENTRIES = {
  dispatcher: resolve(PROJECT_ROOT, 'functions/dispatcher.ts'),
  poller: resolve(PROJECT_ROOT, 'functions/poller.ts'),
  ticketIntake: resolve(PROJECT_ROOT, 'functions/processors/ticket-intake.ts'),
  attachmentExtraction: resolve(PROJECT_ROOT, 'functions/processors/attachment-extraction.ts'),
  archiveIndex: resolve(PROJECT_ROOT, 'functions/processors/archive-index.ts'),
} as const;
