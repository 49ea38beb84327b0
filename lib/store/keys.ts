import { createHash } from 'node:crypto';
import { ARCHIVE_LAYOUT } from './layout.ts';

/**
 * A mailbox id becomes a path segment on disk and a segment of an S3 key, so it is restricted to characters that
 * are safe in both and can never be `.`/`..` (the first character is alphanumeric).
 */
export const MAILBOX_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const RAW_KEY_PATTERN = /^(?:(.+)\/)?raw\/([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/([0-9a-f]{64})\.eml$/;

export function isValidMailboxId(id: unknown): id is string {
  return typeof id === 'string' && MAILBOX_ID_PATTERN.test(id);
}

export function assertMailboxId(id: unknown): asserts id is string {
  if (!isValidMailboxId(id)) {
    throw new TypeError(`invalid mailbox id ${JSON.stringify(id)}: must match ${MAILBOX_ID_PATTERN}`);
  }
}

function assertSha256(sha256: unknown): asserts sha256 is string {
  if (typeof sha256 !== 'string' || !SHA256_PATTERN.test(sha256)) {
    throw new TypeError(`invalid sha256 ${JSON.stringify(sha256)}: expected 64 lower-case hex digits`);
  }
}

/** Strips surrounding slashes; refuses `.`/`..` and empty segments, which would escape or alias the layout. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new TypeError(`invalid key prefix ${JSON.stringify(prefix)}: empty, "." or ".." segment`);
    }
  }
  return trimmed;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `raw/<mailbox>/<yyyy>/<mm>/<dd>/` (UTC), under `prefix` when given: the partition listing walks. */
export function partitionPrefix(mailbox: string, date: Date, prefix = ''): string {
  assertMailboxId(mailbox);
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new TypeError('invalid date for raw key');
  const p = normalizePrefix(prefix);
  const part = `${ARCHIVE_LAYOUT.raw}${mailbox}/${String(date.getUTCFullYear()).padStart(4, '0')}/${pad2(date.getUTCMonth() + 1)}/${pad2(date.getUTCDate())}/`;
  return p === '' ? part : `${p}/${part}`;
}

/**
 * Content-addressed key of a raw message: `[prefix/]raw/<mailbox>/<yyyy>/<mm>/<dd>/<sha256>.eml`, partitioned by
 * a day in UTC (the pipeline passes the arrival date read from the message itself: lib/ingest/arrival-date.ts). Two messages sharing a UIDL (RFC 1939 section 7) still get distinct keys by content.
 */
export function rawKey(mailbox: string, date: Date, sha256: string, prefix = ''): string {
  assertSha256(sha256);
  return `${partitionPrefix(mailbox, date, prefix)}${sha256}.eml`;
}

/** The metadata JSON stored beside a raw message. */
export function metadataKeyFor(rawKeyValue: string): string {
  if (!rawKeyValue.endsWith('.eml')) throw new TypeError(`not a raw message key (no .eml): ${JSON.stringify(rawKeyValue)}`);
  return `${rawKeyValue.slice(0, -'.eml'.length)}.json`;
}

export interface ParsedRawKey {
  readonly prefix: string;
  readonly mailbox: string;
  /** Midnight UTC of the partition day. */
  readonly date: Date;
  readonly sha256: string;
}

/** Inverse of `rawKey`; null for anything that is not a well-formed raw key (including impossible dates). */
export function parseRawKey(key: string): ParsedRawKey | null {
  const m = RAW_KEY_PATTERN.exec(key);
  if (m === null) return null;
  const [, prefix = '', mailbox, yyyy, mm, dd, sha256] = m;
  if (!isValidMailboxId(mailbox)) return null;
  const date = new Date(Date.UTC(Number(yyyy), Number(mm) - 1, Number(dd)));
  if (
    Number.isNaN(date.getTime()) ||
    date.getUTCFullYear() !== Number(yyyy) ||
    date.getUTCMonth() + 1 !== Number(mm) ||
    date.getUTCDate() !== Number(dd)
  ) {
    return null;
  }
  return { prefix, mailbox: mailbox!, date, sha256: sha256! };
}

/**
 * Hex SHA-256 of a UIDL in its mailbox. UIDLs are arbitrary server strings (RFC 1939: 0x21-0x7E, up to 70
 * chars, but servers send worse), so anything named after one (a file, a key, an SQS batch entry id) uses this.
 * The NUL separator keeps ("a", "bc") and ("ab", "c") apart.
 */
export function hashUidl(mailbox: string, uidl: string): string {
  return createHash('sha256').update(mailbox, 'utf8').update('\0').update(uidl, 'utf8').digest('hex');
}
