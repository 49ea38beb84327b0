import { decodeBytes } from './charset.ts';
import { decodeEncodedWords } from './decode-headers.ts';

/**
 * MIME header parameters (Content-Type, Content-Disposition) with RFC 2231 continuations and charsets decoded
 * through our own charset handling, so that `filename*=ISO-2022-JP''...` and `filename*=Shift_JIS''...` get the
 * same CP50220/CP932 decoding as the rest of the message.
 */

export interface MimeValue {
  /** The lower-cased value before the first ";" (e.g. "attachment", "image/png"). */
  readonly value: string;
  /** Parameters by lower-cased name, decoded. */
  readonly params: ReadonlyMap<string, string>;
}

/** Splits on ";" outside quoted strings; comments are not stripped inside quotes. */
function splitParams(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  out.push(current);
  return out;
}

function unquote(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && t.startsWith('"')) return t.slice(1, t.endsWith('"') ? -1 : undefined).replace(/\\(.)/g, '$1');
  return t.replace(/^"/, '');
}

function percentBytes(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(text[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes);
}

interface Segment {
  index: number;
  encoded: boolean;
  raw: string;
}

export function parseMimeValue(text: string): MimeValue {
  const [head = '', ...rest] = splitParams(text);
  const plain = new Map<string, string>();
  const extended = new Map<string, Segment[]>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const raw = part.slice(eq + 1);
    // RFC 2231 3-4: name*N (continuation), name*N* / name* (charset'language'percent-encoded).
    const m = /^([^*]+)\*(?:(\d{1,3})\*?|)$|^([^*]+)\*(\d{1,3})$/.exec(key);
    if (m || key.endsWith('*')) {
      const name = (m?.[1] ?? m?.[3] ?? key.slice(0, -1)).trim();
      const index = Number(m?.[2] ?? m?.[4] ?? 0);
      const encoded = key.endsWith('*');
      const list = extended.get(name) ?? [];
      list.push({ index, encoded, raw: unquote(raw) });
      extended.set(name, list);
    } else if (!plain.has(key)) {
      plain.set(key, decodeEncodedWords(unquote(raw)));
    }
  }
  const params = new Map(plain);
  for (const [name, segments] of extended) {
    segments.sort((a, b) => a.index - b.index);
    let charset = '';
    const chunks: Buffer[] = [];
    for (const [i, s] of segments.entries()) {
      let data = s.raw;
      if (s.encoded && i === 0) {
        const q1 = data.indexOf("'");
        const q2 = q1 < 0 ? -1 : data.indexOf("'", q1 + 1);
        if (q2 > q1) {
          charset = data.slice(0, q1);
          data = data.slice(q2 + 1);
        }
      }
      chunks.push(s.encoded ? percentBytes(data) : Buffer.from(data, 'utf8'));
    }
    // The RFC 2231 form wins over a plain parameter of the same name (RFC 2231 is the more precise one).
    params.set(name, decodeEncodedWords(decodeBytes(Buffer.concat(chunks), charset || 'utf-8')));
  }
  return { value: head.trim().toLowerCase(), params };
}
