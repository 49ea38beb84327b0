import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** What we know about bytes we wrote: enough to check any checksum S3 reports for them. */
export interface Digests {
  readonly size: number;
  readonly sha256Hex: string;
  /** Base64 of the SHA-256, as S3 reports a full-object ChecksumSHA256. */
  readonly sha256Base64: string;
  /**
   * S3's composite checksum of a multipart upload cut at our part size: base64(SHA-256(part digests)) + `-N`.
   * Null for fewer than two parts (lib-storage then sends one PutObject, whose checksum is the full one).
   */
  readonly composite: string | null;
}

/**
 * SHA-256 of a stream as it passes, plus one SHA-256 per `partSize` slice. lib-storage cuts a stream into parts
 * of exactly `partSize` bytes (it refuses any other size but the last), so the per-slice digests are the per-part
 * digests S3 combines into a multipart object's composite checksum.
 */
export class DigestTracker {
  readonly #partSize: number;
  readonly #full: Hash = createHash('sha256');
  #part: Hash = createHash('sha256');
  #partFill = 0;
  readonly #partDigests: Buffer[] = [];
  #size = 0;
  #result: Digests | null = null;

  constructor(partSize: number) {
    this.#partSize = partSize;
  }

  get size(): number {
    return this.#size;
  }

  update(chunk: Buffer): void {
    if (this.#result !== null) throw new Error('DigestTracker already finished');
    this.#full.update(chunk);
    this.#size += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, this.#partSize - this.#partFill);
      this.#part.update(chunk.subarray(offset, offset + take));
      this.#partFill += take;
      offset += take;
      if (this.#partFill === this.#partSize) {
        this.#partDigests.push(this.#part.digest());
        this.#part = createHash('sha256');
        this.#partFill = 0;
      }
    }
  }

  finish(): Digests {
    if (this.#result !== null) return this.#result;
    if (this.#partFill > 0) this.#partDigests.push(this.#part.digest());
    const full = this.#full.digest();
    const n = this.#partDigests.length;
    const composite = n < 2 ? null : `${createHash('sha256').update(Buffer.concat(this.#partDigests)).digest('base64')}-${n}`;
    this.#result = { size: this.#size, sha256Hex: full.toString('hex'), sha256Base64: full.toString('base64'), composite };
    return this.#result;
  }
}

export type ChecksumVerdict = 'match' | 'mismatch' | 'unknown';

/**
 * Compares a ChecksumSHA256 reported by S3 with our digests. A full-object value is authoritative either way. A
 * composite one (`…-N`) proves a match when it equals ours, but a difference may only mean other part
 * boundaries, so it is 'unknown' rather than 'mismatch' unless `compositeIsOurs` (the parts were cut by us).
 */
export function compareChecksum(reported: string | undefined, ours: Digests, compositeIsOurs: boolean): ChecksumVerdict {
  if (reported === undefined || reported === '') return 'unknown';
  if (/-\d+$/.test(reported)) {
    if (ours.composite !== null && reported === ours.composite) return 'match';
    return compositeIsOurs ? 'mismatch' : 'unknown';
  }
  return reported === ours.sha256Base64 ? 'match' : 'mismatch';
}

/** SHA-256 and size of a stream, read through once in constant memory. */
export async function hashStream(stream: Readable): Promise<{ sha256Hex: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    hash.update(buf);
    size += buf.length;
  }
  return { sha256Hex: hash.digest('hex'), size };
}
