import { SecretError } from './errors.ts';
import { registerSecret } from '../redact.ts';
import type { SecretRef } from './types.ts';

/** The one call we need from AWS Secrets Manager; tests pass a fake. */
export interface SecretsManagerLike {
  getSecretString(secretId: string): Promise<string>;
}

export interface ResolveSecretDeps {
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default a client of AWS Secrets Manager, created on first use with the SDK's default credential chain */
  readonly secretsManager?: SecretsManagerLike;
  /**
   * The key to read from a JSON secret. @default 'password', or 'accessToken' when the secret has no 'password'
   * (callers resolving a token should pass 'accessToken' to be explicit).
   */
  readonly jsonKey?: string;
}

/** Secrets Manager error names that will not go away by retrying (reading a secret). */
export const PERMANENT_SECRET_ERRORS: ReadonlySet<string> = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'InvalidParameterException',
  'InvalidRequestException',
  'DecryptionFailure',
]);

/** Secrets Manager through @aws-sdk/client-secrets-manager, imported only when a secretId is actually used. */
export function createAwsSecretsManager(options: { region?: string; endpoint?: string } = {}): SecretsManagerLike {
  let client: Promise<{ send: (cmd: unknown) => Promise<{ SecretString?: string; SecretBinary?: Uint8Array }> }> | null = null;
  let Command: (new (input: { SecretId: string }) => unknown) | null = null;
  return {
    async getSecretString(secretId) {
      client ??= import('@aws-sdk/client-secrets-manager').then((sdk) => {
        Command = sdk.GetSecretValueCommand as unknown as typeof Command;
        return new sdk.SecretsManagerClient({
          ...(options.region === undefined ? {} : { region: options.region }),
          ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        }) as never;
      });
      const c = await client;
      const out = await c.send(new Command!({ SecretId: secretId }));
      if (typeof out.SecretString === 'string') return out.SecretString;
      if (out.SecretBinary !== undefined) return Buffer.from(out.SecretBinary).toString('utf8');
      throw new SecretError(`secret ${JSON.stringify(secretId)} has no value`);
    },
  };
}

let defaultManager: SecretsManagerLike | null = null;
/** Cache of fetched secrets, per Secrets Manager client, for the life of the process (a Lambda container). */
const cache = new WeakMap<SecretsManagerLike, Map<string, Promise<string>>>();

/** Forgets cached secrets (tests; a rotated secret after an auth failure). */
export function clearSecretCache(manager?: SecretsManagerLike): void {
  if (manager !== undefined) cache.delete(manager);
  else if (defaultManager !== null) cache.delete(defaultManager);
}

async function fetchSecret(manager: SecretsManagerLike, secretId: string): Promise<string> {
  let perManager = cache.get(manager);
  if (perManager === undefined) {
    perManager = new Map();
    cache.set(manager, perManager);
  }
  let p = perManager.get(secretId);
  if (p === undefined) {
    p = manager.getSecretString(secretId).catch((err: unknown) => {
      // A failure is not cached: the next attempt asks again.
      perManager.delete(secretId);
      if (err instanceof SecretError) throw err;
      const name = typeof err === 'object' && err !== null ? String((err as { name?: unknown }).name ?? 'Error') : 'Error';
      // Only the error's name: an SDK message could echo request details, never worth the risk for a secret.
      throw new SecretError(`cannot read secret ${JSON.stringify(secretId)} from AWS Secrets Manager: ${name}`, {
        cause: err,
        retryable: !PERMANENT_SECRET_ERRORS.has(name),
      });
    });
    perManager.set(secretId, p);
  }
  return p;
}

/**
 * The value a SecretRef stands for. Errors name the environment variable or the secret, never a value.
 * A Secrets Manager secret may be a plain string, or JSON with a `password` key (`jsonKey` to read another).
 */
export async function resolveSecret(ref: SecretRef, deps: ResolveSecretDeps = {}): Promise<string> {
  const value = await resolveValue(ref, deps);
  // From here on no output, log, state or error of this process may show it (lib/redact.ts).
  registerSecret(value);
  return value;
}

async function resolveValue(ref: SecretRef, deps: ResolveSecretDeps): Promise<string> {
  if (typeof ref === 'string') return ref;
  if ('env' in ref) {
    const value = (deps.env ?? process.env)[ref.env];
    if (value === undefined || value === '') {
      throw new SecretError(`environment variable ${ref.env} is not set (it should hold the secret)`);
    }
    return value;
  }
  const manager = deps.secretsManager ?? (defaultManager ??= createAwsSecretsManager());
  const raw = await fetchSecret(manager, ref.secretId);
  const trimmed = raw.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      // Not JSON after all: a plain password that starts with "{".
      return raw;
    }
    const obj = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    const key = deps.jsonKey ?? (obj.password === undefined && obj.accessToken !== undefined ? 'accessToken' : 'password');
    const value = obj[key];
    if (typeof value !== 'string' || value === '') {
      throw new SecretError(`secret ${JSON.stringify(ref.secretId)} is JSON without a string "${key}" key`);
    }
    return value;
  }
  if (raw === '') throw new SecretError(`secret ${JSON.stringify(ref.secretId)} is empty`);
  return raw;
}
