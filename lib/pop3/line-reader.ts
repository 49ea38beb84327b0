import { Pop3Error } from './errors.ts';

const LF = 0x0a;
const CR = 0x0d;

/**
 * Assembles CRLF (or bare LF) terminated lines out of socket chunks, refusing any line longer than `maxLength`
 * bytes before it is complete, so an endless line costs at most `maxLength` bytes of memory.
 */
export class LineReader {
  private readonly maxLength: number;
  private parts: Buffer[] = [];
  private partLength = 0;

  constructor(maxLength: number) {
    this.maxLength = maxLength;
  }

  /** Bytes of an unfinished line held so far. */
  get pending(): number {
    return this.partLength;
  }

  /**
   * Reads one line from `chunk` starting at `offset`. Returns the line (without its line ending), the offset after
   * it and the bytes it took on the wire (line ending included), or null when the chunk ended first (the partial
   * line is kept for the next call).
   */
  read(chunk: Buffer, offset: number, what: string): { line: string; next: number; bytes: number } | null {
    const nl = chunk.indexOf(LF, offset);
    const end = nl === -1 ? chunk.length : nl;
    if (this.partLength + (end - offset) > this.maxLength + 1) {
      // +1 tolerates the CR of a line of exactly maxLength bytes
      throw new Pop3Error('EPROTOCOL', `${what} longer than ${this.maxLength} bytes`);
    }
    if (nl === -1) {
      if (end > offset) {
        this.parts.push(chunk.subarray(offset, end));
        this.partLength += end - offset;
      }
      return null;
    }
    let bytes: Buffer;
    const wire = this.partLength + (nl + 1 - offset);
    if (this.parts.length === 0) {
      bytes = chunk.subarray(offset, nl);
    } else {
      this.parts.push(chunk.subarray(offset, nl));
      bytes = Buffer.concat(this.parts);
      this.parts = [];
      this.partLength = 0;
    }
    const length = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    return { line: bytes.toString('utf8', 0, length), next: nl + 1, bytes: wire };
  }
}
