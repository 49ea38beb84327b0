import type { StoreConfig } from '../config/types.ts';
import { createS3Client, listObjectPages } from '../store/s3-client.ts';

/** Raw keys (full object keys) of every archived message in an S3 archive, by ListObjectsV2 (1,000 keys a request). */
export async function* s3RawKeys(config: Extract<StoreConfig, { type: 's3' }>): AsyncIterable<string> {
  const client = createS3Client({ region: config.region, endpoint: config.endpoint, forcePathStyle: config.forcePathStyle });
  const prefix = config.prefix === '' ? 'raw/' : `${config.prefix}/raw/`;
  try {
    for await (const res of listObjectPages(client, { Bucket: config.bucket, Prefix: prefix })) {
      for (const o of res.Contents ?? []) if (o.Key?.endsWith('.eml')) yield o.Key;
    }
  } finally {
    client.destroy();
  }
}
