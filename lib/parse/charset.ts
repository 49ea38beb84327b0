import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import Encoding from 'encoding-japanese';

/**
 * Byte-to-text decoding the way a Japanese mail client shows it.
 *
 * - Every Shift_JIS label decodes as CP932 (Windows-31J): 0x8160 is U+FF5E (～) and 0x815C U+2015 (―) as
 *   Windows shows them, and the NEC row 13 (①, ㈱) and IBM extensions (髙) decode instead of becoming U+FFFD.
 * - ISO-2022-JP decodes as the CP50220 superset (NEC row 13 and the NEC-selected IBM rows 89-92 inside
 *   ESC $ B), which is what Outlook and Thunderbird send; encoding-japanese maps it that way, iconv-lite has no
 *   ISO-2022-JP codec at all.
 * - A label that lies (utf-8 on Shift_JIS bytes, us-ascii on 8-bit bytes, ISO-2022-JP on raw 8-bit text) or
 *   that no codec knows falls back to detection instead of replacement characters.
 */

type Kind = 'utf8' | 'utf7' | 'iso2022jp' | 'cp932' | 'eucjp' | 'ascii' | 'auto';

const ISO2022JP = new Set([
  'iso2022jp',
  'csiso2022jp',
  'iso2022jp1',
  'iso2022jp2',
  'iso2022jp3',
  'iso2022jpms',
  'jis',
  'cp50220',
  'cp50221',
  'cp50222',
]);
const CP932 = new Set([
  'shiftjis',
  'sjis',
  'xsjis',
  'mskanji',
  'csshiftjis',
  'cp932',
  'ms932',
  'windows31j',
  'xmscp932',
  'ibm943',
  'shiftjis2004',
  'xsjisopen',
  'sjisopen',
]);
const EUCJP = new Set(['eucjp', 'xeucjp', 'cseucpkdfmtjapanese', 'eucjpms', 'eucjis2004', 'xeucjpms']);
const UTF8 = new Set(['utf8', 'unicode11utf8', 'xunicode20utf8']);
// RFC 2152. Outlook and Thunderbird decode it ("Fr+APY-sche" is "Frösche"), so we do too: the text only ever
// reaches the document as a JSON string, which every consumer escapes like any other header or snippet.
const UTF7 = new Set(['utf7', 'unicode11utf7', 'csunicode11utf7']);
const ASCII = new Set(['', 'ascii', 'usascii', 'ansix3.41968', 'ansix341968', 'iso646us', 'csascii', '7bit', '8bit']);
// Not character sets a message is written in: modified UTF-7 is for IMAP folder names, base64 and hex are
// transfer encodings. Treated as unknown (detection).
const REFUSED = /^utf7imap$|^base64$|^hex$|^binary$/;
// Common aliases iconv-lite does not resolve itself.
const ALIASES = new Map<string, string>([
  ['ksc56011987', 'cp949'],
  ['ksc56011989', 'cp949'],
  ['xgbk', 'gbk'],
  ['xmacroman', 'macintosh'],
]);

function squash(label: string): string {
  return label
    .toLowerCase()
    .replace(/["'\s]/g, '')
    .replace(/[-_]/g, '');
}

function kindOf(label: string | null | undefined): { kind: Kind } | { kind: 'iconv'; name: string } {
  const name = squash(label ?? '');
  if (UTF8.has(name)) return { kind: 'utf8' };
  if (UTF7.has(name)) return { kind: 'utf7' };
  if (ASCII.has(name)) return { kind: 'ascii' };
  if (ISO2022JP.has(name)) return { kind: 'iso2022jp' };
  if (CP932.has(name)) return { kind: 'cp932' };
  if (EUCJP.has(name)) return { kind: 'eucjp' };
  if (REFUSED.test(name)) return { kind: 'auto' };
  const alias = ALIASES.get(name) ?? (label ?? '').trim().replace(/^["']|["']$/g, '');
  try {
    if (alias && iconv.encodingExists(alias)) return { kind: 'iconv', name: alias };
  } catch {
    // iconv-lite throws on some malformed names; such a label is simply unknown
  }
  return { kind: 'auto' };
}

function hasHighBytes(buf: Uint8Array): boolean {
  for (const b of buf) if (b >= 0x80) return true;
  return false;
}

/** ESC $ B, ESC $ @, ESC $ ( D, ESC ( I, ESC ( J: ISO-2022-JP designations seen in raw headers and bodies. */
function hasIso2022Escape(buf: Uint8Array): boolean {
  for (let i = 0; i + 2 < buf.length; i++) {
    if (buf[i] === 0x1b && (buf[i + 1] === 0x24 || (buf[i + 1] === 0x28 && (buf[i + 2] === 0x49 || buf[i + 2] === 0x4a)))) return true;
  }
  return false;
}

export function decodeIso2022Jp(buf: Uint8Array): string {
  return Encoding.convert(buf, { to: 'UNICODE', from: 'JIS', type: 'string' });
}

function decodeCp932(buf: Uint8Array): string {
  return iconv.decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), 'cp932');
}

function decodeEucJp(buf: Uint8Array): string {
  return iconv.decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), 'euc-jp');
}

const isLetter = (b: number | undefined): boolean => b !== undefined && ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a));

/**
 * How much a byte string looks like Japanese in one of the two 8-bit encodings. Kana, Japanese punctuation and
 * level-1 kanji count for it; level-2 kanji and half-width katakana (what Latin-1 accented letters turn into)
 * count nothing or against; an invalid sequence counts heavily against. A lone double-byte character glued to
 * an ASCII letter ("It\x92s" in windows-1252) counts nothing either.
 */
function japaneseScore(buf: Uint8Array, encoding: 'sjis' | 'euc'): number {
  let score = 0;
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const runStart = i;
    let run = 0;
    let runScore = 0;
    while (i < buf.length && buf[i]! >= 0x80) {
      const lead = buf[i]!;
      const trail = buf[i + 1];
      if (encoding === 'sjis') {
        if (lead >= 0xa1 && lead <= 0xdf) {
          runScore -= 1;
          i += 1;
          run++;
          continue;
        }
        const validLead = (lead >= 0x81 && lead <= 0x9f) || (lead >= 0xe0 && lead <= 0xfc);
        const validTrail = trail !== undefined && trail >= 0x40 && trail <= 0xfc && trail !== 0x7f;
        if (!validLead || !validTrail) return -1000;
        runScore +=
          lead === 0x82 || lead === 0x83 ? 3 : lead === 0x81 || (lead >= 0x88 && lead <= 0x9f) ? 2 : lead === 0x84 || lead === 0x87 ? 1 : 0;
        i += 2;
      } else {
        if (lead === 0x8e) {
          if (trail === undefined || trail < 0xa1 || trail > 0xdf) return -1000;
          runScore -= 1;
          i += 2;
          run++;
          continue;
        }
        if (lead === 0x8f) {
          if (buf[i + 1] === undefined || buf[i + 2] === undefined || buf[i + 1]! < 0xa1 || buf[i + 2]! < 0xa1) return -1000;
          i += 3;
          run++;
          continue;
        }
        if (lead < 0xa1 || lead > 0xfe || trail === undefined || trail < 0xa1 || trail > 0xfe) return -1000;
        runScore +=
          lead === 0xa3 || lead === 0xa4 || lead === 0xa5
            ? 3
            : lead === 0xa1 || (lead >= 0xb0 && lead <= 0xcf)
              ? 2
              : lead === 0xa2 || (lead >= 0xa6 && lead <= 0xa8) || lead === 0xad
                ? 1
                : 0;
        i += 2;
      }
      run++;
    }
    if (run === 1 && isLetter(buf[runStart - 1])) runScore = Math.min(runScore, 0);
    score += runScore;
  }
  return score;
}

/**
 * UTF-8 damaged in a few places (a byte lost or flipped in transit, a name cut inside a character): the valid
 * multibyte characters outnumber the broken sequences at least four to one, or there is exactly one broken
 * sequence beside at least one valid character. A mail client then shows the UTF-8 with U+FFFD where the damage
 * is, not the whole string as windows-1252 mojibake. Latin-1 text ("café", "Müller") has no valid multibyte
 * sequence at all, so it never qualifies.
 */
export function isNearlyUtf8(buf: Uint8Array): boolean {
  let good = 0;
  let bad = 0;
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    let ok = need > 0;
    for (let k = 1; ok && k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || c < 0x80 || c > 0xbf) ok = false;
    }
    // Overlong and surrogate forms (E0 80..9F, ED A0..BF, F0 80..8F, F4 90..) are as broken as a stray byte.
    if (
      ok &&
      ((b === 0xe0 && buf[i + 1]! < 0xa0) ||
        (b === 0xed && buf[i + 1]! > 0x9f) ||
        (b === 0xf0 && buf[i + 1]! < 0x90) ||
        (b === 0xf4 && buf[i + 1]! > 0x8f))
    )
      ok = false;
    if (ok) {
      good++;
      i += need + 1;
    } else {
      bad++;
      i++;
      while (i < buf.length && buf[i]! >= 0x80 && buf[i]! <= 0xbf) i++; // the rest of one broken sequence
    }
  }
  return good > 0 && bad > 0 && (bad === 1 || bad * 4 <= good);
}

/**
 * Decodes bytes of unknown charset: ISO-2022-JP when escape sequences are present, UTF-8 when valid, else the
 * better-scoring of CP932 and EUC-JP (CP932 on a tie: it is what raw 8-bit headers are in practice), else
 * UTF-8 with replacement characters when it is nearly valid UTF-8, else windows-1252 so that every byte still
 * shows as something. Japanese first: a short windows-1252 string can
 * still read as Japanese (that is the trade-off a Japanese mail client makes too).
 */
export function decodeDetected(buf: Uint8Array): string {
  if (hasIso2022Escape(buf)) {
    // Mixed raw 8-bit and ESC sequences: encoding-japanese passes the 8-bit bytes through as UTF-8.
    return decodeIso2022Jp(buf);
  }
  if (!hasHighBytes(buf)) return Buffer.from(buf).toString('latin1');
  if (isUtf8(buf)) return Buffer.from(buf).toString('utf8');
  const sjisScore = japaneseScore(buf, 'sjis');
  const eucScore = japaneseScore(buf, 'euc');
  if (Math.max(sjisScore, eucScore) >= 2) return eucScore > sjisScore ? decodeEucJp(buf) : decodeCp932(buf);
  if (isNearlyUtf8(buf)) return Buffer.from(buf).toString('utf8');
  return iconv.decode(Buffer.from(buf), 'windows-1252');
}

/**
 * Raw 8-bit header bytes: valid UTF-8 first (a strong signal for multibyte text), then the charset the message
 * declares for its body when that decodes cleanly (mailers that send raw headers use their body charset), then
 * detection.
 */
export function decodeWithHint(buf: Uint8Array, hint: string | null | undefined): string {
  if (!hint || hasIso2022Escape(buf) || !hasHighBytes(buf) || isUtf8(buf) || isNearlyUtf8(buf)) return decodeDetected(buf);
  const k = kindOf(hint);
  if (k.kind === 'cp932' || k.kind === 'eucjp' || k.kind === 'iconv') {
    const text = decodeBytes(buf, hint);
    if (!text.includes('\ufffd')) return text;
  }
  return decodeDetected(buf);
}

/**
 * Whether decodeBytes(buf, label) is buf read as UTF-8 (valid UTF-8 labelled so, or plain ASCII under a label that
 * is ASCII, missing or unknown): a caller that wants the text as UTF-8 bytes can then keep the bytes it has.
 */
export function utf8AsIs(buf: Uint8Array, label: string | null | undefined): boolean {
  const { kind } = kindOf(label);
  if (kind === 'utf8') return isUtf8(buf);
  return (kind === 'ascii' || kind === 'auto') && !hasHighBytes(buf) && !hasIso2022Escape(buf);
}

/** Decodes bytes in the charset a label names, falling back to detection when the label is absent, unknown or plainly wrong. */
export function decodeBytes(buf: Uint8Array, label: string | null | undefined): string {
  const k = kindOf(label);
  try {
    switch (k.kind) {
      case 'utf8':
        return isUtf8(buf) ? Buffer.from(buf).toString('utf8') : decodeDetected(buf);
      case 'utf7':
        return iconv.decode(Buffer.from(buf), 'utf7');
      case 'ascii':
        return decodeDetected(buf);
      case 'iso2022jp':
        // A part labelled ISO-2022-JP that carries raw 8-bit text (a mislabelling some mailers make) is detected.
        return hasHighBytes(buf) && !hasIso2022Escape(buf) ? decodeDetected(buf) : decodeIso2022Jp(buf);
      case 'cp932':
        return hasIso2022Escape(buf) ? decodeIso2022Jp(buf) : decodeCp932(buf);
      case 'eucjp':
        return hasIso2022Escape(buf) ? decodeIso2022Jp(buf) : decodeEucJp(buf);
      case 'iconv':
        return iconv.decode(Buffer.from(buf), k.name);
      case 'auto':
        return decodeDetected(buf);
    }
  } catch {
    // A codec that throws on malformed input must not fail the message.
  }
  return Buffer.from(buf).toString('utf8');
}

/** Whether a label names a charset this module decodes as such (not by detection). */
export function isKnownCharset(label: string): boolean {
  return kindOf(label).kind !== 'auto';
}
