import type { ListEntry, Pop3Client, UidlEntry } from '../pop3/types.ts';
import { Pop3Error } from '../pop3/errors.ts';
import { IngestError } from './errors.ts';

/** One message of the session's maildrop: its number (fixed for the session), UIDL and the size LIST gave. */
export interface ListedMessage {
  readonly n: number;
  readonly uid: string;
  readonly size: number;
  /** The UIDL is shared with another message in this listing (RFC 1939 section 7 allows servers to misbehave). */
  readonly duplicate: boolean;
}

async function listUidls(client: Pop3Client): Promise<UidlEntry[]> {
  try {
    return await client.uidl();
  } catch (err) {
    if (!(err instanceof Pop3Error) || err.code !== 'ECOMMAND') throw err;
    throw new IngestError(
      'ENOUIDL',
      'protocol',
      'the server does not support UIDL, so new mail cannot be told from mail already ingested; refusing to fetch the mailbox',
      { cause: err },
    );
  }
}

/**
 * STAT, UIDL and LIST, pipelined (the client queues all three at once), joined and checked. STAT says how many
 * messages the session holds; RFC 1939 section 5 numbers them 1 to that count, fixed for the session.
 */
export async function listMailbox(client: Pop3Client): Promise<ListedMessage[]> {
  const [stat, uidls, sizes] = await Promise.allSettled([client.stat(), listUidls(client), client.list()]);
  // The first failure in command order is the cause; the commands after it only saw the session close.
  for (const r of [stat, uidls, sizes]) if (r.status === 'rejected') throw r.reason;
  return joinListing(
    (stat as PromiseFulfilledResult<{ count: number }>).value.count,
    (uidls as PromiseFulfilledResult<UidlEntry[]>).value,
    (sizes as PromiseFulfilledResult<ListEntry[]>).value,
  );
}

/**
 * What is wrong with one listing's message numbers, or null: each of 1..count exactly once. A repeated number
 * would fetch one message twice and record a UIDL against another message's bytes; a later, correct listing could
 * then delete a message that was never archived.
 */
function numberingProblem(verb: 'UIDL' | 'LIST', numbers: readonly number[], count: number): string | null {
  const seen = new Uint8Array(count + 1);
  for (const n of numbers) {
    if (n === 0) return `${verb} lists message number 0 (numbers start at 1)`;
    if (n > count) return `${verb} lists message ${n} but STAT counts ${count} messages`;
    if (seen[n] === 1) return `${verb} lists message ${n} twice`;
    seen[n] = 1;
  }
  if (numbers.length < count) {
    const missing = seen.indexOf(0, 1);
    return `${verb} skips message ${missing} (STAT counts ${count} messages, ${verb} lists ${numbers.length})`;
  }
  return null;
}

/**
 * Joins UIDL and LIST by message number, oldest (lowest number) first. A listing whose numbers repeat, are zero,
 * skip one, exceed STAT's count, or differ between UIDL and LIST is refused (ELISTING): nothing of such a session
 * can be trusted to point at the right message, so nothing is fetched, recorded or deleted.
 */
export function joinListing(count: number, uidls: readonly UidlEntry[], sizes: readonly ListEntry[]): ListedMessage[] {
  const problem =
    numberingProblem(
      'UIDL',
      uidls.map((u) => u.n),
      count,
    ) ??
    numberingProblem(
      'LIST',
      sizes.map((e) => e.n),
      count,
    );
  if (problem !== null) {
    throw new IngestError(
      'ELISTING',
      'protocol',
      `the server's listing is inconsistent: ${problem}; refusing this session so that nothing is fetched, recorded or deleted against the wrong message`,
    );
  }
  // Both list exactly 1..count now, so every UIDL number has its size.
  const sizeOf = new Array<number>(count + 1);
  for (const e of sizes) sizeOf[e.n] = e.size;
  const uses = new Map<string, number>();
  for (const u of uidls) uses.set(u.uid, (uses.get(u.uid) ?? 0) + 1);
  return [...uidls].sort((a, b) => a.n - b.n).map((u) => ({ n: u.n, uid: u.uid, size: sizeOf[u.n]!, duplicate: uses.get(u.uid)! > 1 }));
}
