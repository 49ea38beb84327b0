/** Durable file-system primitives shared by the fs store, the fs state store and the local publisher. */
import { createHash, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { StoreError } from '../store/types.ts';

/** Raw mail is personal data: files are created readable by the owner only. */
export const FILE_MODE = 0o600;

async function fsyncDirNow(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } catch (err) {
    // Some file systems (and Windows) refuse fsync on a directory; the data itself is synced, which is the best
    // such a platform offers.
    if (!isErrno(err, 'EINVAL') && !isErrno(err, 'EISDIR') && !isErrno(err, 'EPERM')) throw err;
  } finally {
    await fh.close();
  }
}

/** Per directory: the fsync running now, and the one queued behind it that later requests share. */
const dirSyncs = new Map<string, { running: Promise<void> | null; queued: Promise<void> | null }>();

/**
 * fsync a directory so that entries created, renamed or removed in it survive a power loss (POSIX makes the
 * rename itself atomic but not durable until the directory is synced).
 *
 * Group commit: many messages land in the same day's directory at once, and one fsync makes all their entries
 * durable. A request never shares an fsync that started before it (that one may miss its entry): it joins the
 * single fsync queued behind the running one, or starts one.
 */
export function fsyncDir(dir: string): Promise<void> {
  let slot = dirSyncs.get(dir);
  if (slot === undefined) {
    slot = { running: null, queued: null };
    dirSyncs.set(dir, slot);
  }
  if (slot.queued !== null) return slot.queued;
  const s = slot;
  const start = (): Promise<void> => {
    s.queued = null;
    const run = fsyncDirNow(dir).finally(() => {
      if (s.running === run) s.running = null;
      if (s.running === null && s.queued === null) dirSyncs.delete(dir);
    });
    s.running = run;
    return run;
  };
  if (s.running === null) return start();
  s.queued = s.running.then(start, start);
  return s.queued;
}

/** mkdir -p, then fsync the parent of every directory it created, so the new path itself is durable. */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  let d = dir;
  const created: string[] = [];
  for (;;) {
    created.push(d);
    if (d === first) break;
    const parent = dirname(d);
    if (parent === d) break;
    d = parent;
  }
  for (const c of created.reverse()) await fsyncDir(dirname(c));
}

/** Directories this process has made (or found) and made durable: a mkdir -p per message is measurable overhead. */
const knownDirs = new Set<string>();
/** The mkdirDurable in progress per directory: the first commits of a run arrive together and share it. */
const makingDirs = new Map<string, Promise<void>>();

/** mkdirDurable once per directory per process. */
export async function ensureDir(dir: string): Promise<void> {
  if (knownDirs.has(dir)) return;
  let making = makingDirs.get(dir);
  if (making === undefined) {
    making = mkdirDurable(dir)
      .then(() => {
        knownDirs.add(dir);
      })
      .finally(() => makingDirs.delete(dir));
    makingDirs.set(dir, making);
  }
  await making;
}

/**
 * Runs `op` (which creates an entry in `dir`) after ensureDir; if the directory vanished meanwhile (ENOENT: someone
 * removed it under a long-running process), makes it again and retries once.
 */
export async function inDir<T>(dir: string, op: () => Promise<T>): Promise<T> {
  await ensureDir(dir);
  try {
    return await op();
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
    knownDirs.delete(dir);
    await ensureDir(dir);
    return op();
  }
}

/** Writes the whole buffer (a single write(2) may be partial). */
export async function writeFully(fh: FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    off += bytesWritten;
  }
}

export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(path, 'r');
  try {
    // Sized to the file (most mail is a few KB): a 1 MiB buffer per small message is pure garbage-collector load.
    const { size: length } = await fh.stat();
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(1 << 20, length + 1)));
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * A new private temp file in `tmpDir` holding `data`, fsynced: what an atomic rename or link then places. The
 * caller removes it if placing it fails.
 */
export async function writeDurableTemp(data: string | Uint8Array, tmpDir: string): Promise<string> {
  const tmp = join(tmpDir, `${randomUUID()}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fh = await inDir(tmpDir, () => open(tmp, 'wx', FILE_MODE));
  try {
    try {
      await writeFully(fh, bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  return tmp;
}

/**
 * Replaces `path` atomically: a temp file in `tmpDir` (same file system), fsynced, renamed over `path`, and the
 * directory fsynced. A crash leaves either the old or the new content, never a mix.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, tmpDir: string): Promise<void> {
  const tmp = await writeDurableTemp(data, tmpDir);
  try {
    await inDir(dirname(path), () => rename(tmp, path));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDir(dirname(path));
}

/**
 * Creates `path` with `data` unless it exists: like writeFileAtomic (temp file, fsync, directory fsync), but placed
 * with link(2), which fails on an existing name instead of replacing it. Resolves with null when it wrote, or with
 * the bytes already at `path` (nothing written).
 */
export async function createFileExclusive(path: string, data: string | Uint8Array, tmpDir: string): Promise<Buffer | null> {
  const tmp = await writeDurableTemp(data, tmpDir);
  try {
    await inDir(dirname(path), () => link(tmp, path));
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return await readFile(path);
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  await fsyncDir(dirname(path));
  return null;
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** Wraps a file-system error as a StoreError (already-StoreErrors pass through). Only the path is quoted. */
export function toStoreError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const detail = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
  if (code === 'ENOENT') return new StoreError('ENOTFOUND', `${what}: ${detail}`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new StoreError('EACCESS', `${what}: ${detail}`, { cause: err });
  }
  return new StoreError('EIO', `${what}: ${detail}`, { cause: err });
}

/**
 * Maps a store key (forward slashes) to a path inside `root`, refusing anything that could escape it or alias
 * another key: absolute keys, backslashes, NUL, and empty, `.` or `..` segments.
 */
export function keyToPath(root: string, key: string): string {
  if (typeof key !== 'string' || key === '' || isAbsolute(key) || key.includes('\\') || key.includes('\0')) {
    throw new StoreError('EACCESS', `invalid store key ${JSON.stringify(key)}`, { retryable: false });
  }
  const segments = key.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new StoreError('EACCESS', `invalid store key ${JSON.stringify(key)}`, { retryable: false });
  }
  return join(root, ...segments);
}
