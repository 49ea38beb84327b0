/**
 * The top-level header block read from the raw bytes, before and independently of mailparser: mailparser reads
 * header bytes as latin1/UTF-8, which loses raw Shift_JIS and EUC-JP and leaves raw ISO-2022-JP escape
 * sequences in the text, and it gives up on headers over 1 MB. Here every field keeps its bytes.
 */

export interface RawHeader {
  /** Lower-cased field name. */
  readonly name: string;
  /** The value's bytes, unfolded (CRLF before folding whitespace removed), leading whitespace trimmed. */
  readonly value: Buffer;
}

export interface HeaderBlock {
  readonly headers: readonly RawHeader[];
  /** Bytes up to and including the blank line that ends the block (or the whole input when it has none). */
  readonly length: number;
  /** True when the blank line ending the block was found. */
  readonly complete: boolean;
  /** True when the message does not start with a header field at all (body only). */
  readonly headerless: boolean;
}

// RFC 5322 2.2: field name is printable US-ASCII except colon; obsolete syntax (RFC 5322 4.5) allows WSP before the colon.
const FIELD = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/** Offset just past the blank line ending the header block, or -1 when `buf` holds no complete block. */
export function findHeaderEnd(buf: Buffer): number {
  if (buf.length > 0 && buf[0] === 0x0a) return 1;
  if (buf.length > 1 && buf[0] === 0x0d && buf[1] === 0x0a) return 2;
  for (let i = buf.indexOf(0x0a); i >= 0 && i < buf.length; i = buf.indexOf(0x0a, i + 1)) {
    let j = i + 1;
    if (buf[j] === 0x0d) j++;
    if (j < buf.length && buf[j] === 0x0a) return j + 1;
  }
  return -1;
}

export function isMboxFrom(line: Buffer): boolean {
  return line.subarray(0, 5).toString('latin1') === 'From ';
}

function startsWithField(line: Buffer): boolean {
  return FIELD.test(line.subarray(0, 200).toString('latin1'));
}

/**
 * Splits the header block at the start of `buf`. When `buf` ends before the blank line (a header-only message,
 * or a block cut at the size cap) the lines present are returned with `complete: false`.
 */
export function parseHeaderBlock(buf: Buffer): HeaderBlock {
  const end = findHeaderEnd(buf);
  const block = end < 0 ? buf : buf.subarray(0, end);
  const lines: Buffer[] = [];
  let start = 0;
  while (start < block.length) {
    let nl = block.indexOf(0x0a, start);
    if (nl < 0) nl = block.length;
    let stop = nl;
    if (stop > start && block[stop - 1] === 0x0d) stop--;
    lines.push(block.subarray(start, stop));
    start = nl + 1;
  }
  while (lines.length > 0 && lines[lines.length - 1]!.length === 0) lines.pop();
  // An mbox envelope line ("From sender date") before the headers, as files saved from mbox start: skipped.
  if (lines.length > 0 && isMboxFrom(lines[0]!)) lines.shift();

  if (lines.length === 0 || !startsWithField(lines[0]!)) {
    return { headers: [], length: lines.length === 0 && end >= 0 ? end : 0, complete: end >= 0, headerless: buf.length > 0 };
  }

  const headers: RawHeader[] = [];
  let name = '';
  let parts: Buffer[] = [];
  const flush = (): void => {
    if (!name) return;
    const value = Buffer.concat(parts);
    let s = 0;
    while (s < value.length && (value[s] === 0x20 || value[s] === 0x09)) s++;
    let e = value.length;
    while (e > s && (value[e - 1] === 0x20 || value[e - 1] === 0x09)) e--;
    headers.push({ name, value: value.subarray(s, e) });
    name = '';
    parts = [];
  };
  for (const line of lines) {
    if ((line[0] === 0x20 || line[0] === 0x09) && name) {
      parts.push(line); // RFC 5322 2.2.3: unfolding removes the CRLF, the whitespace stays
      continue;
    }
    const match = FIELD.exec(line.subarray(0, 200).toString('latin1'));
    flush();
    if (!match) continue; // a stray non-field line: skipped, as mail clients do
    name = match[1]!.toLowerCase();
    parts = [line.subarray(match[0].length)];
  }
  flush();
  return { headers, length: end < 0 ? block.length : end, complete: end >= 0, headerless: false };
}

/** Convenience lookups over the raw header list. */
export class HeaderMap {
  readonly list: readonly RawHeader[];

  constructor(list: readonly RawHeader[]) {
    this.list = list;
  }

  /** First occurrence: the one a mail client shows when a field is duplicated. */
  first(name: string): Buffer | null {
    for (const h of this.list) if (h.name === name) return h.value;
    return null;
  }

  all(name: string): Buffer[] {
    return this.list.filter(h => h.name === name).map(h => h.value);
  }

  has(name: string): boolean {
    return this.list.some(h => h.name === name);
  }

  /** First occurrence as ASCII-ish text (latin1), for structured fields whose syntax is ASCII. */
  text(name: string): string | null {
    const v = this.first(name);
    return v === null ? null : v.toString('latin1');
  }
}
