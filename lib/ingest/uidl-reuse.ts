import type { MessageStream, Pop3Client } from '../pop3/types.ts';
import type { IngestedEntry, MailboxState } from '../store/types.ts';
import type { ListedMessage } from './listing.ts';
import { Pop3Error } from '../pop3/errors.ts';
import { HEAD_BYTES, headerFingerprint } from './message-headers.ts';
import { knownEntry } from './plan.ts';

/**
 * RFC 1939 section 7 wants a UIDL never reused, but some servers number UIDLs by position: once message 1 is gone,
 * the next mail is "1" again. A new message under a known UIDL with another size is caught by LIST (plan.ts); one
 * with the same size is caught here, by its header block, without a RETR per message kept on the server.
 */

/** A listed message whose known UIDL may now name another message: fetched again, and compared by its bytes. */
export interface Suspect {
  /** The state key and entry the UIDL had. */
  readonly key: string;
  readonly previous: IngestedEntry;
  /** The header block's fingerprint from TOP n 0 (what later checks compare against); null without TOP. */
  readonly headerSha256: string | null;
}

export interface HeaderCheck {
  /** Message number -> suspect: to be fetched again this session. */
  readonly suspects: ReadonlyMap<number, Suspect>;
  /** State entries to update: a fingerprint recorded for the first time, or a deletion that did not take effect. */
  readonly updates: ReadonlyArray<{ readonly key: string; readonly entry: IngestedEntry }>;
  /** Messages whose header block was read. */
  readonly checked: number;
}

/** TOP commands sent ahead of the one being read. */
const TOP_WINDOW = 64;
const NUMERIC = /^\d{1,15}$/;

/**
 * Whether this server's UIDLs may be positions, and so be reused: every UIDL is a decimal number that equals the
 * message number plus one same offset (numbering by position, or a counter that looks like it), or a UIDL whose
 * deletion we confirmed is listed again. Opaque UIDLs (Dovecot's, Courier's, Cyrus's) never qualify: checking them
 * would cost a TOP per message for nothing.
 */
export function looksPositional(listing: readonly ListedMessage[], state: MailboxState): boolean {
  if (listing.some((m) => knownEntry(state, m.uid)?.deletedAt)) return true;
  const first = listing[0];
  if (first === undefined || !NUMERIC.test(first.uid)) return false;
  const offset = Number(first.uid) - first.n;
  return listing.every((m) => NUMERIC.test(m.uid) && Number(m.uid) - m.n === offset);
}

/** The fingerprint of message n's header block by TOP n 0, or null when the server will not send it. */
async function topFingerprint(reply: Promise<MessageStream>): Promise<string | null> {
  let stream: MessageStream['stream'];
  try {
    ({ stream } = await reply);
  } catch (err) {
    if (err instanceof Pop3Error && err.code === 'ECOMMAND') return null; // -ERR to this TOP: the session goes on
    throw err;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= HEAD_BYTES) break; // the rest is discarded by the client, keeping the session in step
  }
  return headerFingerprint(Buffer.concat(chunks, size));
}

/**
 * Reads the header block (TOP n 0, pipelined) of every listed message with a state entry, and compares it with the
 * fingerprint taken at ingest. A different one, or a UIDL we saw deleted listed again without a fingerprint to
 * compare, makes the message a suspect. An entry from before fingerprints were kept gets the one seen now (trusted:
 * what was there before cannot be known). Without TOP, only the UIDLs seen deleted can be caught (refetched).
 */
export async function checkHeaders(client: Pop3Client, listing: readonly ListedMessage[], state: MailboxState): Promise<HeaderCheck> {
  const candidates = listing.flatMap((m) => {
    const entry = m.duplicate ? undefined : knownEntry(state, m.uid);
    return entry === undefined ? [] : [{ message: m, key: m.uid, entry }];
  });
  const suspects = new Map<number, Suspect>();
  const updates: Array<{ key: string; entry: IngestedEntry }> = [];
  const hasTop = client.capabilities.size === 0 || client.capabilities.has('TOP');
  const queue: Array<Promise<string | null>> = [];
  let next = 0;
  let checked = 0;
  const request = (): void => {
    const c = candidates[next++]!;
    const fingerprint = topFingerprint(client.top(c.message.n, 0));
    fingerprint.catch(() => undefined); // awaited in turn below
    queue.push(fingerprint);
  };
  for (const c of candidates) {
    if (hasTop) while (next < candidates.length && queue.length < TOP_WINDOW) request();
    const seen = hasTop ? await queue.shift()! : null;
    if (seen !== null) checked++;
    const { entry } = c;
    if (seen === null || entry.headerSha256 === undefined) {
      // Nothing to compare: a UIDL seen deleted is fetched again (a server that reused it); anything else is trusted.
      if (entry.deletedAt) suspects.set(c.message.n, { key: c.key, previous: entry, headerSha256: seen });
      else if (seen !== null) updates.push({ key: c.key, entry: { ...entry, headerSha256: seen } });
    } else if (seen !== entry.headerSha256) {
      suspects.set(c.message.n, { key: c.key, previous: entry, headerSha256: seen });
    } else if (entry.deletedAt) {
      // The very message we deleted is still there: the DELE did not take effect, so retention may try again.
      updates.push({ key: c.key, entry: { ...entry, deletedAt: null } });
    }
  }
  return { suspects, updates, checked };
}
