import type { HeaderMap } from '../header-block.ts';
import type { HeaderFields } from '../header-fields.ts';
import { AUTO_REPLY_SUBJECT } from '../flags.ts';

/**
 * The signs that a message is a bounce. Many bounces, as handed to a mailbox, show no `Return-Path: <>` and no
 * `multipart/report`, so no single sign is needed; but each textual sign alone also appears in ordinary mail (a
 * postmaster writing to users, a shop's "could not be delivered" parcel notice, a forwarded bounce), so those
 * count only in pairs.
 */
export interface Evidence {
  /** A delivery report part or a multipart/report of type delivery-status. */
  readonly report: boolean;
  /** A header only mail systems put on their non-delivery reports (X-Failed-Recipients, X-MS-Exchange-Message-Is-Ndr). */
  readonly ndrHeader: boolean;
  /** From a mail system account (MAILER-DAEMON, postmaster, "Mail Delivery System", Exchange's system mailbox). */
  readonly daemon: boolean;
  /** A subject mail systems give their bounces. */
  readonly subject: boolean;
  /** A sentence a mail system writes in its bounces (mta-signatures.ts). */
  readonly signature: boolean;
  /** RFC 5321 4.5.5: bounces are sent with an empty reverse path. */
  readonly nullSender: boolean;
  /** The returned message (or its headers) is attached or quoted below a separator. */
  readonly original: boolean;
  /** A reply or forward (Re:, Fwd:, 転送:) from someone other than a mail system: never a bounce by text alone. */
  readonly human: boolean;
  /** An auto-reply (RFC 3834, out-of-office subjects): not a bounce, whatever it quotes. */
  readonly autoReply: boolean;
}

const DAEMON_LOCAL =
  /^(?:mailer[-_.]?daemon|mail[-_.]?daemon|postmaster|mdaemon|microsoftexchange[0-9a-f]{32}|mail[-_.]?delivery[-_.]?(?:system|subsystem))$/i;
const DAEMON_NAME =
  /^(?:mail delivery (?:system|subsystem|service|failure)|mail(?:er)?[-_ ]?daemon|postmaster|mail administrator|mail system|internet mail delivery|mail delivery|microsoft (?:exchange|outlook)|delivery status notification|administrator|system administrator|メール配信システム|メールシステム|配信システム)\b/i;

// The subjects of bounces, English first, then Exchange's localized NDR subjects; after any tags a filter put in
// front ("[SPAM]", "***SPAM***").
const BOUNCE_SUBJECT = new RegExp(
  `^\\s*(?:\\[[^\\]]{0,40}\\][ \\t]*|\\*{2,3}[^*]{1,40}\\*{2,3}[ \\t]*){0,3}(?:(?:sorry,?\\s*)?(?:${[
    'undeliver(?:ed|able)(?: mail| message| e-?mail)?',
    'returned (?:mail|e-?mail)',
    'mail delivery (?:failed|failure|problem|system)',
    'delivery (?:status notification|failure|notification|report|problem)s?',
    'failure (?:notice|delivery)',
    'failed (?:mail|delivery)',
    'delivery failed',
    'delivery has failed',
    'mail (?:system error|failure|could not be delivered|not delivered|returned)',
    'message (?:not delivered|delivery (?:has )?failed|could not be delivered|frozen|undeliverable)',
    '\\[bounce\\]',
    'non-?deliver(?:able|y)(?: mail| message| notification| report)?',
    'permanent delivery failure',
    'warning: (?:could not send message|message .{0,80} delayed)',
    'delayed mail',
    'delivery delayed',
    'there was an error sending your mail',
    'postmaster notify',
    'ndn\\b',
    'ndr\\b',
    "your message (?:could not|couldn't|can't|cannot|was not|wasn't) (?:be )?delivered",
    'returned to sender',
    'delivery notification',
    'error sending message',
    'non remis',
    'unzustellbar',
    'non recapitabile',
    'no se puede entregar',
    'onbestelbaar',
    'não (?:é possível entregar|entregue)',
    'olevererbart',
    'ej levererbart',
    'nie można dostarczyć',
    'kézbesíthetetlen',
    'nedoručitelné',
    'недоставл',
    '无法投递',
    '無法傳遞',
    '배달되지 않음',
  ].join('|')}))`,
  'i',
);
// Japanese subjects put the words anywhere (【配信エラー】, メールを配信できませんでした).
const BOUNCE_SUBJECT_JA =
  /配信不能|配信(?:エラー|失敗|できませんでした|されませんでした)|(?:メール|送信)(?:配信|送信)?(?:エラー|失敗)|(?:送信|配信)(?:が)?できませんでした|宛先不明|不達|エラーメール|返送されました/;

const HUMAN_SUBJECT = /^\s*(?:re|fwd?|aw|wg|tr|rv|sv|vs|antw|返信|転送)\s*(?:\[\d+\])?\s*[:：]/i;
const ORIGINAL_TYPES = new Set(['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers', 'message/partial']);
// Where MTAs that attach nothing quote the returned message (qmail, Yahoo, Exim without MIME, Courier).
export const QUOTED_ORIGINAL =
  /^[ \t]*-{2,40} ?(?:Below this line is a copy of the message|This is a copy of the message|The (?:original|returned) message|Original message|Unsent message|Undelivered message|Returned message|Copy of the message|Message header follows)|^Below is a copy of the original message|^[ \t]*-{3,40} ?(?:元のメッセージ|送信したメッセージ|以下、送信されたメッセージ)/im;

export function isDaemonSender(fields: HeaderFields): boolean {
  return fields.from.some(
    (a) =>
      DAEMON_LOCAL.test(a.address.slice(0, Math.max(0, a.address.lastIndexOf('@')))) ||
      DAEMON_LOCAL.test(a.address) ||
      DAEMON_NAME.test(a.name),
  );
}

export function isBounceSubject(subject: string | null): boolean {
  return subject !== null && (BOUNCE_SUBJECT.test(subject) || BOUNCE_SUBJECT_JA.test(subject));
}

/** `Return-Path: <>` (RFC 5321 4.5.5), comments aside. */
export function hasNullSender(h: HeaderMap): boolean {
  const v = h.text('return-path');
  return v !== null && /^<\s*>$|^$/.test(v.replace(/\([^()]*\)/g, '').trim());
}

export function hasOriginal(contentTypes: readonly string[], text: string): boolean {
  if (contentTypes.some((t) => ORIGINAL_TYPES.has(t))) return true;
  // Every alternative of the pattern starts with a run of dashes or with "below is a copy" (in any case): most text
  // has neither, and a multiline pattern with a dozen alternatives is otherwise tried at every line.
  return (text.includes('--') || /below is a copy/i.test(text)) && QUOTED_ORIGINAL.test(text);
}

export function isHumanSubject(subject: string | null): boolean {
  return subject !== null && HUMAN_SUBJECT.test(subject);
}

/** RFC 3834 auto-replies: an out-of-office subject, X-Autoreply, or Auto-Submitted: auto-replied on a non-bounce subject (Exim marks its bounces auto-replied too). */
export function isAutoReply(h: HeaderMap, subject: string | null): boolean {
  if (subject !== null && AUTO_REPLY_SUBJECT.test(subject)) return true;
  const autoSubmitted = h.text('auto-submitted')?.trim().toLowerCase() ?? '';
  return (autoSubmitted.startsWith('auto-replied') && !isBounceSubject(subject)) || h.has('x-autoreply') || h.has('x-autorespond');
}

/** Whether the evidence adds up to a bounce. */
export function isBounce(e: Evidence): boolean {
  if (e.report || e.ndrHeader) return true;
  if (e.autoReply || (e.human && !e.daemon)) return false;
  if (e.signature) return e.daemon || e.subject || e.nullSender || e.original;
  if (e.subject) return e.daemon || e.nullSender || e.original;
  return e.daemon && e.nullSender && e.original;
}
