import { CodedError } from '../../lib/coded-error.ts';
/** Configuration error at cold start: the function is deployed wrongly and no invocation can succeed. */
export class EnvironmentError extends CodedError<'EENV'> {
  constructor(message: string) {
    super('EnvironmentError', 'EENV', message, { failureClass: 'config' });
  }
}

/** Reads a variable the deployment must set. Call at module scope, so a bad deployment fails at cold start. */
export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new EnvironmentError(`Environment variable ${name} is required`);
  return value;
}

export function optionalEnv(name: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value;
}

export function booleanEnv(name: string, fallback: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1' || value === 'yes') return true;
  if (value === 'false' || value === '0' || value === 'no') return false;
  throw new EnvironmentError(`Environment variable ${name} must be true or false, got ${JSON.stringify(env[name])}`);
}

export function integerEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new EnvironmentError(`Environment variable ${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** The output prefix of a processor: '' or a normalised `a/b` (no leading or trailing slash, no `.`/`..`). */
export function outputPrefixEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const trimmed = optionalEnv(name, '', env).replace(/^\/+|\/+$/g, '');
  if (trimmed !== '' && trimmed.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new EnvironmentError(`Environment variable ${name} is not a valid key prefix: ${JSON.stringify(env[name])}`);
  }
  return trimmed;
}
