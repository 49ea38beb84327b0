/** A construct's props cannot be deployed. Lists every problem found, so one edit can fix them all. */
export class MailIngestValidationError extends Error {
  readonly code = 'EVALIDATION' as const;
  readonly retryable = false;
  readonly problems: readonly string[];
  constructor(construct: string, problems: readonly string[]) {
    const noun = problems.length === 1 ? 'problem' : 'problems';
    super(`${construct}: invalid props (${problems.length} ${noun}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'MailIngestValidationError';
    this.problems = problems;
  }
}

/** Throws one error with every problem, when there is any. */
export function throwIfProblems(construct: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new MailIngestValidationError(construct, problems);
}
