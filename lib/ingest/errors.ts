import { CodedError, type FailureClass } from '../coded-error.ts';

/**
 * Codes of pipeline-level failures (the POP3 client and the stores have their own):
 * | code        | meaning                                                                 |
 * |-------------|-------------------------------------------------------------------------|
 * | ENOUIDL     | the server does not support UIDL: new mail cannot be told from old      |
 * | EUIDLRESET  | every UIDL on the server is unknown but the messages look like the old  |
 * |             | ones: the server probably renumbered them; refusing a mass re-ingest    |
 * | ELISTING    | UIDL and LIST disagree                                                   |
 * | ESTATE      | the state could not be committed after repeated conflicts                |
 */
export type IngestErrorCode = 'ENOUIDL' | 'EUIDLRESET' | 'ELISTING' | 'ESTATE';

export class IngestError extends CodedError<IngestErrorCode> {
  constructor(code: IngestErrorCode, failureClass: FailureClass, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('IngestError', code, message, { ...options, failureClass });
  }
}

const POP3_CLASS: Record<string, FailureClass> = {
  EAUTH: 'auth',
  ETLS: 'tls', ESTLS: 'tls', EINSECURE: 'tls',
  ECONNECTION: 'network', ETIMEDOUT: 'network', ECLOSED: 'network',
  EINUSE: 'protocol', ELOGINDELAY: 'protocol', ESYSTEMP: 'protocol', ESYSPERM: 'protocol',
  EPROTOCOL: 'protocol', ECOMMAND: 'protocol', ETOOLARGE: 'protocol',
  ECONFIG: 'config', ESECRET: 'config', ECONFLICT: 'storage', EVERIFY: 'storage', EIO: 'storage', ENOTFOUND: 'storage', EACCESS: 'storage',
  EPUBLISH: 'publish',
};

/** Classifies any error thrown during a run: the class tells an operator where to look. */
export function classifyError(err: unknown): { class: FailureClass; code: string; message: string } {
  if (err instanceof IngestError) return { class: err.failureClass, code: err.code, message: err.message };
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : 'EINTERNAL';
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  if (e?.name === 'StoreError') return { class: 'storage', code, message };
  if (e?.name === 'PublishError') return { class: 'publish', code, message };
  if (e?.name === 'ConfigError' || e?.name === 'SecretError') return { class: 'config', code, message };
  return { class: POP3_CLASS[code] ?? (e?.name === 'AbortError' ? 'network' : 'internal'), code, message };
}
