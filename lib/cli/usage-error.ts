/** A mistake in the command line: exit code 2, like a configuration error. */
export class UsageError extends Error {
  readonly code = 'EUSAGE';
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}
