import { findHeaderEnd } from './header-block.ts';
import { parseMimeValue } from './mime-params.ts';
import { decodeBytes } from './charset.ts';

/**
 * The text before the first boundary of a multipart message (RFC 2046 5.1.1 preamble). Mail clients hide it and
 * mailparser drops it, but some mail systems write their bounce notice there (Courier, appliances) with only the
 * report inside the parts. `start` is the first bytes of the message as fed to the parser; null when the message
 * is not multipart, has no boundary in reach, or says nothing but the usual "This is a MIME message".
 */
export function multipartPreamble(start: Buffer, contentType: string | null): string | null {
  if (contentType === null || !/^\s*multipart\//i.test(contentType)) return null;
  const boundary = parseMimeValue(contentType).params.get('boundary');
  const bodyAt = findHeaderEnd(start);
  if (!boundary || bodyAt < 0) return null;
  const body = start.subarray(bodyAt);
  const marker = Buffer.from(`--${boundary}`, 'latin1');
  const at = body.indexOf(marker);
  if (at <= 0) return null;
  const text = decodeBytes(body.subarray(0, at), 'utf-8').trim();
  const meaningful = text
    .replace(/This is (?:a|an)? ?(?:multi-?part )?(?:MIME[- ](?:encapsulated|formatted) )?message(?: in MIME format)?\.?/gi, '')
    .trim();
  return meaningful.length > 0 ? text : null;
}
