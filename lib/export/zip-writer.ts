import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { crc32, createDeflateRaw } from 'node:zlib';
import { ExportError } from './errors.ts';

/**
 * A streaming ZIP writer (APPNOTE 6.3.10): entries are written as they come, never held in memory, to any
 * Writable (a file, an HTTP response). Streamed entries are deflated with a data descriptor (bit 3), since their
 * CRC-32 is known only at the end; small in-memory entries are stored with their CRC up front. Names are UTF-8
 * (bit 11). ZIP64 extra fields and end records are written when an entry, an offset or the entry count needs
 * them (or always, with `forceZip64`, which tests use to exercise that path without writing 4 GiB).
 */

const U32 = 0xffffffff;
const U16 = 0xffff;
/** Deflate can grow incompressible data slightly: an entry this close to 4 GiB is declared ZIP64 up front. */
const ZIP64_THRESHOLD = 0xffff0000;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const UNIX = 3;
const FILE_ATTRIBUTES = (0o100600 << 16) >>> 0;

interface Entry {
  readonly name: Buffer;
  readonly method: 0 | 8;
  readonly flags: number;
  readonly time: number;
  readonly date: number;
  readonly offset: number;
  crc: number;
  size: number;
  csize: number;
  readonly zip64: boolean;
}

function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export class ZipWriter {
  readonly #out: Writable;
  readonly #forceZip64: boolean;
  readonly #entries: Entry[] = [];
  readonly #names = new Set<string>();
  #offset = 0;
  #finished = false;

  constructor(out: Writable, options: { readonly forceZip64?: boolean } = {}) {
    this.#out = out;
    this.#forceZip64 = options.forceZip64 ?? false;
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.#offset;
  }

  async #write(buf: Buffer): Promise<void> {
    if (this.#out.destroyed) throw new ExportError('EEXPORTOUT', 'the output was closed before the export was complete');
    this.#offset += buf.length;
    if (!this.#out.write(buf)) {
      // A closed output (a download the browser cancelled) would otherwise never drain.
      await Promise.race([
        once(this.#out, 'drain'),
        once(this.#out, 'close').then(() => {
          throw new ExportError('EEXPORTOUT', 'the output was closed before the export was complete');
        }),
      ]);
    }
  }

  #begin(name: string, method: 0 | 8, streamed: boolean, zip64: boolean, date: Date): Entry {
    if (this.#finished) throw new ExportError('EZIP', 'zip already finished');
    if (this.#names.has(name)) throw new ExportError('EZIP', `duplicate entry name ${JSON.stringify(name)}`);
    if (name === '' || name.startsWith('/') || name.split('/').some((s) => s === '..' || s === '.') || name.includes('\\')) {
      throw new ExportError('EZIP', `unsafe entry name ${JSON.stringify(name)}`);
    }
    this.#names.add(name);
    const { time, date: d } = dosDateTime(date);
    return {
      name: Buffer.from(name, 'utf8'),
      method,
      flags: FLAG_UTF8 | (streamed ? FLAG_DESCRIPTOR : 0),
      time,
      date: d,
      offset: this.#offset,
      crc: 0,
      size: 0,
      csize: 0,
      zip64,
    };
  }

  #localHeader(e: Entry, known: boolean): Buffer {
    const extra = e.zip64 ? Buffer.alloc(20) : Buffer.alloc(0);
    if (e.zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(16, 2);
      extra.writeBigUInt64LE(BigInt(known ? e.size : 0), 4);
      extra.writeBigUInt64LE(BigInt(known ? e.csize : 0), 12);
    }
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(e.zip64 ? 45 : 20, 4);
    h.writeUInt16LE(e.flags, 6);
    h.writeUInt16LE(e.method, 8);
    h.writeUInt16LE(e.time, 10);
    h.writeUInt16LE(e.date, 12);
    h.writeUInt32LE(known ? e.crc : 0, 14);
    h.writeUInt32LE(e.zip64 ? U32 : known ? e.csize : 0, 18);
    h.writeUInt32LE(e.zip64 ? U32 : known ? e.size : 0, 22);
    h.writeUInt16LE(e.name.length, 26);
    h.writeUInt16LE(extra.length, 28);
    return Buffer.concat([h, e.name, extra]);
  }

  /** A small entry whose bytes are in memory (the manifest): stored, CRC and sizes in the local header. */
  async addBuffer(name: string, data: Buffer, date = new Date()): Promise<void> {
    const e = this.#begin(name, 0, false, this.#forceZip64 || data.length >= ZIP64_THRESHOLD, date);
    e.crc = crc32(data);
    e.size = data.length;
    e.csize = data.length;
    await this.#write(this.#localHeader(e, true));
    await this.#write(data);
    this.#entries.push(e);
  }

  /**
   * An entry streamed from `source`, deflated. `expectedSize` (when known) decides ZIP64 for the local header;
   * an entry that then turns out larger than 4 GiB without it is an error rather than a corrupt archive.
   */
  async addStream(
    name: string,
    source: AsyncIterable<Buffer>,
    options: { readonly date?: Date; readonly expectedSize?: number } = {},
  ): Promise<{ crc: number; size: number }> {
    const e = this.#begin(name, 8, true, this.#forceZip64 || (options.expectedSize ?? 0) >= ZIP64_THRESHOLD, options.date ?? new Date());
    await this.#write(this.#localHeader(e, false));
    const deflate = createDeflateRaw({ level: 6 });
    const pump = (async () => {
      try {
        for await (const chunk of source) {
          e.crc = crc32(chunk, e.crc);
          e.size += chunk.length;
          if (!deflate.write(chunk)) await once(deflate, 'drain');
        }
        deflate.end();
      } catch (err) {
        deflate.destroy(err as Error);
        throw err;
      }
    })();
    pump.catch(() => undefined);
    for await (const out of deflate as AsyncIterable<Buffer>) {
      e.csize += out.length;
      await this.#write(out);
    }
    await pump;
    if (!e.zip64 && (e.size >= U32 || e.csize >= U32))
      throw new ExportError('EZIP', `entry ${name} grew past 4 GiB without a ZIP64 header`);
    const d = Buffer.alloc(e.zip64 ? 24 : 16);
    d.writeUInt32LE(0x08074b50, 0);
    d.writeUInt32LE(e.crc, 4);
    if (e.zip64) {
      d.writeBigUInt64LE(BigInt(e.csize), 8);
      d.writeBigUInt64LE(BigInt(e.size), 16);
    } else {
      d.writeUInt32LE(e.csize, 8);
      d.writeUInt32LE(e.size, 12);
    }
    await this.#write(d);
    this.#entries.push(e);
    return { crc: e.crc, size: e.size };
  }

  /** Writes the central directory and the end records. Does not end the output. */
  async finish(comment = ''): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    const cdStart = this.#offset;
    for (const e of this.#entries) {
      const big = this.#forceZip64 || e.zip64 || e.size >= U32 || e.csize >= U32 || e.offset >= U32;
      const extra = big ? Buffer.alloc(28) : Buffer.alloc(0);
      if (big) {
        extra.writeUInt16LE(0x0001, 0);
        extra.writeUInt16LE(24, 2);
        extra.writeBigUInt64LE(BigInt(e.size), 4);
        extra.writeBigUInt64LE(BigInt(e.csize), 12);
        extra.writeBigUInt64LE(BigInt(e.offset), 20);
      }
      const h = Buffer.alloc(46);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE((UNIX << 8) | 45, 4);
      h.writeUInt16LE(big ? 45 : 20, 6);
      h.writeUInt16LE(e.flags, 8);
      h.writeUInt16LE(e.method, 10);
      h.writeUInt16LE(e.time, 12);
      h.writeUInt16LE(e.date, 14);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(big ? U32 : e.csize, 20);
      h.writeUInt32LE(big ? U32 : e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt16LE(extra.length, 30);
      h.writeUInt16LE(0, 32); // comment
      h.writeUInt16LE(0, 34); // disk
      h.writeUInt16LE(0, 36); // internal attributes
      h.writeUInt32LE(FILE_ATTRIBUTES, 38);
      h.writeUInt32LE(big ? U32 : e.offset, 42);
      await this.#write(Buffer.concat([h, e.name, extra]));
    }
    const cdSize = this.#offset - cdStart;
    const count = this.#entries.length;
    const zip64 =
      this.#forceZip64 || count >= U16 || cdStart >= U32 || cdSize >= U32 || this.#entries.some((e) => e.zip64 || e.offset >= U32);
    if (zip64) {
      const eocd64At = this.#offset;
      const r = Buffer.alloc(56);
      r.writeUInt32LE(0x06064b50, 0);
      r.writeBigUInt64LE(44n, 4);
      r.writeUInt16LE((UNIX << 8) | 45, 12);
      r.writeUInt16LE(45, 14);
      r.writeUInt32LE(0, 16);
      r.writeUInt32LE(0, 20);
      r.writeBigUInt64LE(BigInt(count), 24);
      r.writeBigUInt64LE(BigInt(count), 32);
      r.writeBigUInt64LE(BigInt(cdSize), 40);
      r.writeBigUInt64LE(BigInt(cdStart), 48);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeUInt32LE(0, 4);
      loc.writeBigUInt64LE(BigInt(eocd64At), 8);
      loc.writeUInt32LE(1, 16);
      await this.#write(Buffer.concat([r, loc]));
    }
    const c = Buffer.from(comment, 'utf8').subarray(0, U16);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(zip64 ? U16 : count, 8);
    end.writeUInt16LE(zip64 ? U16 : count, 10);
    end.writeUInt32LE(zip64 ? U32 : cdSize, 12);
    end.writeUInt32LE(zip64 ? U32 : cdStart, 16);
    end.writeUInt16LE(c.length, 20);
    await this.#write(Buffer.concat([end, c]));
  }
}
