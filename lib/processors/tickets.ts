import type { MetadataDocument } from '../document/metadata-schema.ts';
import { isPreconditionFailed, type ObjectStore } from './object-store.ts';
import { normaliseSubject } from './subject.ts';
import { claimIndex, messageIdIndexKey, normaliseMessageId, readIndex, subjectIndexKey, ticketKey, writeIndex } from './ticket-index.ts';
import { TICKET_SCHEMA_VERSION, TicketConflictError, type TicketComment, type TicketDocument, type TicketOutcome } from './ticket-types.ts';

export interface TicketIntakeOptions {
  /** A reply joins a ticket by subject only if that ticket was updated within this many days. @default 30 */
  readonly subjectWindowDays?: number;
  /** Conditional-write attempts when comments race on one ticket. @default 8 */
  readonly maxAttempts?: number;
  /** Pause before a retry after a lost conditional write. @default 20-70 ms, jittered */
  readonly backoff?: (attempt: number) => Promise<void>;
}

const DAY_MS = 86_400_000;
/** A chain of merged tickets longer than this is a bug, not a thread. */
const MAX_MERGE_HOPS = 8;

function defaultBackoff(attempt: number): Promise<void> {
  const ms = Math.min(1000, 20 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The ticket id for a thread this document opens: derived from the document, so a redelivery finds its own ticket. */
export function ticketIdFor(doc: MetadataDocument): string {
  return `T-${doc.id.slice(0, 32)}`;
}

function commentOf(doc: MetadataDocument): TicketComment {
  return {
    docId: doc.id,
    mailbox: doc.mailbox,
    messageId: doc.messageId,
    inReplyTo: doc.inReplyTo,
    date: doc.date,
    ingestedAt: doc.ingestedAt,
    from: doc.from,
    subject: doc.subject,
    snippet: doc.snippet,
    attachments: doc.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256 })),
    raw: {
      key: doc.raw.key,
      size: doc.raw.size,
      sha256: doc.raw.sha256,
      ...(doc.raw.bucket === undefined ? {} : { bucket: doc.raw.bucket }),
    },
  };
}

/** The same message delivered twice (redelivery, or one mail sent to two support addresses) is one comment. */
function alreadyHas(ticket: TicketDocument, doc: MetadataDocument): boolean {
  const mid = doc.messageId === null ? null : normaliseMessageId(doc.messageId);
  return ticket.comments.some(
    (c) => c.docId === doc.id || (mid !== null && mid !== '' && c.messageId !== null && normaliseMessageId(c.messageId) === mid),
  );
}

function parseTicket(body: Buffer): TicketDocument {
  return JSON.parse(body.toString('utf8')) as TicketDocument;
}

function laterOf(a: string, b: string): string {
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** Ids that tie this message to a thread, most specific first: its own id (a reply seen earlier indexed it), the parent, then the references from the newest. */
function threadIds(doc: MetadataDocument): string[] {
  const ids = [doc.messageId, doc.inReplyTo, ...[...doc.references].reverse()]
    .filter((x): x is string => typeof x === 'string')
    .map(normaliseMessageId)
    .filter((x) => x !== '');
  return [...new Set(ids)];
}

export class TicketIntake {
  readonly store: ObjectStore;
  readonly subjectWindowMs: number;
  readonly maxAttempts: number;
  readonly backoff: (attempt: number) => Promise<void>;

  constructor(store: ObjectStore, options: TicketIntakeOptions = {}) {
    this.store = store;
    this.subjectWindowMs = (options.subjectWindowDays ?? 30) * DAY_MS;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.backoff = options.backoff ?? defaultBackoff;
  }

  async process(doc: MetadataDocument): Promise<TicketOutcome> {
    if (doc.flags.autoReply) return { action: 'skipped', reason: 'auto-reply' };
    if (doc.flags.bounce) return { action: 'skipped', reason: 'bounce' };

    const found = await this.findThread(doc);
    if (found !== null) {
      const added = await this.addComment(found.ticketId, doc);
      await this.indexMessage(doc, added.ticketId);
      return added.added
        ? { action: 'commented', ticketId: added.ticketId, via: found.via }
        : { action: 'duplicate', ticketId: added.ticketId };
    }
    return this.openTicket(doc);
  }

  private async findThread(doc: MetadataDocument): Promise<{ ticketId: string; via: 'message-id' | 'subject' } | null> {
    for (const id of threadIds(doc)) {
      const ticketId = await readIndex(this.store, messageIdIndexKey(id));
      if (ticketId !== null) return { ticketId, via: 'message-id' };
    }
    // A subject joins a thread only for a reply (a marker, or reply headers whose parent we never saw, such as an
    // agent's answer sent from another system); a fresh "Hello" must never land in someone else's ticket.
    const subject = normaliseSubject(doc.subject);
    const isReply = subject.hadMarker || doc.inReplyTo !== null || doc.references.length > 0;
    if (!isReply || subject.key === '') return null;
    const ticketId = await readIndex(this.store, subjectIndexKey(doc.mailbox, subject.key));
    if (ticketId === null) return null;
    const ticket = await this.store.get(ticketKey(ticketId));
    if (ticket === null) return null;
    const t = parseTicket(ticket.body);
    if (Date.parse(doc.ingestedAt) - Date.parse(t.updatedAt) > this.subjectWindowMs) return null;
    return { ticketId, via: 'subject' };
  }

  /** Appends the comment with a compare-and-set on the ticket's ETag, re-reading after each lost race. */
  private async addComment(ticketId: string, doc: MetadataDocument): Promise<{ ticketId: string; added: boolean }> {
    let id = ticketId;
    let hops = 0;
    for (let attempt = 1; ; attempt++) {
      const current = await this.store.get(ticketKey(id));
      if (current === null) throw new Error(`ticket ${id} is indexed but missing`);
      const ticket = parseTicket(current.body);
      if (ticket.status === 'merged' && ticket.mergedInto !== null) {
        if (++hops > MAX_MERGE_HOPS) throw new Error(`ticket ${ticketId}: merge chain longer than ${MAX_MERGE_HOPS}`);
        id = ticket.mergedInto;
        attempt = 0;
        continue;
      }
      if (alreadyHas(ticket, doc)) return { ticketId: id, added: false };
      const next: TicketDocument = {
        ...ticket,
        updatedAt: laterOf(ticket.updatedAt, doc.ingestedAt),
        comments: [...ticket.comments, commentOf(doc)],
      };
      try {
        await this.store.put(ticketKey(id), JSON.stringify(next), { contentType: 'application/json', ifMatch: current.etag });
        return { ticketId: id, added: true };
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
        if (attempt >= this.maxAttempts) throw new TicketConflictError(id, attempt);
        await this.backoff(attempt);
      }
    }
  }

  private async openTicket(doc: MetadataDocument): Promise<TicketOutcome> {
    const ticketId = ticketIdFor(doc);
    const ticket: TicketDocument = {
      schemaVersion: TICKET_SCHEMA_VERSION,
      ticketId,
      mailbox: doc.mailbox,
      subject: doc.subject,
      status: 'open',
      mergedInto: null,
      createdAt: doc.ingestedAt,
      updatedAt: doc.ingestedAt,
      requester: doc.replyTo[0] ?? doc.from[0] ?? null,
      comments: [commentOf(doc)],
    };
    try {
      await this.store.put(ticketKey(ticketId), JSON.stringify(ticket), { contentType: 'application/json', ifNoneMatch: '*' });
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      // Our own ticket exists: this document was delivered before (perhaps we crashed before indexing it).
      const again = await this.addComment(ticketId, doc);
      await this.indexMessage(doc, again.ticketId);
      return again.added
        ? { action: 'commented', ticketId: again.ticketId, via: 'message-id' }
        : { action: 'duplicate', ticketId: again.ticketId };
    }
    const winner = await this.indexMessage(doc, ticketId);
    if (winner !== ticketId) return this.mergeInto(ticket, winner, doc);
    return { action: 'created', ticketId };
  }

  /**
   * Claims the message's ids for the ticket. Returns the ticket that owns them afterwards: another one when a
   * message of the same thread opened a ticket at the same moment and claimed one of the ids first.
   */
  private async indexMessage(doc: MetadataDocument, ticketId: string): Promise<string> {
    let owner = ticketId;
    for (const id of threadIds(doc)) {
      const got = await claimIndex(this.store, messageIdIndexKey(id), ticketId);
      if (got !== ticketId && owner === ticketId) owner = got;
    }
    const subject = normaliseSubject(doc.subject);
    if (subject.key !== '' && owner === ticketId) await writeIndex(this.store, subjectIndexKey(doc.mailbox, subject.key), ticketId);
    return owner;
  }

  /** Folds a ticket we just opened into the thread's ticket another invocation opened concurrently. */
  private async mergeInto(ours: TicketDocument, target: string, doc: MetadataDocument): Promise<TicketOutcome> {
    const added = await this.addComment(target, doc);
    await this.store.put(ticketKey(ours.ticketId), JSON.stringify({ ...ours, status: 'merged', mergedInto: added.ticketId }), {
      contentType: 'application/json',
    });
    for (const id of threadIds(doc)) {
      const key = messageIdIndexKey(id);
      if ((await readIndex(this.store, key)) === ours.ticketId) await writeIndex(this.store, key, added.ticketId);
    }
    return added.added
      ? { action: 'commented', ticketId: added.ticketId, via: 'message-id' }
      : { action: 'duplicate', ticketId: added.ticketId };
  }
}
