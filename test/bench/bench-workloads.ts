/**
 * Deterministic, realistic-looking messages for the benchmark workloads. LF line endings as on disk in a
 * Maildir (Dovecot sends CRLF), no bare CR, so the CRLF and LF forms convert into each other without loss.
 */

export interface Workload {
  id: string;
  title: string;
  count: number;
  /** Approximate size of one message in bytes. */
  approxBytes: number;
  make(i: number): Buffer;
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the of and to in is that for it as with was on be by this are or his from at which but have an they ' +
  'not had one were all we when there can been has more if will would who so no invoice order shipment meeting ' +
  'quarterly report attached please find review update customer account payment delivery schedule contract ' +
  'warehouse tokyo osaka supplier estimate approval budget forecast ticket support request regards thanks'
).split(' ');
const NAMES = [
  'Sato Haruki',
  'Suzuki Yui',
  'Takahashi Ren',
  'Alice Martin',
  'Bob Schneider',
  'Carla Rossi',
  'Dmitri Ivanov',
  'Emma Clarke',
];
// "Quarterly report" (四半期報告) in Japanese, as an RFC 2047 ISO-2022-JP encoded word (what Japanese mailers still send).
const JP_SUBJECT = '=?ISO-2022-JP?B?GyRCO01IPjR8SnM5cBsoQg==?=';

function sentence(rnd: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(rnd() * WORDS.length)]!);
  const s = out.join(' ');
  return `${s.charAt(0).toUpperCase() + s.slice(1)}.`;
}

/** Wrapped prose of about `bytes` bytes; now and then a line starts with a dot, so dot-stuffing is exercised. */
function prose(rnd: () => number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  let line = '';
  while (size < bytes) {
    const s = sentence(rnd, 4 + Math.floor(rnd() * 12));
    if (line.length + s.length + 1 > 72) {
      if (rnd() < 0.03) line = `.${line}`;
      lines.push(line);
      size += line.length + 1;
      line = '';
      if (rnd() < 0.15) {
        lines.push('');
        size += 1;
      }
    }
    line = line ? `${line} ${s}` : s;
  }
  if (line) lines.push(line);
  return `${lines.join('\n')}\n`;
}

/** Base64 of `n` pseudo-random bytes in 76-column lines, written straight into one buffer. */
function base64Lines(rnd: () => number, n: number): Buffer {
  const raw = Buffer.allocUnsafe(n);
  const words = new Uint32Array(raw.buffer, raw.byteOffset, Math.floor(n / 4));
  for (let i = 0; i < words.length; i++) words[i] = (rnd() * 4294967296) >>> 0;
  for (let i = words.length * 4; i < n; i++) raw[i] = Math.floor(rnd() * 256);
  const groups = Math.ceil(n / 57);
  const out = Buffer.allocUnsafe(Math.ceil(n / 3) * 4 + groups);
  let o = 0;
  const BLOCK = 57 * 4096;
  for (let off = 0; off < n; off += BLOCK) {
    const enc = Buffer.from(raw.subarray(off, Math.min(n, off + BLOCK)).toString('base64'), 'latin1');
    for (let j = 0; j < enc.length; j += 76) {
      o += enc.copy(out, o, j, Math.min(enc.length, j + 76));
      out[o++] = 0x0a;
    }
  }
  return out.subarray(0, o);
}

function headers(i: number, rnd: () => number, subject: string, contentType: string, extra: string[] = []): string {
  const from = NAMES[i % NAMES.length]!;
  const to = NAMES[(i + 3) % NAMES.length]!;
  const addr = (n: string) => `${n.toLowerCase().replace(' ', '.')}@example.co.jp`;
  const date = new Date(Date.UTC(2024, 4, 1, 9, 0, 0) + i * 61_000).toUTCString().replace('GMT', '+0000');
  const hop = (n: number) =>
    `Received: from mx${n}.example.net (mx${n}.example.net [192.0.2.${10 + n}])\n\tby pop.example.co.jp (Postfix) with ESMTPS id ${(rnd() * 1e12).toFixed(0)}\n\tfor <${addr(to)}>; ${date}`;
  return `${[
    `Return-Path: <${addr(from)}>`,
    hop(1),
    hop(2),
    `Date: ${date}`,
    `From: ${from} <${addr(from)}>`,
    `To: ${to} <${addr(to)}>`,
    `Subject: ${subject}`,
    `Message-ID: <bench.${i}.${(rnd() * 1e9).toFixed(0)}@example.co.jp>`,
    'MIME-Version: 1.0',
    `Content-Type: ${contentType}`,
    ...extra,
  ].join('\n')}\n\n`;
}

/** About 5 KB: plain text, every fourth one multipart/alternative, Japanese subjects here and there. */
export function smallMessage(i: number): Buffer {
  const rnd = prng(0x5eed0000 + i);
  const subject = i % 5 === 0 ? `${JP_SUBJECT} #${i}` : `${sentence(rnd, 5).slice(0, -1)} #${i}`;
  if (i % 4 === 0) {
    const b = `=_alt_${i}`;
    const text = prose(rnd, 2000);
    const html = `<html><body><p>${prose(rnd, 2000).replace(/\n/g, '<br>\n')}</p></body></html>\n`;
    return Buffer.from(
      headers(i, rnd, subject, `multipart/alternative; boundary="${b}"`) +
        `--${b}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n${text}\n` +
        `--${b}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n${html}\n--${b}--\n`,
    );
  }
  return Buffer.from(headers(i, rnd, subject, 'text/plain; charset=utf-8', ['Content-Transfer-Encoding: 7bit']) + prose(rnd, 4200));
}

/** A short text part and one base64 attachment, about `bytes` in all. */
export function attachmentMessage(i: number, bytes: number, seed: number): Buffer {
  const rnd = prng(seed + i);
  const b = `=_mixed_${seed}_${i}`;
  const head =
    headers(i, rnd, `Scanned documents ${i}`, `multipart/mixed; boundary="${b}"`) +
    `--${b}\nContent-Type: text/plain; charset=utf-8\n\n${prose(rnd, 600)}\n` +
    `--${b}\nContent-Type: application/pdf; name="scan-${i}.pdf"\nContent-Transfer-Encoding: base64\n` +
    `Content-Disposition: attachment; filename="scan-${i}.pdf"\n\n`;
  const tail = `--${b}--\n`;
  const rawBytes = Math.max(0, Math.floor(((bytes - head.length - tail.length) * 57) / 77));
  return Buffer.concat([Buffer.from(head), base64Lines(rnd, rawBytes), Buffer.from(tail)]);
}

export const WORKLOADS: Record<string, (scale: number) => Workload> = {
  small: (scale) => ({
    id: 'small',
    title: `${Math.round(2000 * scale)} × 5 KB`,
    count: Math.max(1, Math.round(2000 * scale)),
    approxBytes: 5 * 1024,
    make: smallMessage,
  }),
  medium: (scale) => ({
    id: 'medium',
    title: `${Math.max(1, Math.round(50 * scale))} × 2 MB`,
    count: Math.max(1, Math.round(50 * scale)),
    approxBytes: 2 * 1024 * 1024,
    make: (i) => attachmentMessage(i, 2 * 1024 * 1024, 0x2000000),
  }),
  large: (scale) => {
    const bytes = Math.round(200 * 1024 * 1024 * Math.max(scale, 0.05));
    return {
      id: 'large',
      title: `1 × ${Math.round(bytes / 1048576)} MB`,
      count: 1,
      approxBytes: bytes,
      make: (i) => attachmentMessage(i, bytes, 0x3000000),
    };
  },
};
