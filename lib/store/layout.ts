/**
 * The archive's layout: every key prefix the stores, the publishers and the processors write under, in one place.
 * The CDK stack's IAM grants are built from the same object, so a prefix added here is one the grants know about
 * (and a writer outside these prefixes gets AccessDenied in AWS, not silent success).
 */
export const ARCHIVE_LAYOUT = {
  /** `raw/<mailbox>/<yyyy>/<mm>/<dd>/<sha256>.eml`, and the packs of metadata documents of that day beside them. */
  raw: 'raw/',
  /** Multipart uploads in progress, copied to `raw/` once verified; expired by a lifecycle rule. */
  staging: 'staging/',
  /** `state/<mailbox>.json`: which UIDLs are archived. */
  state: 'state/',
  /** `claims/<id>.json`: documents too large for a queue message. */
  claims: 'claims/',
  /** `config/mail-ingest.json`: the deployed runtime configuration. */
  config: 'config/',
} as const;

export type ArchivePrefix = keyof typeof ARCHIVE_LAYOUT;

/**
 * `state/leases/<mailbox>.json`: which run holds the mailbox now (lib/store/s3-lease.ts, fs-lease.ts). Under
 * `state/`, so the grants of the state cover it: get and put, never a delete (a lease is released by writing it
 * expired).
 */
export const LEASES_PREFIX = `${ARCHIVE_LAYOUT.state}leases/`;
