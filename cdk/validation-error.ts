import { CodedError } from '../lib/coded-error.ts';

/** A construct's props (or a deployment file) cannot be deployed. Lists every problem found, so one edit can fix them all. */
export class MailIngestValidationError extends CodedError<'ECONFIG'> {
  readonly problems: readonly string[];
  constructor(construct: string, problems: readonly string[], options?: { readonly cause?: unknown }) {
    const noun = problems.length === 1 ? 'problem' : 'problems';
    super(
      'MailIngestValidationError',
      'ECONFIG',
      `${construct}: invalid props (${problems.length} ${noun}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { cause: options?.cause, failureClass: 'config' },
    );
    this.problems = problems;
  }
}

/** Throws one error with every problem, when there is any. */
export function throwIfProblems(construct: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new MailIngestValidationError(construct, problems);
}
