import { SQSClient } from '@aws-sdk/client-sqs';

/** The connection part of `"publish": { "type": "sqs", ... }`. Credentials come from the standard AWS chain only. */
export interface SqsClientSettings {
  readonly region?: string;
  /** An SQS-compatible endpoint (a local server, a VPC endpoint). Absent: the regional AWS endpoint. */
  readonly endpoint?: string;
  /** SDK-level attempts for throttling, 5xx and network errors (its standard retry strategy). @default 3 */
  readonly maxAttempts?: number;
}

/** The SDK's MD5 check of every sent body and attribute set stays on (its default). */
export function createSqsClient(settings: SqsClientSettings = {}): SQSClient {
  return new SQSClient({
    ...(settings.region === undefined ? {} : { region: settings.region }),
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    maxAttempts: settings.maxAttempts ?? 3,
  });
}
