import * as z from 'zod';

/** Version of the metadata document below. Bumped only for incompatible changes. */
export const SCHEMA_VERSION = 1 as const;

export const addressSchema = z.object({
  /** Display name as a mail client shows it (decoded), '' when absent. */
  name: z.string(),
  /** Lower-cased domain, local part as sent; '' when the header could not be parsed into an address. */
  address: z.string(),
});

export const attachmentSchema = z.object({
  filename: z.string().nullable(),
  contentType: z.string(),
  /** Decoded size in bytes. */
  size: z.number().int().nonnegative(),
  /** SHA-256 of the decoded content, lower-case hex. */
  sha256: z.string(),
  contentId: z.string().nullable(),
  inline: z.boolean(),
});

/**
 * Why a message bounced, in sisimai's vocabulary (https://libsisimai.org/en/reason/), so that a processor can
 * act on it: userunknown, hostunknown, hasmoved and suspend mean "stop sending"; mailboxfull, expired,
 * networkerror and systemerror are usually temporary; filtered, rejected, blocked, spamdetected and policyviolation
 * mean the receiving side refused this sender or this content; `suppressed`, that the sending service itself
 * would not try (an address on its suppression list). `feedback` is an abuse report (RFC 5965), `onhold`
 * a failure whose text does not say why, `undefined` a bounce with no detail at all.
 */
export const BOUNCE_REASONS = [
  'authfailure',
  'badreputation',
  'blocked',
  'contenterror',
  'exceedlimit',
  'expired',
  'feedback',
  'filtered',
  'hasmoved',
  'hostunknown',
  'mailboxfull',
  'mailererror',
  'mesgtoobig',
  'networkerror',
  'norelaying',
  'notaccept',
  'notcompliantrfc',
  'onhold',
  'policyviolation',
  'rejected',
  'requireptr',
  'securityerror',
  'spamdetected',
  'speeding',
  'suspend',
  'suppressed',
  'syntaxerror',
  'systemerror',
  'systemfull',
  'toomanyconn',
  'undefined',
  'userunknown',
  'virusdetected',
] as const;

export const bounceSchema = z.object({
  /** The address that could not be reached (the first failed one when the bounce lists several), null when the bounce does not say. */
  recipient: z.string().nullable(),
  /** RFC 3463 enhanced status code (`5.1.1`), null when neither the report nor the text gives one. */
  status: z.string().nullable(),
  reason: z.enum(BOUNCE_REASONS),
  /** The remote server's words (the SMTP reply, or the MTA's explanation), whitespace collapsed, at most 1,000 characters. */
  diagnostic: z.string().nullable(),
  /** The mail system that wrote the bounce, as far as its format tells: `postfix`, `exim`, `sendmail`, `qmail`,
   * `exchange`, `office365`, `gmail`, `yahoo`, `au`, `docomo`, `softbank`, ...; `rfc3464` for a standard report
   * from anything else; null when unknown. */
  mta: z.string().nullable(),
});

export const flagsSchema = z.object({
  /** RFC 3834 Auto-Submitted other than "no", X-Autoreply, X-Autorespond, auto-reply Precedence, X-Auto-Response-Suppress on a reply. */
  autoReply: z.boolean(),
  /** A bounce: a delivery failure or delay report (RFC 3464 or an MTA's own text) or an abuse report; `bounce` then says more. */
  bounce: z.boolean(),
  /** Mailing-list mail: List-Id / List-Unsubscribe / Precedence: list or bulk. */
  list: z.boolean(),
  /** Precedence: bulk or junk, or X-Spam-Flag: YES. */
  bulk: z.boolean(),
  spam: z.boolean(),
  /** The message was larger than maxMessageBytes: only its headers (TOP) were stored. */
  oversized: z.boolean(),
});

export const metadataDocumentSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  /** Stable for this message across retries and replays: hex SHA-256 of mailbox, UIDL and content hash. */
  id: z.string(),
  mailbox: z.string(),
  uidl: z.string(),
  /** ISO 8601 UTC. */
  ingestedAt: z.string(),
  raw: z.object({
    key: z.string(),
    size: z.number().int().nonnegative(),
    sha256: z.string(),
    bucket: z.string().optional(),
  }),
  messageId: z.string().nullable(),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  /** ISO 8601 from the Date header, null when absent or unparseable. */
  date: z.string().nullable(),
  subject: z.string().nullable(),
  from: z.array(addressSchema),
  to: z.array(addressSchema),
  cc: z.array(addressSchema),
  replyTo: z.array(addressSchema),
  attachments: z.array(attachmentSchema),
  /** First ~280 characters of the plain text (or text from HTML), whitespace collapsed. */
  snippet: z.string(),
  flags: flagsSchema,
  /** Present exactly when `flags.bounce` is true. Optional, so the schema version stays 1: documents written before it lack it. */
  bounce: bounceSchema.optional(),
  /** Selected headers, decoded, null when absent. */
  headers: z.object({
    listId: z.string().nullable(),
    authenticationResults: z.array(z.string()),
    spamFlag: z.string().nullable(),
    spamStatus: z.string().nullable(),
    autoSubmitted: z.string().nullable(),
    returnPath: z.string().nullable(),
  }),
  /** Null when parsing succeeded; otherwise why it did not (the raw message is archived all the same). */
  parseError: z.string().nullable(),
});

export type Address = z.infer<typeof addressSchema>;
export type Attachment = z.infer<typeof attachmentSchema>;
export type Flags = z.infer<typeof flagsSchema>;
export type Bounce = z.infer<typeof bounceSchema>;
export type BounceReason = (typeof BOUNCE_REASONS)[number];
export type MetadataDocument = z.infer<typeof metadataDocumentSchema>;

/** What parsing a message yields: the document minus the fields the pipeline owns. */
export type ParsedMessage = Omit<MetadataDocument, 'schemaVersion' | 'id' | 'mailbox' | 'uidl' | 'ingestedAt' | 'raw'>;
