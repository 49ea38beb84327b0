import { createHash } from 'node:crypto';
import { isPreconditionFailed, type ObjectStore } from './object-store.ts';
import { normaliseMessageId } from '../parse/thread-keys.ts';

/**
 * Keys relative to the processor's output prefix (OUTPUT_PREFIX, `tickets/` in the stack): tickets at the top,
 * lookup objects beside them. S3 has no secondary index, so each Message-ID (and each normalised subject, per
 * mailbox) gets a tiny object naming its ticket. Keys are hashes: a Message-ID is sender-controlled text and must
 * never become part of a key.
 */

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export { normaliseMessageId };

export function ticketKey(ticketId: string): string {
  return `${ticketId}.json`;
}

export function messageIdIndexKey(messageId: string): string {
  return `by-message-id/${sha256(normaliseMessageId(messageId))}.json`;
}

export function subjectIndexKey(mailbox: string, subjectKey: string): string {
  return `by-subject/${sha256(`${mailbox}\u0000${subjectKey}`)}.json`;
}

interface IndexEntry {
  readonly ticketId: string;
}

export async function readIndex(store: ObjectStore, key: string): Promise<string | null> {
  const o = await store.get(key);
  if (o === null) return null;
  const parsed = JSON.parse(o.body.toString('utf8')) as Partial<IndexEntry>;
  return typeof parsed.ticketId === 'string' ? parsed.ticketId : null;
}

/**
 * Claims `key` for `ticketId` if nobody has: the first writer wins (If-None-Match). Returns the ticket the key
 * names afterwards, which is someone else's when the claim was lost.
 */
export async function claimIndex(store: ObjectStore, key: string, ticketId: string): Promise<string> {
  try {
    await store.put(key, JSON.stringify({ ticketId }), { contentType: 'application/json', ifNoneMatch: '*' });
    return ticketId;
  } catch (err) {
    if (!isPreconditionFailed(err)) throw err;
    return (await readIndex(store, key)) ?? ticketId;
  }
}

/** Points `key` at `ticketId` whatever it named before (subject hints, and repointing after a merge). */
export async function writeIndex(store: ObjectStore, key: string, ticketId: string): Promise<void> {
  await store.put(key, JSON.stringify({ ticketId }), { contentType: 'application/json' });
}
