/**
 * Least-privilege statements on the archive, written out instead of `bucket.grantReadWrite` (which would give
 * `s3:DeleteObject*` on the whole bucket and `kms:*` wildcards). Object actions are scoped to key prefixes.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';

export function objectArns(bucket: s3.IBucket, prefixes: readonly string[]): string[] {
  return prefixes.map((p) => bucket.arnForObjects(p.endsWith('.json') ? p : `${p}*`));
}

/** `s3:ListBucket`, only for listings under the given prefixes. */
export function listUnder(bucket: s3.IBucket, prefixes: readonly string[], sid: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['s3:ListBucket'],
    resources: [bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
  });
}

export function getObjects(bucket: s3.IBucket, prefixes: readonly string[], sid: string): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions: ['s3:GetObject'], resources: objectArns(bucket, prefixes) });
}

/**
 * Writes, including multipart uploads (lib-storage streams large mail in parts). Never a delete: the mailbox leases
 * (LEASES_PREFIX in lib/store/layout.ts) are covered by the `state/` prefix, and a lease is released by writing it
 * expired (test/cdk/lease-grants.test.ts keeps it so).
 */
export function putObjects(bucket: s3.IBucket, prefixes: readonly string[], sid: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
    resources: objectArns(bucket, prefixes),
  });
}

/** What SSE-KMS reads and writes (and KMS-encrypted SQS sends) need: a data key, and decrypting one. */
export function useKey(key: kms.IKey, sid: string): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] });
}
