import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Every regular file below `dir` (missing directory: none). */
export async function listFiles(dir: string, filter: (name: string) => boolean = () => true): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile() && filter(e.name)).map((e) => join(e.parentPath, e.name));
}

export async function countFiles(dir: string, filter?: (name: string) => boolean): Promise<number> {
  return (await listFiles(dir, filter)).length;
}

export async function digestFiles(files: string[], transform: (b: Buffer, file: string) => Buffer = (b) => b): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) out.push(sha256(transform(await readFile(f), f)));
  return out;
}

/** CRLF -> LF, the change fetchmail and getmail6 make when they deliver. */
export function crlfToLf(b: Buffer): Buffer {
  const idx = b.indexOf('\r\n');
  if (idx < 0) return b;
  return Buffer.from(b.toString('latin1').replaceAll('\r\n', '\n'), 'latin1');
}

/** Undoes POP3 dot-stuffing (RFC 1939 section 3) on a CRLF body whose terminator is already gone. */
export function unstuff(b: Buffer): Buffer {
  const s = b.toString('latin1');
  if (!s.includes('\r\n..') && !s.startsWith('..')) return b;
  return Buffer.from(s.replace(/(^|\r\n)\.\./g, '$1.'), 'latin1');
}
