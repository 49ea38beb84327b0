import { randomUUID } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FILE_MODE, isErrno, writeFully } from './atomic.ts';

export interface LockFileOptions {
  /** Give up after this long; `busy` says why. */
  readonly waitMs: number;
  /** A lock older than this is broken even when its owner cannot be checked (another host). */
  readonly staleMs: number;
  /** The pause before attempt `n` (0-based), while another process holds the lock. */
  readonly backoff: (attempt: number) => number;
  /** The error when the lock is still held at the end of `waitMs`. */
  readonly busy: () => Error;
  /** The error for anything but "held by another" while creating the lock file. */
  readonly failed: (err: unknown) => Error;
}

/**
 * An O_EXCL lock file that serializes processes on this machine. It records its owner (host, pid, a token), so
 * the lock of a process that died (kill -9) is broken at once, not only after `staleMs`; the release removes the
 * file only while it is still ours (it may have been broken as stale and retaken).
 */
export async function acquireLockFile(lockPath: string, options: LockFileOptions): Promise<() => Promise<void>> {
  const token = randomUUID();
  const owner = JSON.stringify({ pid: process.pid, host: hostname(), token, at: new Date().toISOString() });
  const deadline = Date.now() + options.waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lockPath, 'wx', FILE_MODE);
      try {
        await writeFully(fh, Buffer.from(owner));
      } finally {
        await fh.close();
      }
      return async () => {
        try {
          const held = JSON.parse(await readFile(lockPath, 'utf8')) as { token?: string };
          if (held.token === token) await unlink(lockPath);
        } catch {
          // Already gone, or broken as stale and taken by another: not ours to remove.
        }
      };
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw options.failed(err);
    }
    if (await isStale(lockPath, options.staleMs)) {
      await unlink(lockPath).catch(() => {});
      continue;
    }
    if (Date.now() >= deadline) throw options.busy();
    await sleep(options.backoff(attempt));
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const st = await stat(lockPath);
    if (Date.now() - st.mtimeMs > staleMs) return true;
    const owner = JSON.parse(await readFile(lockPath, 'utf8')) as { pid?: unknown; host?: unknown };
    if (owner.host === hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid) {
      try {
        process.kill(owner.pid, 0);
      } catch (err) {
        return isErrno(err, 'ESRCH');
      }
    }
    return false;
  } catch {
    // Released meanwhile, or half-written by a process creating it right now: look again.
    return false;
  }
}
