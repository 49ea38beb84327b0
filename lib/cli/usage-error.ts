import { CodedError } from '../coded-error.ts';

/** A mistake in the command line: exit code 2, like a configuration error. */
export class UsageError extends CodedError<'EUSAGE'> {
  constructor(message: string) {
    super('UsageError', 'EUSAGE', message, { failureClass: 'config' });
  }
}
