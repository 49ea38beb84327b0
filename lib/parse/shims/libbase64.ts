import { Transform, type TransformCallback } from 'node:stream';
// The real module by its path: in the bundles the name 'libbase64' is this file (aliases.mjs).
import * as real from '../../../node_modules/libbase64/dist/cjs/libbase64.js';

/**
 * Stands in for libbase64 in the CLI and Lambda bundles (aliases.mjs): the same module with a faster streaming
 * Decoder, the one mailsplit decodes every base64 body part with. libbase64's Decoder turns each chunk into a
 * string and strips every character outside the alphabet with a regular expression, about 2.4 s of CPU per GB;
 * most base64 bodies are lines of one length, which Node's own decoder reads past their line breaks directly.
 *
 * Output is byte for byte libbase64's (test/parse/libbase64-shim.test.ts compares them on random and hostile
 * input cut at random places). A run of whole lines is decoded natively when it holds nothing but the alphabet
 * and line breaks and its characters make whole quartets; that is checked, not assumed: the lines end where one
 * length says, none holds '=', '-' or '_' (which Node would read as URL-safe base64 where libbase64 skips them),
 * and the decoded length proves that every other byte was a base64 character. Anything else (padding, stray
 * bytes, uneven lines, a partial quartet carried) goes through libbase64's own algorithm.
 */

const LF = 0x0a;
const CR = 0x0d;
/** A partial line is carried to the next chunk only up to this length; a longer one is decoded the slow way. */
const MAX_CARRIED_LINE = 4096;

/** Bytes at the start of `buf` made of whole lines decoded natively, and their output; 0 when there are none. */
function decodeRegularLines(buf: Buffer): { end: number; out: Buffer | null } {
  const first = buf.indexOf(LF);
  if (first < 0) return { end: 0, out: null };
  const length = first + 1;
  const crlf = first > 0 && buf[first - 1] === CR;
  const width = length - (crlf ? 2 : 1);
  if (width <= 0 || width % 4 !== 0) return { end: 0, out: null };
  let lines = 1;
  for (let pos = 2 * length - 1; pos < buf.length; pos += length) {
    if (buf[pos] !== LF || (buf[pos - 1] === CR) !== crlf) break;
    lines++;
  }
  const end = lines * length;
  const run = buf.subarray(0, end);
  if (run.indexOf(0x3d) >= 0 || run.indexOf(0x2d) >= 0 || run.indexOf(0x5f) >= 0) return { end: 0, out: null };
  const out = Buffer.from(buf.toString('latin1', 0, end), 'base64');
  // Node skips every byte outside the alphabet: any besides the line breaks counted makes the output shorter.
  if (out.length !== (lines * width * 3) / 4) return { end: 0, out: null };
  return { end, out };
}

export class Decoder extends Transform {
  readonly options: object;
  inputBytes = 0;
  outputBytes = 0;
  /** libbase64's state: base64 characters carried, counted from the last '='. */
  #quartet = '';
  /** Bytes after the last line break, looked at with the next chunk. */
  #partial: Buffer | null = null;

  constructor(options?: object) {
    super();
    this.options = options ?? {};
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!chunk?.length) return done();
    this.inputBytes += chunk.length;
    const buf = this.#partial === null ? chunk : Buffer.concat([this.#partial, chunk]);
    this.#partial = null;
    let start = 0;
    if (this.#quartet === '') {
      const { end, out } = decodeRegularLines(buf);
      if (out !== null && out.length > 0) this.#emit(out);
      start = end;
    }
    const lastLf = buf.lastIndexOf(LF);
    const tail = lastLf < start ? buf.length - start : buf.length - lastLf - 1;
    const upTo = tail > 0 && tail <= MAX_CARRIED_LINE ? buf.length - tail : buf.length;
    if (upTo > start) this.#slow(buf.subarray(start, upTo));
    if (upTo < buf.length) this.#partial = Buffer.from(buf.subarray(upTo));
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.#partial !== null) {
      this.#slow(this.#partial);
      this.#partial = null;
    }
    if (this.#quartet) {
      this.#emit(real.decode(this.#quartet));
      this.#quartet = '';
    }
    done();
  }

  #emit(buf: Buffer): void {
    this.outputBytes += buf.length;
    this.push(buf);
  }

  /** libbase64's Decoder on one piece of input. */
  #slow(bytes: Buffer): void {
    let b64 = this.#quartet + bytes.toString('latin1');
    this.#quartet = '';
    if (/[^a-zA-Z0-9+/=]/.test(b64)) b64 = b64.replace(/[^a-zA-Z0-9+/=]/g, '');
    // Everything up to the last '=' ends in complete segments; quartets are counted from there on.
    let padded = '';
    const lastPad = b64.lastIndexOf('=');
    if (lastPad >= 0) {
      padded = b64.slice(0, lastPad + 1);
      b64 = b64.slice(lastPad + 1);
    }
    if (b64.length < 4) {
      this.#quartet = b64;
      b64 = '';
    } else if (b64.length % 4) {
      this.#quartet = b64.slice(-(b64.length % 4));
      b64 = b64.slice(0, b64.length - this.#quartet.length);
    }
    b64 = padded + b64;
    if (b64) this.#emit(real.decode(b64));
  }
}

export const { encode, decode, wrap, Encoder } = real;
export default { encode, decode, wrap, Encoder, Decoder };
