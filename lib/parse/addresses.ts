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

function normaliseAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return '';
  return address.slice(0, at) + '@' + address.slice(at + 1).toLowerCase();
}

/** Parses every occurrence of an address header; never throws. Groups are flattened, empty groups vanish. */
export function parseAddresses(values: readonly Buffer[], hint?: string | null): Address[] {
  const out: Address[] = [];
  for (const raw of values) {
    let text = decodeRawHeader(raw, hint).replace(/[\uE000\uE001]/g, '');
    const decoded: string[] = [];
    let swapped = '';
    let at = 0;
    for (const run of encodedWordRuns(text)) {
      swapped += text.slice(at, run.start) + `\uE000${decoded.length}\uE001`;
      decoded.push(run.text);
      at = run.end;
    }
    text = swapped + text.slice(at);
    let parsed: Array<{ name?: string; address?: string }>;
    try {
      parsed = parseAddressHeader(text, { flatten: true, decodePunycode: false }).value;
    } catch {
      parsed = [];
    }
    for (const entry of parsed) {
      const name = cleanDisplay(restore(entry.name ?? '', decoded)).trim();
      const rawAddress = cleanDisplay(entry.address ?? '').trim();
      // RFC 2047 5 keeps encoded words out of the addr-spec: one there is accepted only if it decodes to a plain address.
      let address = rawAddress;
      if (HAS_PLACEHOLDER.test(rawAddress)) {
        const decodedAddress = restore(rawAddress, decoded);
        address = /^[^\s@]+@[^\s@]+$/.test(decodedAddress) ? decodedAddress : '';
      }
      const normalised = normaliseAddress(address);
      if (!normalised && !name && !address) continue;
      // Something that is not an address ("From: Support") is kept as a name so nothing shown is lost.
      out.push({ name: normalised ? name : name || address, address: normalised });
    }
  }
  return out;
}
