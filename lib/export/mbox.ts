import type { MetadataDocument } from '../document/metadata-schema.ts';

const FROM = Buffer.from('From ');
const GT = 0x3e;
const LF = 0x0a;

/** asctime(3) in UTC, as the mbox "From " line carries it: `Mon Mar  3 01:00:00 2025`. */
function asctime(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** The separator line before a message: the envelope sender (Return-Path, else From, else MAILER-DAEMON) and when we received it. */
export function mboxFromLine(doc: MetadataDocument): string {
  const returnPath = doc.headers.returnPath?.replace(/^<|>$/g, '').trim() ?? '';
  const candidate = returnPath !== '' ? returnPath : (doc.from[0]?.address ?? '');
  // The sender is one token on the line: anything with space or control characters is not used.
  const sender = /^[\x21-\x7e]{1,254}$/.test(candidate) ? candidate : 'MAILER-DAEMON';
  const when = new Date(doc.ingestedAt);
  return `From ${sender} ${asctime(Number.isNaN(when.getTime()) ? new Date(0) : when)}\n`;
}

/**
 * mboxrd quoting of one message, streamed: every line that starts with zero or more `>` and then `From ` gets one
 * more `>`, so no line of a message can be read as a separator and unquoting restores the bytes exactly.
 * Line ends stay as they are (CRLF stays CRLF). Works across chunk boundaries.
 */
export class MboxrdQuoter {
  #atLineStart = true;
  #carry: Buffer = Buffer.alloc(0);

  /** Quoted bytes for `chunk` (some may be held back until the next call or `end`). */
  push(chunk: Buffer): Buffer[] {
    const data = this.#carry.length === 0 ? chunk : Buffer.concat([this.#carry, chunk]);
    this.#carry = Buffer.alloc(0);
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < data.length) {
      if (this.#atLineStart) {
        let i = pos;
        while (i < data.length && data[i] === GT) i++;
        const rest = data.subarray(i, i + FROM.length);
        if (rest.length < FROM.length && FROM.subarray(0, rest.length).equals(rest) && !rest.includes(LF)) {
          this.#carry = Buffer.from(data.subarray(pos)); // cannot decide yet
          return out;
        }
        if (rest.equals(FROM)) out.push(Buffer.from('>'));
        this.#atLineStart = false;
      }
      const nl = data.indexOf(LF, pos);
      if (nl < 0) {
        out.push(data.subarray(pos));
        break;
      }
      out.push(data.subarray(pos, nl + 1));
      pos = nl + 1;
      this.#atLineStart = true;
    }
    return out;
  }

  /** What is still held back: a last line too short to be a "From " line. */
  end(): Buffer[] {
    const rest = this.#carry;
    this.#carry = Buffer.alloc(0);
    return rest.length === 0 ? [] : [rest];
  }
}

/**
 * Splits an mboxrd file back into messages (the inverse of the export): a separator is a line starting with
 * `From ` at the start of the file or after a blank line; the blank line the writer added after each message is
 * removed, and one `>` is taken off every `>From ` line. Returns each message's bytes and its separator line.
 */
export function splitMboxrd(mbox: Buffer): Array<{ fromLine: string; bytes: Buffer }> {
  const out: Array<{ fromLine: string; bytes: Buffer }> = [];
  let current: { fromLine: string; lines: Buffer[] } | null = null;
  let pos = 0;
  let prevBlank = true;
  const finish = (): void => {
    if (current === null) return;
    const bytes = Buffer.concat(current.lines);
    // The writer ends every message with a line break and then one blank line ("\n").
    out.push({
      fromLine: current.fromLine,
      bytes: bytes.length > 0 && bytes[bytes.length - 1] === LF ? bytes.subarray(0, bytes.length - 1) : bytes,
    });
  };
  while (pos < mbox.length) {
    let nl = mbox.indexOf(LF, pos);
    if (nl < 0) nl = mbox.length - 1;
    const line = mbox.subarray(pos, nl + 1);
    pos = nl + 1;
    if (prevBlank && line.subarray(0, FROM.length).equals(FROM)) {
      finish();
      current = { fromLine: line.toString('latin1').replace(/\r?\n$/, ''), lines: [] };
      prevBlank = false;
      continue;
    }
    prevBlank = line.length === 1 || (line.length === 2 && line[0] === 0x0d);
    if (current === null) continue;
    let i = 0;
    while (i < line.length && line[i] === GT) i++;
    current.lines.push(i > 0 && line.subarray(i, i + FROM.length).equals(FROM) ? line.subarray(1) : line);
  }
  finish();
  return out;
}
