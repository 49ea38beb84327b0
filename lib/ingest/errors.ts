import { CodedError, type FailureClass } from '../coded-error.ts';
import { Pop3Error } from '../pop3/errors.ts';
import type { RunError } from './pipeline-types.ts';

/**
 * Codes of pipeline-level failures (the POP3 client and the stores have their own):
 * | code        | meaning                                                                 |
 * |-------------|-------------------------------------------------------------------------|
 * | ENOUIDL     | the server does not support UIDL: new mail cannot be told from old      |
 * | EUIDLRESET  | every UIDL on the server is unknown but the messages look like the old  |
 * |             | ones: the server probably renumbered them; refusing a mass re-ingest    |
 * | ELISTING    | the listing does not add up: numbers repeat, are 0, skip, exceed STAT,   |
 * |             | or differ between UIDL and LIST; the session is refused                  |
 * | ESTATE      | the state could not be committed after repeated conflicts                |
 * | EOVERSIZED  | a message sent more than maxMessageBytes although LIST said less: its     |
 * |             | headers are archived, it is flagged oversized (never a run's error)      |
 * | EDEADLINE   | the run's deadline (maxSessionSeconds, or the Lambda's time) passed       |
 * |             | before any message was stored: the server is too slow for it             |
 */
export type IngestErrorCode = 'ENOUIDL' | 'EUIDLRESET' | 'ELISTING' | 'ESTATE' | 'EOVERSIZED' | 'EDEADLINE';

export class IngestError extends CodedError<IngestErrorCode> {
  constructor(code: IngestErrorCode, failureClass: FailureClass, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('IngestError', code, message, { ...options, failureClass });
  }
}

/**
 * A message proved larger than maxMessageBytes while it was received (a server that understates sizes in LIST, or
 * a body that never ends): reading stopped at the limit, before any byte past it reached the store.
 */
export class MessageOverLimitError extends IngestError {
  /** The first bytes received (up to 64 KiB): the header block the message is archived under. */
  readonly head: Buffer;
  /** Bytes received (or announced) when reading stopped: more than the limit. */
  readonly received: number;

  constructor(limit: number, received: number, head: Buffer, announced: boolean) {
    super(
      'EOVERSIZED',
      'protocol',
      announced
        ? `the server announced ${received} octets, over maxMessageBytes (${limit}), although LIST said less`
        : `the message passed maxMessageBytes (${limit}) although LIST said less: reading stopped at ${received} bytes`,
    );
    this.head = head;
    this.received = received;
  }
}

import { classifyError as classify } from '../error-codes.ts';

/**
 * Classifies any error thrown during a run (lib/error-codes.ts), keeping what a scheduler needs: when a server that
 * refused the login as too soon (RFC 2449 [LOGIN-DELAY]) will take the next one.
 */
export function classifyError(err: unknown): RunError {
  const c = classify(err);
  return err instanceof Pop3Error && err.retryAfterSeconds !== undefined ? { ...c, retryAfterSeconds: err.retryAfterSeconds } : c;
}
