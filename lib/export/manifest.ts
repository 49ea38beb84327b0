import type { MetadataDocument } from '../document/metadata-schema.ts';

/** One exported message: enough to find it again in the archive and to check its bytes. */
export interface ManifestEntry {
  readonly id: string;
  readonly mailbox: string;
  readonly uidl: string;
  readonly date: string | null;
  readonly from: string;
  readonly subject: string | null;
  readonly sha256: string;
  readonly size: number;
  /** The archive key (fs: relative to the store folder; S3: the object key, in `bucket`). */
  readonly key: string;
  readonly bucket: string | null;
  /** The entry's name in the zip, or its position (1-based) in the mbox. */
  readonly file: string;
  /** Only the headers were archived (the message was over the size limit). */
  readonly oversized: boolean;
}

export function manifestEntry(doc: MetadataDocument, file: string): ManifestEntry {
  const from = doc.from[0];
  return {
    id: doc.id,
    mailbox: doc.mailbox,
    uidl: doc.uidl,
    date: doc.date,
    from: from === undefined ? '' : from.name === '' ? from.address : `${from.name} <${from.address}>`,
    subject: doc.subject,
    sha256: doc.raw.sha256,
    size: doc.raw.size,
    key: doc.raw.key,
    bucket: doc.raw.bucket ?? null,
    file,
    oversized: doc.flags.oversized,
  };
}

const COLUMNS: ReadonlyArray<keyof ManifestEntry> = [
  'id',
  'mailbox',
  'uidl',
  'date',
  'from',
  'subject',
  'sha256',
  'size',
  'key',
  'bucket',
  'file',
  'oversized',
];

/**
 * RFC 4180 quoting. A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading
 * apostrophe: subjects and names are sender-controlled (OWASP "CSV injection").
 */
function cell(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** UTF-8 with a byte order mark, so that spreadsheet programs read Japanese names correctly. CRLF rows (RFC 4180). */
export function manifestCsv(entries: readonly ManifestEntry[]): string {
  const rows = [COLUMNS.join(','), ...entries.map((e) => COLUMNS.map((c) => cell(e[c])).join(','))];
  return `\ufeff${rows.join('\r\n')}\r\n`;
}

export function manifestJson(entries: readonly ManifestEntry[], meta: Record<string, unknown>): string {
  return `${JSON.stringify({ ...meta, messages: entries }, null, 2)}\n`;
}
