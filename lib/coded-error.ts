/**
 * Errors are data: a stable string `code` to branch on, whether a retry may succeed, and the underlying `cause`.
 * The stores, the publishers, the consumer helper and the pipeline each extend it with their own code list.
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  readonly retryable: boolean;

  constructor(name: string, code: C, message: string, options?: { readonly cause?: unknown; readonly retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}
