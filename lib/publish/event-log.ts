import { open, stat } from 'node:fs/promises';
import { isErrno } from '../fs/atomic.ts';

/** One line of the event log: where it starts, how many bytes it takes (its newline included), its text. */
export interface LogLine {
  readonly offset: number;
  readonly length: number;
  /** Null when the line is longer than the reader's limit (it is skipped whole, never held in memory). */
  readonly text: string | null;
}

const CHUNK = 1 << 20;

/** Bytes in the log; 0 when there is none yet. */
export async function logSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return 0;
    throw err;
  }
}

/**
 * The complete lines of `path` between byte `from` (a line start) and `to`. A last line without its newline is
 * not returned: another process may be appending it right now.
 */
export async function* readLines(path: string, from: number, to: number, maxLineBytes: number): AsyncGenerator<LogLine> {
  if (from >= to) return;
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = from;
    let lineStart = from;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let oversized = false;
    while (pos < to) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, to - pos), pos);
      if (bytesRead === 0) break;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        if (nl < 0 || nl >= bytesRead) break;
        const piece = buf.subarray(start, nl);
        const length = pos + nl + 1 - lineStart;
        const text = oversized || pendingBytes + piece.length > maxLineBytes ? null : Buffer.concat([...pending, piece]).toString('utf8');
        yield { offset: lineStart, length, text };
        lineStart += length;
        pending = [];
        pendingBytes = 0;
        oversized = false;
        start = nl + 1;
      }
      const rest = buf.subarray(start, bytesRead);
      if (!oversized && pendingBytes + rest.length <= maxLineBytes) {
        pending.push(Buffer.from(rest));
        pendingBytes += rest.length;
      } else {
        oversized = true;
        pending = [];
        pendingBytes = 0;
      }
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** The text of the line at `offset` of `length` bytes (newline included), as `readLines` gave it. */
export async function readLineAt(path: string, offset: number, length: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    if (bytesRead !== length || buf[length - 1] !== 0x0a)
      throw new Error(`the event log has no line of ${length} bytes at offset ${offset}`);
    return buf.subarray(0, length - 1).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Newlines between `from` and `to`: how many events a consumer still has to read. */
export async function countLines(path: string, from: number, to: number): Promise<number> {
  if (from >= to) return 0;
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let n = 0;
    for (let pos = from; pos < to; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, to - pos), pos);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(0x0a); i >= 0 && i < bytesRead; i = buf.indexOf(0x0a, i + 1)) n++;
      pos += bytesRead;
    }
    return n;
  } finally {
    await fh.close();
  }
}
