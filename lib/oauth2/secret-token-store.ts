import { createHash } from 'node:crypto';
import { PERMANENT_SECRET_ERRORS } from '../config/secrets.ts';
import { OAuth2Error } from './errors.ts';
import type { RefreshTokenStore, StoredRefreshToken, WriteOutcome } from './token-store.ts';

/** The two Secrets Manager calls a refresh token needs; tests pass a client pointed at a local stand-in. */
export interface SecretsManagerTokenClient {
  /** AWSCURRENT: its value and VersionId. */
  getSecretValue(secretId: string): Promise<{ readonly value: string; readonly versionId: string }>;
  /**
   * A new AWSCURRENT version. `clientRequestToken` becomes its VersionId; Secrets Manager refuses a second,
   * different value under the same one with ResourceExistsException, which is what makes this a compare-and-set.
   */
  putSecretValue(secretId: string, value: string, clientRequestToken: string): Promise<void>;
}

/** Secrets Manager through @aws-sdk/client-secrets-manager, loaded on first use (the SDK's default credential chain). */
export function createAwsSecretsManagerTokenClient(options: { region?: string; endpoint?: string } = {}): SecretsManagerTokenClient {
  type Sdk = typeof import('@aws-sdk/client-secrets-manager');
  let loaded: Promise<{ sdk: Sdk; client: InstanceType<Sdk['SecretsManagerClient']> }> | null = null;
  const get = () =>
    (loaded ??= import('@aws-sdk/client-secrets-manager').then((sdk) => ({
      sdk,
      client: new sdk.SecretsManagerClient({
        ...(options.region === undefined ? {} : { region: options.region }),
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      }),
    })));
  return {
    async getSecretValue(secretId) {
      const { sdk, client } = await get();
      const out = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }));
      const value = out.SecretString ?? (out.SecretBinary === undefined ? undefined : Buffer.from(out.SecretBinary).toString('utf8'));
      if (value === undefined || out.VersionId === undefined)
        throw new OAuth2Error('EOAUTH2_STORE', `secret ${JSON.stringify(secretId)} has no value`);
      return { value, versionId: out.VersionId };
    },
    async putSecretValue(secretId, value, clientRequestToken) {
      const { sdk, client } = await get();
      await client.send(new sdk.PutSecretValueCommand({ SecretId: secretId, SecretString: value, ClientRequestToken: clientRequestToken }));
    },
  };
}

/** Error names that will not go away by retrying: a read's, and a write's failure to encrypt. */
const PERMANENT = new Set([...PERMANENT_SECRET_ERRORS, 'EncryptionFailure']);

/** The JSON keys a refresh token may be stored under, the first being what mail-ingest writes. */
const JSON_KEYS = ['refreshToken', 'refresh_token'] as const;

/**
 * A refresh token in an AWS Secrets Manager secret: a plain string, or JSON with a `refreshToken` key (other keys,
 * such as a client secret kept in the same secret, are carried over unchanged on rotation).
 *
 * Compare-and-set without a lock: the new version's ClientRequestToken is derived from the VersionId it
 * replaces, so of two pollers that both rotated the same version only the first PutSecretValue succeeds; the
 * second gets ResourceExistsException, keeps the winner's token and drops its own. In the deployed stack one
 * mailbox's polls are serialized by the FIFO queue's message group, so this race needs two deployments or a CLI
 * run beside the poller. The poller's role may PutSecretValue on exactly these secrets and nothing else.
 */
export class SecretsManagerTokenStore implements RefreshTokenStore {
  readonly location: string;
  readonly writable = true;
  readonly #secretId: string;
  readonly #client: SecretsManagerTokenClient;
  /** The last value read, to rewrite a JSON secret with only the token changed. */
  #lastRaw: string | null = null;

  constructor(secretId: string, client: SecretsManagerTokenClient) {
    this.#secretId = secretId;
    this.#client = client;
    this.location = `secret ${JSON.stringify(secretId)}`;
  }

  async read(): Promise<StoredRefreshToken | null> {
    let out: { value: string; versionId: string };
    try {
      out = await this.#client.getSecretValue(this.#secretId);
    } catch (err) {
      throw this.#error(err, 'reading');
    }
    this.#lastRaw = out.value;
    const token = tokenOf(out.value);
    if (token === null) throw new OAuth2Error('EOAUTH2_STORE', `${this.location} is JSON without a string "refreshToken" key`);
    if (token === '') return null;
    return { refreshToken: token, version: out.versionId };
  }

  async write(refreshToken: string, expectedVersion: string): Promise<WriteOutcome> {
    try {
      await this.#client.putSecretValue(this.#secretId, this.#render(refreshToken), successorOf(this.#secretId, expectedVersion));
      return 'written';
    } catch (err) {
      if (nameOf(err) === 'ResourceExistsException') return 'conflict';
      throw this.#error(err, 'writing');
    }
  }

  async replace(refreshToken: string): Promise<void> {
    let previous = 'none';
    try {
      const current = await this.#client.getSecretValue(this.#secretId);
      this.#lastRaw = current.value;
      previous = current.versionId;
    } catch (err) {
      if (nameOf(err) !== 'ResourceNotFoundException') throw this.#error(err, 'reading');
      throw new OAuth2Error(
        'EOAUTH2_STORE',
        `${this.location} does not exist: create it first (aws secretsmanager create-secret --name ${this.#secretId} --secret-string '{}')`,
        { cause: err },
      );
    }
    const outcome = await this.write(refreshToken, previous);
    if (outcome === 'conflict')
      throw new OAuth2Error('EOAUTH2_STORE', `${this.location} changed while the new token was being stored; run mail-ingest auth again`, {
        retryable: true,
      });
  }

  async lock(): Promise<() => Promise<void>> {
    return async () => undefined;
  }

  #render(refreshToken: string): string {
    const raw = this.#lastRaw?.trim() ?? '';
    if (!raw.startsWith('{')) return refreshToken;
    try {
      const obj = JSON.parse(raw) as Record<string, unknown>;
      const key = JSON_KEYS.find((k) => typeof obj[k] === 'string') ?? JSON_KEYS[0];
      return JSON.stringify({ ...obj, [key]: refreshToken });
    } catch {
      return refreshToken;
    }
  }

  #error(err: unknown, doing: string): OAuth2Error {
    if (err instanceof OAuth2Error) return err;
    const name = nameOf(err);
    // Only the error's name: an SDK message could echo request details, never worth the risk for a secret.
    return new OAuth2Error('EOAUTH2_STORE', `${doing} ${this.location} in AWS Secrets Manager failed: ${name}`, {
      cause: err,
      retryable: !PERMANENT.has(name),
    });
  }
}

/** The token in a secret's value; '' when a JSON secret has not received one yet ({}), null when malformed. */
function tokenOf(value: string): string | null {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  let obj: unknown;
  try {
    obj = JSON.parse(trimmed);
  } catch {
    return trimmed;
  }
  if (typeof obj !== 'object' || obj === null) return null;
  const o = obj as Record<string, unknown>;
  for (const k of JSON_KEYS) if (typeof o[k] === 'string') return o[k] as string;
  return JSON_KEYS.some((k) => k in o) ? null : '';
}

/** The ClientRequestToken (32-64 characters) of "the version that replaces `version`", the same for every writer. */
function successorOf(secretId: string, version: string): string {
  return createHash('sha256').update(`mail-ingest refresh token\n${secretId}\n${version}`).digest('hex');
}

function nameOf(err: unknown): string {
  return typeof err === 'object' && err !== null ? String((err as { name?: unknown }).name ?? 'Error') : 'Error';
}
