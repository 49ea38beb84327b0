import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { booleanEnv } from './env.ts';

/**
 * One client of each kind per container, created on first use and reused across invocations (connection reuse
 * is most of a warm invocation's speed-up). Endpoints: the SDK itself honours AWS_ENDPOINT_URL and
 * AWS_ENDPOINT_URL_S3 / _SQS / _SECRETS_MANAGER; MAIL_INGEST_S3_FORCE_PATH_STYLE=true adds path-style addressing,
 * which local S3 servers need. Neither is set in the deployed stack.
 */
let s3: S3Client | undefined;
let sqs: SQSClient | undefined;
let secrets: SecretsManagerClient | undefined;

export function s3Client(): S3Client {
  s3 ??= new S3Client({ forcePathStyle: booleanEnv('MAIL_INGEST_S3_FORCE_PATH_STYLE', false), maxAttempts: 3 });
  return s3;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({ maxAttempts: 3 });
  return sqs;
}

export function secretsClient(): SecretsManagerClient {
  secrets ??= new SecretsManagerClient({ maxAttempts: 3 });
  return secrets;
}
