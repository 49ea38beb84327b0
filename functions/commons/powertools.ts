import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { redact } from '../../lib/redact.ts';

/**
 * One Logger and one Metrics per function, configured from the environment the stack sets: Powertools reads
 * POWERTOOLS_SERVICE_NAME, LOG_LEVEL (or POWERTOOLS_LOG_LEVEL) and POWERTOOLS_METRICS_NAMESPACE itself.
 */
export function createLogger(): Logger {
  return new Logger();
}

export function createMetrics(): Metrics {
  return new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'MailIngest' });
}

/** The name, code and (redacted) message of an error, for a log line: never its cause chain, which may quote a server. */
export function errorFields(err: unknown): Record<string, unknown> {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; retryable?: unknown } | null;
  return {
    errorName: typeof e?.name === 'string' ? e.name : 'Error',
    ...(typeof e?.code === 'string' ? { errorCode: e.code } : {}),
    errorMessage: redact(typeof e?.message === 'string' ? e.message : String(err)),
    ...(typeof e?.retryable === 'boolean' ? { retryable: e.retryable } : {}),
  };
}
