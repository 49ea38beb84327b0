-- Athena table over the archive index written by the archive-index processor
-- (s3://<archive bucket>/<OUTPUT_PREFIX>dt=YYYY-MM-DD/<doc id>.json, one JSON line per object; the stack's
-- OUTPUT_PREFIX for it is "index/"). Replace <archive-bucket>, and index/ if you chose another prefix. Partition projection: no MSCK REPAIR or crawler needed,
-- new days are queryable as soon as they are written. Columns follow IndexRow in archive-index.ts.
CREATE EXTERNAL TABLE IF NOT EXISTS mail_ingest_index (
  id                string,
  mailbox           string,
  uidl              string,
  ingested_at       string,
  message_date      string,
  message_id        string,
  in_reply_to       string,
  subject           string,
  from_address      string,
  from_name         string,
  to_addresses      array<string>,
  cc_addresses      array<string>,
  reply_to          string,
  attachment_count  int,
  attachment_names  array<string>,
  attachment_sha256 array<string>,
  size              bigint,
  raw_bucket        string,
  raw_key           string,
  raw_sha256        string,
  auto_reply        boolean,
  bounce            boolean,
  list              boolean,
  bulk              boolean,
  spam              boolean,
  oversized         boolean,
  list_id           string,
  snippet           string,
  parse_error       string,
  schema_version    int
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'false')
LOCATION 's3://<archive-bucket>/index/'
TBLPROPERTIES (
  'projection.enabled'          = 'true',
  'projection.dt.type'          = 'date',
  'projection.dt.format'        = 'yyyy-MM-dd',
  'projection.dt.range'         = '2024-01-01,NOW',
  'projection.dt.interval'      = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template'   = 's3://<archive-bucket>/index/dt=${dt}/'
);

-- Example: yesterday's mail to support with attachments.
-- SELECT ingested_at, from_address, subject, attachment_names
-- FROM mail_ingest_index
-- WHERE dt = date_format(current_date - interval '1' day, '%Y-%m-%d')
--   AND contains(to_addresses, 'support@example.jp') AND attachment_count > 0;
