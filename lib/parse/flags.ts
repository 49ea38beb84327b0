import type { Flags } from '../document/metadata-schema.ts';
import type { HeaderMap } from './header-block.ts';
import type { HeaderFields } from './header-fields.ts';

/**
 * Classification only: nothing is dropped here, each processor decides what to do with an auto-reply, a bounce
 * or list mail.
 */

// Subjects of out-of-office and auto-replies as Exchange/Outlook, Gmail and Japanese mailers write them.
export const AUTO_REPLY_SUBJECT =
  /^\s*(?:(?:automatic|auto)[- ]?(?:reply|response)|autoreply|out of (?:the )?office)\b|^\s*(?:自動応答|自動返信|不在)/i;

function lower(h: HeaderMap, name: string): string | null {
  const v = h.text(name);
  return v === null ? null : v.trim().toLowerCase();
}

/** `bounce` is the bounce reader's verdict (bounce/read-bounce.ts): it needs the body, the other flags do not. */
export function classify(h: HeaderMap, fields: HeaderFields, bounce: boolean): Flags {
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

  const list = h.has('list-id') || h.has('list-unsubscribe') || precedence === 'list';
  const bulk = precedence === 'bulk' || precedence === 'junk';
  const spam = (lower(h, 'x-spam-flag') ?? '') === 'yes';

  return { autoReply, bounce, list, bulk, spam, oversized: false };
}
