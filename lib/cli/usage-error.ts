import { CodedError } from '../coded-error.ts';

/** A mistake in the command line: exit code 2, like a configuration error. */
export class UsageError extends CodedError<'EUSAGE'> {
  constructor(message: string) {
    super('UsageError', 'EUSAGE', message, { failureClass: 'config' });
  }
}

/** `--port`: absent stays undefined; otherwise an integer from `min` (0: any free port) to 65535. */
export function portOption(text: string | undefined, min: 0 | 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > 65535) throw new UsageError(`--port: expected ${min} to 65535, got ${JSON.stringify(text)}`);
  return n;
}
