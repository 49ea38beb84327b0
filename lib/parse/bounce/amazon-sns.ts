import type { Bounce } from '../../document/metadata-schema.ts';
import type { HeaderFields } from '../header-fields.ts';
import { STATUS_CODE } from './delivery-status.ts';
import { classifyReason } from './reason.ts';

/**
 * Amazon SES bounce and complaint notifications as Amazon SNS mails them to a subscribed address: a JSON body
 * (`{"notificationType":"Bounce","bounce":{"bouncedRecipients":[...]}}`), no report part. Read with patterns
 * rather than JSON.parse because SNS wraps long lines and mailboxes re-wrap them, which breaks the JSON.
 */
const NOTIFICATION = /"notificationType"\s*:\s*"(Bounce|Complaint)"/;

const field = (text: string, name: string): string | null =>
  new RegExp(`"${name}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(text)?.[1]?.replace(/\\(.)/g, '$1') ?? null;

/**
 * The key NOTIFICATION starts with, as it may stand in a text that is still wrapped: a line break between any two
 * of its letters. Where this finds nothing, the unwrapped text has no notification either, so most mail is passed
 * over without unwrapping its body.
 */
const WRAPPED_KEY = new RegExp([...'notificationType'].join('(?:\\r?\\n)*'));

export function isSesNotification(fields: HeaderFields, text: string): boolean {
  const head = text.slice(0, 64 * 1024);
  // NOTIFICATION needs a double quote, which unwrapping cannot add: most text has none, and is passed over at once.
  if (!head.includes('"') || !WRAPPED_KEY.test(head)) return false;
  const body = head.replace(/\r?\n/g, '');
  return (
    NOTIFICATION.test(body) &&
    (fields.from.some((a) => /@sns\.amazonaws\.com$/i.test(a.address)) ||
      /^AWS Notification Message/i.test(fields.subject ?? '') ||
      /"bouncedRecipients"|"complainedRecipients"/.test(body))
  );
}

export function readSesNotification(text: string): Bounce {
  const body = text.slice(0, 64 * 1024).replace(/\r?\n/g, '');
  const kind = NOTIFICATION.exec(body)?.[1];
  if (kind === 'Complaint') {
    const type = field(body, 'complaintFeedbackType');
    return {
      recipient: field(body.slice(body.indexOf('complainedRecipients')), 'emailAddress'),
      status: null,
      reason: 'feedback',
      diagnostic: type ? `Feedback-Type: ${type}` : null,
      mta: 'amazonses',
    };
  }
  const recipients = body.slice(Math.max(0, body.indexOf('bouncedRecipients')));
  const diagnostic = field(recipients, 'diagnosticCode')?.replace(/^\s*smtp\s*;\s*/i, '') ?? null;
  const status = STATUS_CODE.exec(field(recipients, 'status') ?? '')?.[0] ?? STATUS_CODE.exec(diagnostic ?? '')?.[0] ?? null;
  const transient = field(body, 'bounceType') === 'Transient';
  const subType = field(body, 'bounceSubType') ?? '';
  // SES's own classification when the remote server said nothing readable (a suppressed address, a full mailbox).
  const implied = /^Suppressed|OnAccountSuppressionList$/.test(subType)
    ? ('suppressed' as const)
    : /^MailboxFull$/.test(subType)
      ? ('mailboxfull' as const)
      : /^MessageTooLarge$/.test(subType)
        ? ('mesgtoobig' as const)
        : /^NoEmail$/.test(subType)
          ? ('userunknown' as const)
          : null;
  const reason = classifyReason({
    status,
    text: diagnostic ?? '',
    action: transient ? 'delayed' : 'failed',
    implied: diagnostic ? null : implied,
  });
  return { recipient: field(recipients, 'emailAddress'), status, reason, diagnostic, mta: 'amazonses' };
}
