import type { S3Client } from '@aws-sdk/client-s3';
import { parseConfig } from '../../lib/config/parse-config.ts';
import type { Config } from '../../lib/config/types.ts';
import { ConfigSource } from './config-source.ts';
import { integerEnv } from './env.ts';

/**
 * The deployment config (the CLI's schema) at s3://CONFIG_BUCKET/CONFIG_KEY. Relative paths in it (a `ca` file)
 * resolve against the function's folder; in a Lambda config the CA is normally given inline as PEM.
 * CONFIG_TTL_MS (default 60000) bounds how long an edit takes to apply.
 */
export function deploymentConfig(s3: S3Client, bucket: string, key: string): ConfigSource<Config> {
  return new ConfigSource<Config>({
    s3,
    bucket,
    key,
    ttlMs: integerEnv('CONFIG_TTL_MS', 60_000),
    parse: (json) => parseConfig(json, { baseDir: process.cwd(), source: `s3://${bucket}/${key}` }),
  });
}
