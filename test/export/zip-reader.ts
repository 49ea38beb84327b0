import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipEntryRead {
  name: string;
  data: Buffer;
  method: number;
  zip64: boolean;
}

/**
 * A small ZIP reader for tests, written from APPNOTE independently of lib/export/zip-writer.ts: it reads the
 * central directory (ZIP64 records included), then each local header, and checks every entry's CRC-32 and size.
 */
export function readZip(buf: Buffer): ZipEntryRead[] {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('no end of central directory');
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  const loc = eocd - 20;
  if (loc >= 0 && buf.readUInt32LE(loc) === 0x07064b50) {
    const rec = Number(buf.readBigUInt64LE(loc + 8));
    if (buf.readUInt32LE(rec) !== 0x06064b50) throw new Error('bad zip64 end record');
    count = Number(buf.readBigUInt64LE(rec + 32));
    cdOffset = Number(buf.readBigUInt64LE(rec + 48));
  }
  const out: ZipEntryRead[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central header at ${p}`);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let csize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let offset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    let zip64 = false;
    for (let e = p + 46 + nameLen; e < p + 46 + nameLen + extraLen; ) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        zip64 = true;
        let q = e + 4;
        if (size === 0xffffffff) {
          size = Number(buf.readBigUInt64LE(q));
          q += 8;
        }
        if (csize === 0xffffffff) {
          csize = Number(buf.readBigUInt64LE(q));
          q += 8;
        }
        if (offset === 0xffffffff) {
          offset = Number(buf.readBigUInt64LE(q));
          q += 8;
        }
      }
      e += 4 + len;
    }
    if (buf.readUInt32LE(offset) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const dataStart = offset + 30 + buf.readUInt16LE(offset + 26) + buf.readUInt16LE(offset + 28);
    const raw = buf.subarray(dataStart, dataStart + csize);
    const data =
      method === 8
        ? inflateRawSync(raw)
        : method === 0
          ? Buffer.from(raw)
          : (() => {
              throw new Error(`method ${method}`);
            })();
    if (data.length !== size) throw new Error(`${name}: size ${data.length}, directory says ${size}`);
    if (crc32(data) !== crc) throw new Error(`${name}: CRC mismatch`);
    out.push({ name, data, method, zip64 });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}
