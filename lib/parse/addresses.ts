import { parseAddressHeader } from 'mailparser';
import type { Address } from '../document/metadata-schema.ts';
import { cleanDisplay, decodeRawHeader, encodedWordRuns } from './decode-headers.ts';

/**
 * Address headers (From, To, Cc, Reply-To) into `{ name, address }`.
 *
 * Order matters: raw bytes are decoded to text first (a raw ISO-2022-JP name holds bytes such as `<` and `"`
 * that would otherwise be read as address syntax), then the list is parsed, and only then are encoded words in
 * display names decoded (RFC 2047 5: a word decoding to `"x" <evil@example>` is still only a name). Encoded
 * words are swapped for private-use placeholders while the list is parsed so that our own charset handling
 * (CP932, CP50220, detection for unknown charsets) decodes them rather than mailparser's.
 */

const PLACEHOLDER = /\uE000(\d+)\uE001/g;
const HAS_PLACEHOLDER = /\uE000\d+\uE001/;

function restore(text: string, decoded: readonly string[]): string {
  return text.replace(PLACEHOLDER, (_m, i: string) => decoded[Number(i)] ?? '');
}

/**
 * RFC 5322 4.4 (obsolete syntax) allows comments and folding whitespace inside an addr-spec
 * (`<jdoe@machine(comment).  example>`); mailparser reads the comment as part of the name. Inside each
 * `<...>` outside quoted strings, comments and whitespace are dropped before the list is parsed.
 */
export function stripAngleComments(text: string): string {
  let out = '';
  let i = 0;
  let quoted = false;
  // The first '>' at or after i, found once and reused: headers of thousands of '<' stay linear.
  let close = -2;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') {
      out += text.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (quoted || c !== '<') {
      out += c;
      i++;
      continue;
    }
    if (close !== -1 && close < i) close = text.indexOf('>', i);
    const nextOpen = text.indexOf('<', i + 1);
    if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
      out += c;
      i++;
      continue;
    }
    const inner = text.slice(i + 1, close);
    out += `<${/[()\s]/.test(inner) ? dropComments(inner).replace(/\s+/g, '') : inner}>`;
    i = close + 1;
  }
  return out;
}

/**
 * An odd number of double quotes (`"John Smith <john@x>`, a name cut by a broken script) would swallow the
 * address into a quoted string; pairing the quotes from the left and dropping the one left over gives what a mail
 * client shows.
 */
export function balanceQuotes(text: string): string {
  let count = 0;
  let last = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') {
      count++;
      last = i;
    }
  }
  return count % 2 === 1 ? text.slice(0, last) + text.slice(last + 1) : text;
}

function dropComments(s: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && depth > 0) {
      i++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

// Characters that cannot end a domain (RFC 5321 4.1.2) nor start an unquoted local part: left over from broken
// syntax such as `From: test1@local>` or `[a@b.example]`, which mail clients do not show as part of the address.
const STRAY_TAIL = /[>)\]}"',;:]+$/;
const STRAY_HEAD = /^[<([]+/;

/** The address a mail client shows for a token with stray syntax around it; unchanged when it is clean. */
export function strayless(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return address;
  let local = address.slice(0, at);
  let domain = address.slice(at + 1);
  let cutQuote = false;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close > 0) domain = domain.slice(0, close + 1);
  } else {
    const tail = STRAY_TAIL.exec(domain)?.[0] ?? '';
    cutQuote = /['"]/.test(tail);
    domain = domain.slice(0, domain.length - tail.length);
  }
  local = local.replace(STRAY_HEAD, '');
  // A quote is part of the local part only when it is balanced ("john doe"@x) or, for "'", atext (o'brien@x).
  if (local.startsWith('"') && local.indexOf('"', 1) < 0) local = local.slice(1);
  if (cutQuote && local.startsWith("'")) local = local.slice(1);
  return local && domain ? `${local}@${domain}` : address;
}

/** A display name with a stray, unbalanced angle bracket at an edge (`John>` from `John <a@b>>`) loses it. */
function cleanName(name: string): string {
  const opens = name.split('<').length - 1;
  const closes = name.split('>').length - 1;
  if (opens === closes) return name;
  return (opens > closes ? name.replace(/^[<\s]+|[<\s]+$/g, '') : name.replace(/^[>\s]+|[>\s]+$/g, '')).trim();
}

function normaliseAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return '';
  return `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
}

// The address a plain header holds: `a@b.example`, `Name <a@b.example>` or `"Name" <a@b.example>`, in ASCII.
const PLAIN_ADDR =
  '[A-Za-z0-9_%+-]+(?:\\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+';
const PLAIN_MAILBOX = new RegExp(
  `^[ \\t]*(?:(${PLAIN_ADDR})|(?:"([A-Za-z0-9 ._',-]*)"|([A-Za-z0-9](?:[A-Za-z0-9 _'-]*[A-Za-z0-9])?))?[ \\t]*<(${PLAIN_ADDR})>)[ \\t]*$`,
);

/**
 * A header made of plain mailboxes only (most mail: one sender, a few recipients), read without the full parser;
 * null for anything else (quotes with commas, comments, groups, encoded words, 8-bit text, folding, odd syntax),
 * which takes the long way. Gives what the long way gives (test/parse/plain-addresses.test.ts compares the two).
 */
export function plainAddresses(text: string): Address[] | null {
  const items = text.includes('"') ? [text] : text.split(',');
  const out: Address[] = [];
  for (const item of items) {
    const m = PLAIN_MAILBOX.exec(item);
    if (m === null) return null;
    const name = (m[2] ?? m[3] ?? '').trim();
    const address = normaliseAddress(m[1] ?? m[4]!);
    if (!address) return null;
    out.push({ name, address });
  }
  return out;
}

/** One header's text by the full parser (what plainAddresses shortcuts); never throws. */
export function parsedAddresses(text: string): Address[] {
  const out: Address[] = [];
  addressesOf(text, out);
  return out;
}

/** Parses every occurrence of an address header; never throws. Groups are flattened, empty groups vanish. */
export function parseAddresses(values: readonly Buffer[], hint?: string | null): Address[] {
  const out: Address[] = [];
  for (const raw of values) {
    const text = decodeRawHeader(raw, hint);
    const plain = plainAddresses(text);
    if (plain === null) addressesOf(text, out);
    else out.push(...plain);
  }
  return out;
}

function addressesOf(input: string, out: Address[]): void {
  // The placeholders' own characters, should the header hold them, would be read as placeholders.
  let text = input.replace(/[\uE000\uE001]/g, '');
  const decoded: string[] = [];
  let swapped = '';
  let at = 0;
  for (const run of encodedWordRuns(text)) {
    swapped += `${text.slice(at, run.start)}\uE000${decoded.length}\uE001`;
    decoded.push(run.text);
    at = run.end;
  }
  // RFC 5322 4.4 obsolete syntax also allows whitespace around the dots of a domain (`jdoe@test  . example`).
  text = stripAngleComments(balanceQuotes(swapped + text.slice(at))).replace(/@[A-Za-z0-9-]+(?:\s*\.\s*[A-Za-z0-9-]+)+/g, (m) =>
    m.replace(/\s+/g, ''),
  );
  const source = text;
  let parsed: Array<{ name?: string; address?: string }>;
  try {
    parsed = parseAddressHeader(text, { flatten: true, decodePunycode: false }).value;
  } catch {
    parsed = [];
  }
  for (const entry of parsed) {
    const name = cleanName(cleanDisplay(restore(entry.name ?? '', decoded)).trim());
    const rawAddress = strayless(cleanDisplay(entry.address ?? '').trim());
    // RFC 2047 5 keeps encoded words out of the addr-spec: one there is accepted only if it decodes to a plain address.
    let address = rawAddress;
    if (HAS_PLACEHOLDER.test(rawAddress)) {
      const decodedAddress = restore(rawAddress, decoded);
      address = /^[^\s@]+@[^\s@]+$/.test(decodedAddress) ? decodedAddress : '';
    }
    const normalised = normaliseAddress(address);
    if (!normalised && !name && !address) continue;
    // A comment standing alone in the list ("(the end of the group)") is no mailbox, though mailparser makes it a name.
    if (!normalised && !address && source.includes(`(${entry.name ?? ''})`)) continue;
    // Something that is not an address ("From: Support") is kept as a name so nothing shown is lost.
    out.push({ name: normalised ? name : name || address, address: normalised });
  }
}
