import type { Flags } from '../document/metadata-schema.ts';
import type { HeaderMap } from './header-block.ts';
import type { HeaderFields } from './header-fields.ts';

/**
 * Classification only: nothing is dropped here, each processor decides what to do with an auto-reply, a bounce
 * or list mail.
 */

// Subjects of out-of-office and auto-replies as Exchange/Outlook, Gmail and Japanese mailers write them.
const AUTO_REPLY_SUBJECT = /^\s*(?:(?:automatic|auto)[- ]?(?:reply|response)|autoreply|out of (?:the )?office)\b|^\s*(?:自動応答|自動返信|不在)/i;
const DAEMON_SENDER = /^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@/i;

function lower(h: HeaderMap, name: string): string | null {
  const v = h.text(name);
  return v === null ? null : v.trim().toLowerCase();
}

/** Whether an empty reverse path was recorded: `Return-Path: <>` (RFC 5321 4.5.5, what a bounce is sent from). */
function emptyReturnPath(h: HeaderMap): boolean {
  const v = lower(h, 'return-path');
  return v !== null && /^<\s*>$|^$/.test(v.replace(/\([^()]*\)/g, '').trim());
}

export function classify(h: HeaderMap, fields: HeaderFields): Flags {
  const precedence = lower(h, 'precedence')?.replace(/\s*\(.*$/, '') ?? null;
  const autoSubmitted = lower(h, 'auto-submitted')?.split(/[;\s(]/)[0] ?? null;
  const subject = fields.subject ?? '';

  // RFC 3834 5: any Auto-Submitted value other than "no" marks an automatic message.
  const byAutoSubmitted = autoSubmitted !== null && autoSubmitted !== '' && autoSubmitted !== 'no';
  const xAutoreply = lower(h, 'x-autoreply');
  const byLegacyHeaders = (xAutoreply !== null && xAutoreply !== 'no') || h.has('x-autorespond') || precedence === 'auto_reply';
  // Outlook puts X-Auto-Response-Suppress on ordinary mail too (meeting requests, mail sent with rules), so on
  // its own it means only "do not auto-reply to this"; it marks an auto-reply when the message reads as one.
  const byOutlook = h.has('x-auto-response-suppress') && AUTO_REPLY_SUBJECT.test(subject);
  const autoReply = byAutoSubmitted || byLegacyHeaders || byOutlook;

  const contentType = lower(h, 'content-type') ?? '';
  const isReport = /^multipart\/report\s*(?:;|$)/.test(contentType) && /report-type\s*=\s*"?delivery-status"?/.test(contentType);
  const fromDaemon = fields.from.some(a => DAEMON_SENDER.test(a.address));
  const bounce = isReport || (fromDaemon && emptyReturnPath(h));

  const list = h.has('list-id') || h.has('list-unsubscribe') || precedence === 'list';
  const bulk = precedence === 'bulk' || precedence === 'junk';
  const spam = (lower(h, 'x-spam-flag') ?? '') === 'yes';

  return { autoReply, bounce, list, bulk, spam, oversized: false };
}
