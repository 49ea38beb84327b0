import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createS3Client } from '../../lib/store/s3-client.ts';
import { createSqsClient } from '../../lib/publish/sqs-client.ts';
import { createAwsSecretsManager, type SecretsManagerLike } from '../../lib/config/secrets.ts';
import { booleanEnv } from './env.ts';

/**
 * Clients are created on first use and reused across invocations of the container (connection reuse is most of
 * a warm invocation's speed-up), one per distinct setting. Endpoints: the SDK itself honours AWS_ENDPOINT_URL and
 * AWS_ENDPOINT_URL_S3 / _SQS / _SECRETS_MANAGER; MAIL_INGEST_S3_FORCE_PATH_STYLE=true adds path-style addressing,
 * which local S3 servers need. The deployed stack sets none of them.
 */
export interface ClientSettings {
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly forcePathStyle?: boolean | undefined;
}

const s3Clients = new Map<string, S3Client>();
const sqsClients = new Map<string, SQSClient>();
let secrets: SecretsManagerLike | undefined;

const keyOf = (s: ClientSettings) => JSON.stringify([s.region ?? null, s.endpoint ?? null, s.forcePathStyle ?? null]);
const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

export function s3Client(settings: ClientSettings = {}): S3Client {
  const forcePathStyle = (settings.forcePathStyle ?? false) || booleanEnv('MAIL_INGEST_S3_FORCE_PATH_STYLE', false);
  const s = { ...settings, forcePathStyle };
  let c = s3Clients.get(keyOf(s));
  if (c === undefined) {
    c = createS3Client(defined({ region: s.region, endpoint: s.endpoint, forcePathStyle }));
    s3Clients.set(keyOf(s), c);
  }
  return c;
}

export function sqsClient(settings: ClientSettings = {}): SQSClient {
  let c = sqsClients.get(keyOf(settings));
  if (c === undefined) {
    c = createSqsClient(defined({ region: settings.region, endpoint: settings.endpoint }));
    sqsClients.set(keyOf(settings), c);
  }
  return c;
}

/** Secrets Manager, whose fetched values `resolveSecret` caches for the life of the container. */
export function secretsManager(): SecretsManagerLike {
  secrets ??= createAwsSecretsManager();
  return secrets;
}
