import { decodeBytes, decodeWithHint } from './charset.ts';

/**
 * Header text decoding: raw bytes first (real Japanese mailers put ISO-2022-JP escape sequences and 8-bit
 * Shift_JIS / EUC-JP / UTF-8 bytes straight into Subject and From), then RFC 2047 encoded words.
 */

// RFC 2047 2: =?charset?encoding?text?=; RFC 2231 5 allows charset*language.
const ENCODED_WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=/g;
// C0 controls other than TAB, and DEL: never meaningful in a display string (NUL bytes, stray CR/LF, ESC).
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f]/g;

export interface EncodedWordRun {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** null for a word that is not valid base64: mail clients then show it literally, not as decoded garbage. */
function wordBytes(encoding: string, text: string): Buffer | null {
  if (encoding === 'b' || encoding === 'B') {
    // Lenient about missing padding, which many mailers drop; not about characters outside the alphabet.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
    return Buffer.from(text, 'base64');
  }
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f)
      bytes.push(0x20); // RFC 2047 4.2 (2): "_" is SPACE
    else if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes);
}

/**
 * Finds the runs of encoded words in `text` and decodes each. Adjacent words (only whitespace between them,
 * which RFC 2047 6.2 says to drop) in the same charset are concatenated as bytes before the charset is decoded,
 * so a multibyte character split across two words (as many mailers split long Japanese subjects) comes out whole.
 */
export function encodedWordRuns(text: string): EncodedWordRun[] {
  const words: Array<{ start: number; end: number; charset: string; bytes: Buffer }> = [];
  for (const m of text.matchAll(ENCODED_WORD)) {
    const bytes = wordBytes(m[2]!, m[3]!);
    if (bytes !== null) words.push({ start: m.index, end: m.index + m[0].length, charset: m[1]!.toLowerCase(), bytes });
  }
  const runs: EncodedWordRun[] = [];
  let i = 0;
  while (i < words.length) {
    const first = words[i]!;
    let end = first.end;
    let text2 = '';
    let charset = first.charset;
    let pending: Buffer[] = [first.bytes];
    let j = i + 1;
    for (; j < words.length; j++) {
      const next = words[j]!;
      if (!/^[ \t\r\n]*$/.test(text.slice(end, next.start))) break;
      if (next.charset === charset) {
        pending.push(next.bytes);
      } else {
        text2 += decodeBytes(Buffer.concat(pending), charset);
        charset = next.charset;
        pending = [next.bytes];
      }
      end = next.end;
    }
    text2 += decodeBytes(Buffer.concat(pending), charset);
    runs.push({ start: first.start, end, text: text2 });
    i = j;
  }
  return runs;
}

/** Decodes the RFC 2047 encoded words in an already character-decoded header string. */
export function decodeEncodedWords(text: string): string {
  const runs = encodedWordRuns(text);
  if (runs.length === 0) return text;
  let out = '';
  let at = 0;
  for (const run of runs) {
    out += text.slice(at, run.start) + run.text;
    at = run.end;
  }
  return out + text.slice(at);
}

/**
 * Raw header bytes to text: ISO-2022-JP escapes, UTF-8, the message's declared charset (`hint`), CP932 or
 * EUC-JP by detection, ASCII as is.
 */
export function decodeRawHeader(raw: Buffer, hint?: string | null): string {
  return decodeWithHint(raw, hint);
}

/** Removes control characters and turns folding whitespace into single spaces. */
export function cleanDisplay(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ').replace(CONTROLS, '');
}

/** An unstructured header (Subject, List-Id, ...) as a mail client shows it. */
export function decodeUnstructured(raw: Buffer, hint?: string | null): string {
  return cleanDisplay(decodeEncodedWords(decodeRawHeader(raw, hint))).trim();
}
