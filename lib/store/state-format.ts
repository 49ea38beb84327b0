import type { IngestedEntry, MailboxState } from './types.ts';

/**
 * The mailbox state as stored (fs and S3 alike). Version 2 keys a message whose UIDL the server shares with another
 * message as `<uidl> <sha256>`: a space is outside RFC 1939's unique-id alphabet (0x21-0x7E), and lib/pop3 refuses
 * any UIDL holding one, so such a key can never equal a real UIDL. Version 1 used `<uidl>#<sha256>`, which a real
 * UIDL containing `#` could collide with (and which pruning split apart, dropping such UIDLs every other run).
 */
export const STATE_VERSION = 2;

const SEPARATOR = ' ';
const SHA256 = /^[0-9a-f]{64}$/;

/** State key of a message whose UIDL is not unique in the listing: the content hash tells the copies apart. */
export function duplicateKey(uid: string, sha256: string): string {
  return `${uid}${SEPARATOR}${sha256}`;
}

/** The server UIDL a state key stands for (the key itself, or the UIDL part of a duplicate key). */
export function uidOfKey(key: string): string {
  const at = key.indexOf(SEPARATOR);
  return at < 0 ? key : key.slice(0, at);
}

/**
 * A fresh map of UIDL -> entry without a prototype: `__proto__` and `constructor` are ordinary keys in it, and a
 * lookup of a UIDL never finds an inherited property.
 */
export function uidlMap(entries: Iterable<readonly [string, IngestedEntry]> = []): Record<string, IngestedEntry> {
  const out = Object.create(null) as Record<string, IngestedEntry>;
  for (const [k, v] of entries) out[k] = v;
  return out;
}

export function emptyState(mailbox: string): MailboxState {
  return { version: STATE_VERSION, mailbox, uidls: uidlMap() };
}

/**
 * Version 1 -> 2: a key `<uidl>#<sha256>` whose entry has that very sha256 was a duplicate key; any other key is a
 * real UIDL and stays as it is. (A real UIDL would have to end in `#` and the SHA-256 of its own message to be
 * mistaken for one; the cost would be one re-ingest of that message, never a loss.)
 */
function migrateV1Key(key: string, entry: IngestedEntry): string {
  const at = key.lastIndexOf('#');
  if (at <= 0) return key;
  const sha = key.slice(at + 1);
  return SHA256.test(sha) && entry.sha256 === sha ? duplicateKey(key.slice(0, at), sha) : key;
}

/**
 * Checks a parsed state document and returns it as the current version, with a prototype-free `uidls`. `corrupt`
 * builds the store's own error: a state that cannot be read as state is never taken for "no state", which would
 * re-ingest (and with retention `delete`, delete) the whole mailbox.
 */
export function decodeState(mailbox: string, value: unknown, corrupt: (why: string) => Error): MailboxState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt('not a JSON object');
  const v = value as Record<string, unknown>;
  if (v.version !== 1 && v.version !== STATE_VERSION) throw corrupt(`unsupported version ${JSON.stringify(v.version)}`);
  if (v.mailbox !== mailbox) throw corrupt(`it belongs to mailbox ${JSON.stringify(v.mailbox)}`);
  if (typeof v.uidls !== 'object' || v.uidls === null || Array.isArray(v.uidls)) throw corrupt('"uidls" is not an object');
  // JSON.parse makes `"__proto__"` an own property, so Object.entries sees every stored key.
  const stored = Object.entries(v.uidls as Record<string, unknown>);
  const uidls = uidlMap();
  stored.forEach(([key, entry], i) => {
    const e = entry as Record<string, unknown> | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.id !== 'string' ||
      typeof e.sha256 !== 'string' ||
      typeof e.key !== 'string' ||
      typeof e.size !== 'number'
    ) {
      throw corrupt(`entry for UIDL #${i + 1} is malformed`);
    }
    const typed = e as unknown as IngestedEntry;
    uidls[v.version === 1 ? migrateV1Key(key, typed) : key] = typed;
  });
  // Fields this version does not know (written by a newer one) are kept, so a write does not drop them.
  return { ...(v as Partial<MailboxState>), version: STATE_VERSION, mailbox, uidls };
}
