import { createHash } from 'node:crypto';
import { PreconditionFailedError, type ObjectStore, type PutOptions, type StoredObject } from './object-store.ts';

/**
 * An in-memory ObjectStore that enforces `ifMatch` / `ifNoneMatch` as S3 does (412 → PreconditionFailedError),
 * for unit tests and for exercising the conflict paths that fauxqs does not enforce.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, { body: Buffer; etag: string; contentType?: string }>();
  /** Every put attempted, in order, with its outcome (tests assert on retries). */
  readonly puts: Array<{ key: string; ok: boolean }> = [];
  /** Runs before each put is checked: lets a test slip a concurrent write in between a read and a write. */
  beforePut: ((key: string) => void | Promise<void>) | null = null;

  async get(key: string): Promise<StoredObject | null> {
    const o = this.objects.get(key);
    return o === undefined ? null : { body: Buffer.from(o.body), etag: o.etag };
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async put(key: string, body: Buffer | string, options: PutOptions = {}): Promise<{ etag: string }> {
    if (this.beforePut !== null) await this.beforePut(key);
    const current = this.objects.get(key);
    const conflict =
      (options.ifNoneMatch === '*' && current !== undefined) || (options.ifMatch !== undefined && current?.etag !== options.ifMatch);
    this.puts.push({ key, ok: !conflict });
    if (conflict) throw new PreconditionFailedError(key);
    const buf = Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(body, 'utf8');
    const etag = `"${createHash('md5').update(buf).digest('hex')}-${this.puts.length}"`;
    this.objects.set(key, { body: buf, etag, ...(options.contentType === undefined ? {} : { contentType: options.contentType }) });
    return { etag };
  }

  /** The object at `key` parsed as JSON (tests). */
  json<T = unknown>(key: string): T {
    const o = this.objects.get(key);
    if (o === undefined) throw new Error(`no object at ${key}`);
    return JSON.parse(o.body.toString('utf8')) as T;
  }

  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}
