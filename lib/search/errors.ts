import { CodedError, type FailureClass } from '../coded-error.ts';

/**
 * Codes of the search index and of the queries it answers:
 * | code        | class    | meaning and what to do                                                            |
 * |-------------|----------|-----------------------------------------------------------------------------------|
 * | EQUERY      | config   | a search query or filter is malformed: the message lists every problem; fix them  |
 * | EINDEX      | storage  | the index file cannot be opened or written (permissions, disk full, corruption):  |
 * |             |          | check the path; `mail-ingest index --rebuild` recreates it from the archive       |
 * | EINDEXBUSY  | storage  | another process held the index too long (a rebuild in progress): try again later  |
 */
export type SearchErrorCode = 'EQUERY' | 'EINDEX' | 'EINDEXBUSY';

export interface QueryIssue {
  /** The query parameter, e.g. `since`. */
  readonly param: string;
  readonly message: string;
}

export class SearchError extends CodedError<SearchErrorCode> {
  constructor(code: SearchErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean; failureClass?: FailureClass }) {
    super('SearchError', code, message, {
      cause: options?.cause,
      retryable: options?.retryable ?? code === 'EINDEXBUSY',
      failureClass: options?.failureClass ?? 'storage',
    });
  }
}

/** A query that cannot be run. Carries every problem found, as the config errors do, so one edit fixes them all. */
export class QueryError extends SearchError {
  readonly issues: readonly QueryIssue[];
  constructor(issues: readonly QueryIssue[]) {
    super(
      'EQUERY',
      `invalid search (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}): ${issues.map((i) => `${i.param}: ${i.message}`).join('; ')}`,
      { failureClass: 'config' },
    );
    this.issues = issues;
  }
}
