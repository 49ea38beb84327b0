import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_LAYOUT } from '../../lib/store/layout.ts';

/** S3 Object Lock default retention for every new object version in the archive. */
export interface ArchiveObjectLockOptions {
  /**
   * GOVERNANCE: users with `s3:BypassGovernanceRetention` may still delete; COMPLIANCE: nobody can, not even the
   * account root, until the retention ends.
   */
  readonly mode: 'GOVERNANCE' | 'COMPLIANCE';
  /** Days each object version is protected after it is written. */
  readonly days: number;
}

export interface ArchiveBucketProps {
  /**
   * The customer-managed KMS key for the archive (and the pipeline's queues).
   * @default - a new key with yearly rotation, retained on stack deletion
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Days after which raw messages (`raw/`) move to S3 Glacier Instant Retrieval. Instant Retrieval keeps
   * millisecond reads, so `replay` and late processors still work on old mail; Deep Archive would need a
   * 12-hour restore first. Objects under 128 KiB stay in Standard (S3's lifecycle default).
   * @default 90
   */
  readonly transitionAfterDays?: number;
  /**
   * Days a replaced or deleted object version is kept before it expires.
   * @default 365
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Optional S3 Object Lock for an unalterable archive. Can only be chosen when the bucket is created.
   * @default - no Object Lock
   */
  readonly objectLock?: ArchiveObjectLockOptions;
  /**
   * Days server access logs are kept.
   * @default 365
   */
  readonly accessLogRetentionDays?: number;
}

/** Key prefixes of the archive layout: the one definition in lib/store/layout.ts, which the stores write by. */
export const ARCHIVE_PREFIXES = ARCHIVE_LAYOUT;

/**
 * The raw mail archive: SSE-KMS with a customer-managed key, versioned, private, TLS-only, access-logged, and
 * retained when the stack is deleted, because it is the only copy of mail already deleted from the server.
 */
export class ArchiveBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly encryptionKey: kms.IKey;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps = {}) {
    super(scope, id);
    // Log delivery by bucket policy (not by the LogDeliveryWrite ACL), so both buckets can keep ACLs disabled.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'mail-ingest archive, queues and state',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // The S3 log delivery service cannot write with a customer-managed KMS key.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(props.accessLogRetentionDays ?? 365),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    const lock = props.objectLock;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      // One KMS call per bucket and period instead of one per object: thousands of small messages stay cheap.
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      removalPolicy: RemovalPolicy.RETAIN,
      objectLockEnabled: lock !== undefined ? true : undefined,
      objectLockDefaultRetention:
        lock === undefined
          ? undefined
          : lock.mode === 'COMPLIANCE'
            ? s3.ObjectLockRetention.compliance(Duration.days(lock.days))
            : s3.ObjectLockRetention.governance(Duration.days(lock.days)),
      lifecycleRules: [
        {
          id: 'raw-to-glacier-instant-retrieval',
          prefix: ARCHIVE_PREFIXES.raw,
          transitions: [
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(props.transitionAfterDays ?? 90),
            },
          ],
        },
        {
          // Staged uploads are copied to raw/ and never deleted by the poller (it has no delete permission).
          id: 'expire-staging',
          prefix: ARCHIVE_PREFIXES.staging,
          expiration: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays ?? 365),
        },
      ],
    });
  }
}
