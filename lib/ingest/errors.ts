import { CodedError, type FailureClass } from '../coded-error.ts';

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
 */
export type IngestErrorCode = 'ENOUIDL' | 'EUIDLRESET' | 'ELISTING' | 'ESTATE';

export class IngestError extends CodedError<IngestErrorCode> {
  constructor(code: IngestErrorCode, failureClass: FailureClass, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('IngestError', code, message, { ...options, failureClass });
  }
}

export { classifyError } from '../error-codes.ts';
