import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_SESSION_SECONDS } from '../../lib/config/index.ts';
import type { MailboxJob } from '../../lib/ingest/pipeline-types.ts';

/** What parse-config decides for a mailbox that sets nothing: the base of the tests' hand-built jobs. */
export const JOB_DEFAULTS = {
  retention: 'keep',
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  deleteOversized: false,
  acceptUidlReset: false,
  maxSessionSeconds: DEFAULT_MAX_SESSION_SECONDS,
} as const satisfies Omit<MailboxJob, 'id' | 'connect'>;
