/**
 * Where an operator should look when something fails: the class every error carries, shown in the CLI's one-line
 * failure summaries, the state's lastError and the Lambda metrics. docs/errors.md lists every code by class.
 */
export type FailureClass = 'auth' | 'tls' | 'network' | 'protocol' | 'storage' | 'publish' | 'config' | 'internal';

export interface CodedErrorOptions {
  readonly cause?: unknown;
  readonly retryable?: boolean;
  /** @default 'internal' */
  readonly failureClass?: FailureClass;
}

/**
 * Errors are data: a stable string `code` to branch on, the failure class an operator reads, whether a retry may
 * succeed, and the underlying `cause`. Every error the project throws extends it with its own code list.
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  readonly retryable: boolean;
  readonly failureClass: FailureClass;

  constructor(name: string, code: C, message: string, options?: CodedErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.code = code;
    this.retryable = options?.retryable ?? false;
    this.failureClass = options?.failureClass ?? 'internal';
  }
}
