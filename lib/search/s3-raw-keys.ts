import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import type { StoreConfig } from '../config/types.ts';
import { createS3Client, toStoreError } from '../store/s3-client.ts';

/** Raw keys (full object keys) of every archived message in an S3 archive, by ListObjectsV2 (1,000 keys a request). */
export async function* s3RawKeys(config: Extract<StoreConfig, { type: 's3' }>): AsyncIterable<string> {
  const client = createS3Client({ region: config.region, endpoint: config.endpoint, forcePathStyle: config.forcePathStyle });
  const prefix = config.prefix === '' ? 'raw/' : `${config.prefix}/raw/`;
  let token: string | undefined;
  try {
    do {
      let res: ListObjectsV2CommandOutput;
      try {
        res = await client.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: prefix, ContinuationToken: token }));
      } catch (err) {
        throw toStoreError(err, 'ListObjectsV2', prefix);
      }
      for (const o of res.Contents ?? []) if (o.Key?.endsWith('.eml')) yield o.Key;
      token = res.IsTruncated === true ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
  } finally {
    client.destroy();
  }
}
