import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic.ts';
import { PreconditionFailedError, type ObjectStore, type PutOptions, type RawOpener, type StoredObject } from './object-store.ts';

const etagOf = (body: Buffer) => `"${createHash('sha256').update(body).digest('hex')}"`;

/**
 * The processors' ObjectStore on a local folder, for running them from the CLI over the fs archive. Conditional
 * writes compare the content hash (the etag) before an atomic rename: enough for one process; two processes
 * writing the same ticket at the same instant could still both pass the check (S3 closes that gap, a folder
 * does not), so run one processor process per folder.
 */
export class FsObjectStore implements ObjectStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  #path(key: string): string {
    const p = resolve(this.dir, key);
    if (!p.startsWith(this.dir + sep)) throw new TypeError(`key ${JSON.stringify(key)} escapes the store folder`);
    return p;
  }

  async get(key: string): Promise<StoredObject | null> {
    try {
      const body = await readFile(this.#path(key));
      return { body, etag: etagOf(body) };
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return null;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.#path(key));
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return false;
      throw err;
    }
  }

  async put(key: string, body: Buffer | string, options: PutOptions = {}): Promise<{ etag: string }> {
    const path = this.#path(key);
    const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (options.ifNoneMatch === '*' || options.ifMatch !== undefined) {
      const current = await this.get(key);
      if (options.ifNoneMatch === '*' && current !== null) throw new PreconditionFailedError(key);
      if (options.ifMatch !== undefined && current?.etag !== options.ifMatch) throw new PreconditionFailedError(key);
    }
    // The same durable write as the archive's own files (lib/fs): a private temp file in the same folder, fsynced,
    // renamed into place, the folder fsynced; mode 0600, as extracted attachments are mail content.
    await writeFileAtomic(path, buf, dirname(path));
    return { etag: etagOf(buf) };
  }
}

/** Opens raw messages of the fs archive (keys relative to its folder). */
export function fsRawOpener(dir: string): RawOpener {
  const root = resolve(dir);
  return async (ref) => {
    const p = resolve(root, ref.key);
    if (!p.startsWith(root + sep)) throw new TypeError(`raw key ${JSON.stringify(ref.key)} escapes the archive folder`);
    await stat(p);
    return createReadStream(p) as Readable;
  };
}
