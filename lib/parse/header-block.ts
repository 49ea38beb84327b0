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
  /** What was wrong with the block and repaired to read its fields (empty for a well-formed block). */
  readonly damage: readonly string[];
}

// RFC 5322 2.2: field name is printable US-ASCII except colon; obsolete syntax (RFC 5322 4.5) allows WSP before the colon.
const FIELD = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;
// A line holding nothing but a field name: the colon was folded onto the next line ("From\r\n : x@y").
const BARE_NAME = /^([\x21-\x39\x3b-\x7e]+)[ \t]*$/;
const FOLDED_COLON = /^[ \t]*:/;
// How far a block may start with whitespace-only lines before it is taken for a body instead.
const MAX_LEADING_BLANKS = 20;

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

/** "From sender date", the envelope line of mbox files; "From  : x" is a From field (RFC 5322 4.5 obsolete WSP). */
export function isMboxFrom(line: Buffer): boolean {
  const start = line.subarray(0, 200).toString('latin1');
  return /^From \S/.test(start) && !/^From[ \t]*:/.test(start);
}

const isWsp = (b: number | undefined): boolean => b === 0x20 || b === 0x09;
const latin = (line: Buffer): string => line.subarray(0, 200).toString('latin1');

function blankish(line: Buffer): boolean {
  for (const b of line) if (!isWsp(b)) return false;
  return true;
}

function trimStart(line: Buffer): Buffer {
  let i = 0;
  while (isWsp(line[i])) i++;
  return line.subarray(i);
}

/** The lines of `block` without their line ends; at most `max` of them. */
function splitLines(block: Buffer, max = Number.POSITIVE_INFINITY): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < block.length && lines.length < max) {
    let nl = block.indexOf(0x0a, start);
    if (nl < 0) nl = block.length;
    let stop = nl;
    if (stop > start && block[stop - 1] === 0x0d) stop--;
    lines.push(block.subarray(start, stop));
    start = nl + 1;
  }
  return lines;
}

/**
 * Where the fields start: past an mbox envelope line and past whitespace-only lines, with the first field's
 * indentation dropped (and returned: a block indented as a whole is indented the same way on every field).
 * Python's email package, flanker and php-mime-mail-parser read such a block rather than discard it; so do we,
 * and say what was repaired.
 */
function fieldStart(lines: Buffer[], damage: string[]): { start: number; indent: string | null } {
  let i = 0;
  // An mbox envelope line ("From sender date") before the headers, as files saved from mbox start: skipped.
  if (lines.length > 0 && isMboxFrom(lines[0]!)) i++;
  const first = i;
  while (i < lines.length && i - first < MAX_LEADING_BLANKS && lines[i]!.length > 0 && blankish(lines[i]!)) i++;
  if (i > first) damage.push(`header block starts with ${i - first} whitespace-only line${i - first > 1 ? 's' : ''}`);
  let indent: string | null = null;
  if (i < lines.length && isWsp(lines[i]![0]) && FIELD.test(latin(trimStart(lines[i]!)))) {
    damage.push('first header field is indented');
    const trimmed = trimStart(lines[i]!);
    indent = latin(lines[i]!.subarray(0, lines[i]!.length - trimmed.length));
    lines[i] = trimmed;
  }
  return { start: i, indent };
}

function opensField(lines: readonly Buffer[], i: number): boolean {
  const line = lines[i];
  if (line === undefined) return false;
  if (FIELD.test(latin(line))) return true;
  const next = lines[i + 1];
  return BARE_NAME.test(latin(line)) && next !== undefined && FOLDED_COLON.test(latin(next));
}

/**
 * Whether `buf` (the first bytes of a message) starts with a header block: 'more' when it cannot tell yet
 * (whitespace-only lines, or a bare field name whose colon may be on the next line, and no more bytes).
 */
export function headerStart(buf: Buffer, ended: boolean): 'fields' | 'body' | 'more' {
  const lastNl = buf.lastIndexOf(0x0a);
  // fieldStart looks past an envelope line and MAX_LEADING_BLANKS blank ones, then at two lines: no further.
  const lines = splitLines(
    lastNl < 0 ? (ended ? buf : Buffer.alloc(0)) : buf.subarray(0, ended ? buf.length : lastNl + 1),
    MAX_LEADING_BLANKS + 3,
  );
  const i = fieldStart(lines, []).start;
  if (i < lines.length && lines[i]!.length === 0) return 'body';
  // Two lines past the start are enough to see a folded colon; a long partial line is decided as it stands.
  if (!ended && lines.length < i + 2 && buf.length < 4096) return 'more';
  return opensField(lines, i) ? 'fields' : 'body';
}

/**
 * Splits the header block at the start of `buf`. When `buf` ends before the blank line (a header-only message,
 * or a block cut at the size cap) the lines present are returned with `complete: false`.
 */
export function parseHeaderBlock(buf: Buffer): HeaderBlock {
  const end = findHeaderEnd(buf);
  const block = end < 0 ? buf : buf.subarray(0, end);
  const lines = splitLines(block);
  while (lines.length > 0 && lines[lines.length - 1]!.length === 0) lines.pop();
  const damage: string[] = [];
  const { start, indent } = fieldStart(lines, damage);

  if (start >= lines.length || !opensField(lines, start)) {
    return { headers: [], length: lines.length === 0 && end >= 0 ? end : 0, complete: end >= 0, headerless: buf.length > 0, damage: [] };
  }

  const headers: RawHeader[] = [];
  let name = '';
  let parts: Buffer[] = [];
  const flush = (): void => {
    if (!name) return;
    const value = Buffer.concat(parts);
    let s = 0;
    while (s < value.length && isWsp(value[s])) s++;
    let e = value.length;
    while (e > s && isWsp(value[e - 1])) e--;
    headers.push({ name, value: value.subarray(s, e) });
    name = '';
    parts = [];
  };
  for (let i = start; i < lines.length; i++) {
    let line = lines[i]!;
    // In a block indented as a whole, a line with the first field's indentation that reads as a field is one.
    if (
      indent !== null &&
      i > start &&
      latin(line).startsWith(indent) &&
      !isWsp(line[indent.length]) &&
      FIELD.test(latin(line.subarray(indent.length)))
    ) {
      line = line.subarray(indent.length);
    }
    if (isWsp(line[0]) && name) {
      parts.push(line); // RFC 5322 2.2.3: unfolding removes the CRLF, the whitespace stays
      continue;
    }
    const match = FIELD.exec(latin(line));
    if (match) {
      flush();
      name = match[1]!.toLowerCase();
      parts = [line.subarray(match[0].length)];
      continue;
    }
    // "From" alone, the colon folded onto the next line: the name is unambiguous, so the field is read.
    const bare = BARE_NAME.exec(latin(line));
    const next = lines[i + 1];
    if (bare && next !== undefined && FOLDED_COLON.test(latin(next))) {
      flush();
      name = bare[1]!.toLowerCase();
      parts = [next.subarray(next.indexOf(0x3a) + 1)];
      damage.push(`field "${name}" folded before its colon`);
      i++;
    }
    // Otherwise a stray non-field line: skipped, as mail clients do; a folded line after it still continues
    // the field before it (a line of junk inside a folded To: does not cut the address off).
  }
  flush();
  return { headers, length: end < 0 ? block.length : end, complete: end >= 0, headerless: false, damage };
}

/**
 * The block written out again in canonical form, one unfolded field per line, followed by the bytes after it:
 * what mailparser is given when the original block was damaged, so that it finds the same Content-Type (and MIME
 * structure) as our own reading. The archived bytes are never touched.
 */
export function rewriteHeaderBlock(buf: Buffer, block: HeaderBlock): Buffer {
  const out: Buffer[] = [];
  for (const h of block.headers) out.push(Buffer.from(`${h.name}: `, 'latin1'), h.value, Buffer.from('\r\n', 'latin1'));
  if (block.complete) out.push(Buffer.from('\r\n', 'latin1'));
  out.push(buf.subarray(block.length));
  return Buffer.concat(out);
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
    return this.list.filter((h) => h.name === name).map((h) => h.value);
  }

  has(name: string): boolean {
    return this.list.some((h) => h.name === name);
  }

  /** First occurrence as ASCII-ish text (latin1), for structured fields whose syntax is ASCII. */
  text(name: string): string | null {
    const v = this.first(name);
    return v === null ? null : v.toString('latin1');
  }
}
