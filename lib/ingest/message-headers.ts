import { createHash } from 'node:crypto';
import { findHeaderEnd } from '../parse/header-block.ts';

/** How much of a message's beginning is kept while it is received: the header block that dates and names it. */
export const HEAD_BYTES = 64 * 1024;

/**
 * The header block at the start of `bytes`, blank line included: what `TOP n 0` sends (RFC 1939 section 7). When
 * the blank line is not within `bytes` (a header block over 64 KiB, or a body cut short), everything up to the
 * last complete line, so a stand-in never ends mid-line.
 */
export function headerPart(bytes: Buffer): Buffer {
  const head = bytes.subarray(0, HEAD_BYTES);
  const end = findHeaderEnd(head);
  if (end >= 0) return head.subarray(0, end);
  const lastLine = head.lastIndexOf(0x0a);
  return lastLine >= 0 ? head.subarray(0, lastLine + 1) : head;
}

/** The fingerprint of a message's header block (see headerPart): the same from RETR's bytes as from TOP n 0's. */
export function headerFingerprint(bytes: Buffer): string {
  return createHash('sha256').update(headerPart(bytes)).digest('hex');
}
