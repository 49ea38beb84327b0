import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { Pop3Error } from './errors.ts';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CR_BUF = Buffer.from([CR]);

// States. Only the stuffing dot and a CR that may belong to the terminator are ever held back, so the state alone
// is enough to carry a split across chunks: no byte is buffered between calls.
const LINE_START = 0; // at the first byte of a line (start of body or just after LF)
const MID_LINE = 1;
const AFTER_DOT = 2; // "." at line start, held back
const AFTER_DOT_CR = 3; // ".\r" at line start, both held back

/**
 * Incremental decoder for a POP3 multi-line body (RFC 1939 section 3): strips the stuffing dot at the start of a
 * line, stops at "CRLF.CRLF", and passes every other byte through untouched (CRLF, bare CR/LF, 8-bit, NUL).
 * A line starts at the beginning of the body or after any LF (as servers stuff it, e.g. Dovecot's ostream-dot).
 * Output slices are views of the input chunk: no copy.
 */
export class DotDecoder {
  private state = LINE_START;
  private finished = false;

  get done(): boolean {
    return this.finished;
  }

  /**
   * Decodes `chunk`, calling `emit` for each piece of body. Returns the offset just past the terminator, or -1
   * when the whole chunk was consumed without reaching it.
   */
  decode(chunk: Buffer, emit: (piece: Buffer) => void): number {
    if (this.finished) throw new Error('DotDecoder: already finished');
    const len = chunk.length;
    let i = 0;
    let start = 0; // start of the pending output segment
    let state = this.state;
    while (i < len) {
      if (state === MID_LINE) {
        const nl = chunk.indexOf(LF, i);
        if (nl === -1) {
          i = len;
          break;
        }
        i = nl + 1;
        state = LINE_START;
      } else if (state === LINE_START) {
        if (chunk[i] === DOT) {
          if (i > start) emit(chunk.subarray(start, i));
          i += 1;
          start = i;
          state = AFTER_DOT;
        } else {
          state = MID_LINE;
        }
      } else if (state === AFTER_DOT) {
        if (chunk[i] === CR) {
          i += 1;
          start = i;
          state = AFTER_DOT_CR;
        } else {
          // A stuffed ".." or a malformed ".x": RFC 1939 strips the first dot either way.
          state = MID_LINE;
        }
      } else {
        if (chunk[i] === LF) {
          this.state = LINE_START;
          this.finished = true;
          return i + 1;
        }
        // ".\r" not followed by LF: not the terminator; the dot goes, the CR was content.
        emit(CR_BUF);
        state = MID_LINE;
      }
    }
    if (len > start) emit(chunk.subarray(start, len));
    this.state = state;
    return -1;
  }
}

/**
 * A Transform from a dot-stuffed multi-line body (starting after the "+OK" line) to the raw message. Ends its
 * output at the terminator; input after it or input that ends before it is an EPROTOCOL error. The client does
 * not pipe through this (it needs the offset of the terminator to go on with the next response): it is the same
 * decoder offered as a stream, for other uses and for the tests.
 */
export class DotUnstuffer extends Transform {
  private readonly decoder = new DotDecoder();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.decoder.done) {
      if (chunk.length > 0) {
        callback(new Pop3Error('EPROTOCOL', 'Data after the end of a multi-line response'));
        return;
      }
      callback();
      return;
    }
    const end = this.decoder.decode(chunk, (piece) => {
      this.push(piece);
    });
    if (end !== -1 && end < chunk.length) {
      callback(new Pop3Error('EPROTOCOL', 'Data after the end of a multi-line response'));
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.decoder.done) {
      callback(new Pop3Error('EPROTOCOL', 'Multi-line response ended without its terminator'));
      return;
    }
    callback();
  }
}
