import type { Address } from '../document/metadata-schema.ts';
import { CodedError } from '../coded-error.ts';

export const TICKET_SCHEMA_VERSION = 1 as const;

/** One message of a thread, as a helpdesk shows it: a summary and a pointer to the raw message, never the body. */
export interface TicketComment {
  /** The metadata document id: a redelivered document is recognised by it. */
  readonly docId: string;
  readonly mailbox: string;
  readonly messageId: string | null;
  readonly inReplyTo: string | null;
  readonly date: string | null;
  readonly ingestedAt: string;
  readonly from: readonly Address[];
  readonly subject: string | null;
  readonly snippet: string;
  readonly attachments: ReadonlyArray<{
    readonly filename: string | null;
    readonly contentType: string;
    readonly size: number;
    readonly sha256: string;
  }>;
  readonly raw: { readonly key: string; readonly bucket?: string; readonly size: number; readonly sha256: string };
}

export interface TicketDocument {
  readonly schemaVersion: typeof TICKET_SCHEMA_VERSION;
  readonly ticketId: string;
  readonly mailbox: string;
  /** The subject of the message that opened the ticket. */
  readonly subject: string | null;
  /** Open, or folded into another ticket after two messages of one thread opened one each at the same time. */
  readonly status: 'open' | 'merged';
  readonly mergedInto: string | null;
  /** `ingestedAt` of the first and the latest comment (data, not the clock, so reprocessing is deterministic). */
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly requester: Address | null;
  readonly comments: readonly TicketComment[];
}

export type TicketOutcome =
  | { readonly action: 'skipped'; readonly reason: 'auto-reply' | 'bounce' }
  | { readonly action: 'created'; readonly ticketId: string }
  | { readonly action: 'commented'; readonly ticketId: string; readonly via: 'message-id' | 'subject' }
  | { readonly action: 'duplicate'; readonly ticketId: string };

/** A ticket kept changing under us for every attempt: the SQS record is retried later. */
export class TicketConflictError extends CodedError<'ETICKETCONFLICT'> {
  readonly ticketId: string;
  constructor(ticketId: string, attempts: number) {
    super('TicketConflictError', 'ETICKETCONFLICT', `ticket ${ticketId} changed during each of ${attempts} attempts to add a comment`, {
      retryable: true,
      failureClass: 'storage',
    });
    this.ticketId = ticketId;
  }
}
