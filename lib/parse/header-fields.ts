import type { ParsedMessage } from '../document/metadata-schema.ts';
import type { HeaderMap } from './header-block.ts';
import { cleanDisplay, decodeRawHeader, decodeUnstructured } from './decode-headers.ts';
import { parseAddresses } from './addresses.ts';

/** The fields of the metadata document that come from the top-level header block alone. */
export type HeaderFields = Pick<
  ParsedMessage,
  'messageId' | 'inReplyTo' | 'references' | 'date' | 'subject' | 'from' | 'to' | 'cc' | 'replyTo' | 'headers'
>;

function ascii(raw: Buffer | null): string | null {
  return raw === null ? null : cleanDisplay(raw.toString('latin1'));
}

/** RFC 6532 3.2: identifiers may hold raw UTF-8, decoded like every other raw header (never as Latin-1). */
function idText(raw: Buffer | null, hint: string | null): string | null {
  return raw === null ? null : cleanDisplay(decodeRawHeader(raw, hint));
}

/**
 * `<id>` tokens with any whitespace and comments inside removed (folded long ids, RFC 5322 4.5.4 obsolete CFWS
 * around the "@"); bare ids are bracketed.
 */
export function messageIds(value: string | null): string[] {
  if (value === null) return [];
  const bracketed = [...value.matchAll(/<([^<>]*)>/g)]
    .map((m) => m[1]!.replace(/\([^()]*\)/g, '').replace(/\s+/g, ''))
    .filter((id) => id.length > 0);
  if (bracketed.length > 0) return bracketed.map((id) => `<${id}>`);
  // No brackets at all: each whitespace- or comma-separated token that looks like an id (has an @).
  return value
    .split(/[\s,]+/)
    .filter((t) => t.includes('@'))
    .map((t) => `<${t}>`);
}

function firstId(value: string | null): string | null {
  if (value === null) return null;
  const ids = messageIds(value);
  if (ids.length > 0) return ids[0]!;
  const bare = value.replace(/\s+/g, '');
  return bare ? `<${bare.replace(/^<|>$/g, '')}>` : null;
}

/** RFC 5322 date to ISO 8601, null when it cannot be read. Comments such as "(JST)" are dropped first. */
export function parseDate(value: string | null): string | null {
  if (value === null) return null;
  const cleaned = (value.includes('(') ? value.replace(/\([^()]*\)/g, ' ') : value).replace(/\s{2,}|[^\S ]/g, ' ').trim();
  if (!cleaned) return null;
  // The alternatives (without the weekday, without a zone name) are only built when the date as written fails.
  return isoDate(cleaned) ?? isoDate(cleaned.replace(/^[A-Za-z]{3},?\s*/, '')) ?? isoDate(cleaned.replace(/\s+[A-Z]{3,4}$/, ''));
}

function isoDate(candidate: string): string | null {
  const t = Date.parse(candidate);
  if (!Number.isFinite(t)) return null;
  const d = new Date(t);
  const year = d.getUTCFullYear();
  return year >= 1970 && year <= 9999 ? d.toISOString() : null;
}

/** The charset the message declares at the top level: the best guess for raw 8-bit bytes in its headers. */
export function declaredCharset(h: HeaderMap): string | null {
  const ct = h.first('content-type');
  if (ct === null) return null;
  const m = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(ct.toString('latin1'));
  return m ? m[1]! : null;
}

export function headerFields(h: HeaderMap): HeaderFields {
  const hint = declaredCharset(h);
  const subject = h.first('subject');
  const optional = (name: string): string | null => {
    const v = h.first(name);
    return v === null ? null : decodeUnstructured(v, hint);
  };
  return {
    messageId: firstId(idText(h.first('message-id'), hint)),
    inReplyTo: firstId(idText(h.first('in-reply-to'), hint)),
    references: h.all('references').flatMap((v) => messageIds(idText(v, hint))),
    date: parseDate(ascii(h.first('date'))),
    subject: subject === null ? null : decodeUnstructured(subject, hint),
    from: parseAddresses(h.all('from'), hint),
    to: parseAddresses(h.all('to'), hint),
    cc: parseAddresses(h.all('cc'), hint),
    replyTo: parseAddresses(h.all('reply-to'), hint),
    headers: {
      listId: optional('list-id'),
      authenticationResults: h.all('authentication-results').map((v) => decodeUnstructured(v).replace(/\s+/g, ' ')),
      spamFlag: optional('x-spam-flag'),
      spamStatus: optional('x-spam-status'),
      autoSubmitted: optional('auto-submitted'),
      returnPath: h.has('return-path') ? ascii(h.first('return-path'))!.trim() : null,
    },
  };
}
