import { CodedError } from '../coded-error.ts';

export interface ConfigIssue {
  /** Where in the file, e.g. `mailboxes[1].port`; `(root)` for the top level, `(file)` for the file itself. */
  readonly path: string;
  readonly message: string;
}

/** A configuration that cannot be used. Carries every problem found, so one edit can fix them all. */
export class ConfigError extends CodedError<'ECONFIG'> {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown; source?: string }) {
    const head = options?.source === undefined ? 'invalid configuration' : `invalid configuration in ${options.source}`;
    const noun = issues.length === 1 ? 'problem' : 'problems';
    super('ConfigError', 'ECONFIG', `${head} (${issues.length} ${noun}):\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, {
      cause: options?.cause,
      failureClass: 'config',
    });
    this.issues = issues;
  }
}

/**
 * A secret that could not be resolved. Names the environment variable or secret id, never the value.
 * Retryable when the secret store was unreachable or throttled, not when the secret is missing or malformed.
 */
export class SecretError extends CodedError<'ESECRET'> {
  constructor(message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('SecretError', 'ESECRET', message, { ...options, failureClass: 'config' });
  }
}
