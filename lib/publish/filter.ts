import type { MetadataDocument } from '../document/metadata-schema.ts';
import type { TargetFilter } from '../config/types.ts';

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/**
 * Whether a document goes to a target. Every condition given must hold; no filter (or an empty one) matches all.
 * - `mailbox`: the document's mailbox is one of these ids.
 * - `to`: some To or Cc address equals one of the addresses (case-insensitive), or is in one of the `@domain`s
 *   (the domain exactly: `@example.jp` does not match `sub.example.jp`).
 * - `hasAttachments`: whether the message has an attachment that is not inline (inline images in an HTML
 *   signature do not make a message one "with attachments").
 * - `autoReply`, `bounce`, `list`: the flags of the same name.
 */
export function matchesFilter(doc: MetadataDocument, filter?: TargetFilter): boolean {
  if (filter === undefined) return true;
  if (filter.mailbox !== undefined && !filter.mailbox.includes(doc.mailbox)) return false;
  if (filter.to !== undefined) {
    const recipients = [...doc.to, ...doc.cc].map((a) => a.address.toLowerCase()).filter((a) => a !== '');
    const wanted = filter.to.map((t) => t.toLowerCase());
    const hit = wanted.some((w) => (w.startsWith('@') ? recipients.some((r) => domainOf(r) === w.slice(1)) : recipients.includes(w)));
    if (!hit) return false;
  }
  if (filter.hasAttachments !== undefined && doc.attachments.some((a) => !a.inline) !== filter.hasAttachments) return false;
  if (filter.autoReply !== undefined && doc.flags.autoReply !== filter.autoReply) return false;
  if (filter.bounce !== undefined && doc.flags.bounce !== filter.bounce) return false;
  if (filter.list !== undefined && doc.flags.list !== filter.list) return false;
  return true;
}
