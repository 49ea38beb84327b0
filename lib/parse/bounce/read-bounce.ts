import type { Bounce } from '../../document/metadata-schema.ts';
import { HeaderMap, parseHeaderBlock } from '../header-block.ts';
import type { HeaderFields } from '../header-fields.ts';
import { parseAddresses } from '../addresses.ts';
import { parseDeliveryStatus, STATUS_CODE, SUCCESS_ACTIONS, typedAddress, type RecipientStatus } from './delivery-status.ts';
import { hasNullSender, hasOriginal, isAutoReply, isBounce, isBounceSubject, isDaemonSender, isHumanSubject } from './detect.ts';
import { findSignature } from './mta-signatures.ts';
import { readBounceText, statusFromReply, withoutOriginal } from './bounce-text.ts';
import { classifyReason } from './reason.ts';
import { isSesNotification, readSesNotification } from './amazon-sns.ts';

/**
 * Reads a bounce the way a bounce processor does (sisimai is the model): whether the message is one, and if so
 * which recipient failed, with what RFC 3463 status, why (sisimai's reason names), in the remote server's words,
 * and which mail system wrote it. The machine-readable report (RFC 3464) is read when present; the MTA's own
 * text when not, and to fill in what the report leaves out.
 */

export interface BouncePart {
  /** Lower-case media type. */
  readonly contentType: string;
  /** Decoded text (capped by the parser): body text, report parts, the returned message's headers. */
  readonly text: string;
}

export interface BounceInput {
  readonly headers: HeaderMap;
  readonly fields: HeaderFields;
  readonly parts: readonly BouncePart[];
}

const REPORT_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const HEADER_TYPES = new Set(['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers']);
// The Japanese carriers' mail systems, told by the host that wrote the bounce (they add no text of their own).
const CARRIERS: ReadonlyArray<readonly [string, RegExp]> = [
  ['docomo', /(?:^|[@.])docomo\.ne\.jp$/],
  ['au', /(?:^|[@.])(?:ezweb\.ne\.jp|au\.com|auone-net\.jp|kddi\.com|dion\.ne\.jp)$/],
  ['softbank', /(?:^|[@.])(?:softbank\.ne\.jp|i\.softbank\.jp|vodafone\.ne\.jp|disney\.ne\.jp)$/],
];

function carrierOf(hosts: ReadonlyArray<string | null | undefined>): string | null {
  for (const host of hosts) {
    const h = (host ?? '').toLowerCase().replace(/[>\s].*$/, '');
    for (const [name, pattern] of CARRIERS) if (h && pattern.test(h)) return name;
  }
  return null;
}

/** The returned message's header block: an attached message/rfc822 or text/rfc822-headers part, else a quoted copy. */
function originalHeaders(parts: readonly BouncePart[], text: string): HeaderMap | null {
  const attached = parts.find((p) => HEADER_TYPES.has(p.contentType));
  const quoted = attached
    ? null
    : /\n(?:Return-Path|Received|From|To|Subject|Message-ID|Date):[^\n]*\n[\s\S]*/i.exec(text.slice(withoutOriginal(text).length));
  const source = attached?.text ?? quoted?.[0].replace(/^\n/, '') ?? null;
  if (!source) return null;
  const block = parseHeaderBlock(Buffer.from(source.replace(/\r?\n/g, '\r\n'), 'utf8'));
  return block.headers.length > 0 ? new HeaderMap(block.headers) : null;
}

/** Text with RFC 3464 / RFC 5322 style field lines (and their folded continuations) left out. */
function prose(text: string): string {
  let inField = false;
  return text
    .split('\n')
    .filter((line) => {
      if (/^[A-Za-z][A-Za-z0-9-]{0,76}[ \t]*:/.test(line))
        inField = /^(?:[A-Za-z]+-)+[A-Za-z]+[ \t]*:|^(?:Action|Status)[ \t]*:/.test(line);
      else if (!/^[ \t]/.test(line)) inField = false;
      return !inField;
    })
    .join('\n');
}

/** MTAs that sign their reports with fields of their own (RFC 3464 2.4 extension fields). */
function reportWriter(reports: readonly BouncePart[]): string | null {
  const text = reports.map((p) => p.text).join('\n');
  if (/^X-Postfix-/im.test(text)) return 'postfix';
  if (/^X-Exim-/im.test(text)) return 'exim';
  return null;
}

/** Whitespace collapsed; a multi-line SMTP reply's repeated "550-5.1.1" prefixes dropped after the first. */
function cleanDiagnostic(text: string | null | undefined): string | null {
  if (!text) return null;
  let t = text.replace(/\s+/g, ' ').trim();
  const m = /^([45]\d\d)[- ](?:([245]\.\d{1,3}\.\d{1,3}) )?/.exec(t);
  if (m) {
    const again = new RegExp(` ${m[1]}[- ]${m[2] ? `(?:${m[2].replace(/\./g, '\\.')} )?` : ''}`, 'g');
    t = t.slice(0, m[0].length) + t.slice(m[0].length).replace(again, ' ');
  }
  return t.slice(0, 1000) || null;
}

function firstAddress(h: HeaderMap | null, name: string): string | null {
  if (h === null) return null;
  return parseAddresses(h.all(name)).find((a) => a.address)?.address ?? null;
}

/** The recipient a report is about: the first that failed, else the first that was delayed. */
function failedRecipient(recipients: readonly RecipientStatus[]): RecipientStatus | null {
  return (
    recipients.find((r) => r.action === 'failed') ??
    recipients.find((r) => r.action !== null && !SUCCESS_ACTIONS.has(r.action)) ??
    recipients.find((r) => r.action === null) ??
    null
  );
}

function feedbackReport(input: BounceInput, report: BouncePart | undefined, original: HeaderMap | null): Bounce {
  const fields = report ? parseHeaderBlock(Buffer.from(report.text.replace(/\r?\n/g, '\r\n'), 'utf8')) : null;
  const h = new HeaderMap(fields?.headers ?? []);
  const rcpt = h.text('original-rcpt-to');
  const type = h.text('feedback-type')?.trim() ?? null;
  return {
    recipient: (rcpt ? typedAddress(rcpt) : null) ?? firstAddress(original, 'to'),
    status: null,
    reason: 'feedback',
    diagnostic: type ? `Feedback-Type: ${type}` : null,
    mta: carrierOf(input.fields.from.map((a) => a.address)) ?? null,
  };
}

export function readBounce(input: BounceInput): Bounce | null {
  const { headers, fields, parts } = input;
  const contentType = (headers.text('content-type') ?? '').toLowerCase();
  const types = parts.map((p) => p.contentType);
  // What a person reads: the text parts, and report parts too (some MTAs write their explanation there).
  // Each part capped: what a bounce says is at its top, and the cap bounds every pattern run on sender-controlled text.
  const text = parts
    .filter((p) => p.contentType === 'text/plain' || p.contentType === 'text/html' || REPORT_TYPES.has(p.contentType))
    .map((p) => p.text.slice(0, 64 * 1024))
    .join('\n\n');
  // The returned message's headers: read only for a message taken for a report or a bounce (a regex over the text).
  const original = (): HeaderMap | null => originalHeaders(parts, text);

  const feedback = /^\s*multipart\/report\b/.test(contentType) && /report-type\s*=\s*"?feedback-report/.test(contentType);
  if (feedback || types.includes('message/feedback-report'))
    return feedbackReport(
      input,
      parts.find((p) => p.contentType === 'message/feedback-report'),
      original(),
    );

  if (isSesNotification(fields, text)) return readSesNotification(text);

  const reportParts = parts.filter((p) => REPORT_TYPES.has(p.contentType));
  let recipients = reportParts.flatMap((p) => parseDeliveryStatus(p.text)?.recipients ?? []);
  const reportType = /^\s*multipart\/report\b/.test(contentType) && /report-type\s*=\s*"?(?:global-)?delivery-status/.test(contentType);
  // Report fields printed into the text (Exchange 2003, Notes, some appliances) count when they name a recipient and an action.
  const inText =
    recipients.length === 0 && /^(?:Final|Original)-Recipient[ \t]*:/im.test(text)
      ? (parseDeliveryStatus(withoutOriginal(text))?.recipients ?? []).filter((r) => r.recipient && r.action)
      : [];
  if (recipients.length === 0) recipients = inText;
  // A report of successful delivery (RFC 3464 2.3.3) is no bounce.
  if (recipients.length > 0 && recipients.every((r) => r.action !== null && SUCCESS_ACTIONS.has(r.action))) return null;

  const failedHeader = headers.text('x-failed-recipients');
  const signs = {
    report: reportParts.length > 0 || reportType || inText.length > 0,
    ndrHeader: failedHeader !== null || headers.has('x-ms-exchange-message-is-ndr'),
    daemon: isDaemonSender(fields),
    subject: isBounceSubject(fields.subject),
    nullSender: hasNullSender(headers),
    human: isHumanSubject(fields.subject),
    autoReply: isAutoReply(headers, fields.subject),
  };
  // The headers first: for most mail they already settle it, and the text patterns (a dozen, over up to 64 KiB
  // of text per part) are the bounce reader's whole cost. Without a sign in the headers, isBounce asks for a
  // mail system's sentence and a returned message both, so the one pattern for the returned message decides
  // whether the sentences need looking for. The verdict is isBounce's, unchanged.
  let quoted: boolean | undefined;
  const quotesOriginal = (): boolean => (quoted ??= hasOriginal(types, text));
  if (!signs.report && !signs.ndrHeader) {
    if (signs.autoReply || (signs.human && !signs.daemon)) return null;
    if (!signs.daemon && !signs.subject && !signs.nullSender && !quotesOriginal()) return null;
  }
  const signature = findSignature(text);
  const evidence = { ...signs, signature: signature !== null, original: quotesOriginal() };
  if (!isBounce(evidence)) return null;
  return readFailure({ input, text, recipients, reportParts, signature, failedHeader, original: original() });
}

interface FailureSources {
  readonly input: BounceInput;
  readonly text: string;
  readonly recipients: readonly RecipientStatus[];
  readonly reportParts: readonly BouncePart[];
  readonly signature: ReturnType<typeof findSignature>;
  readonly failedHeader: string | null;
  readonly original: HeaderMap | null;
}

/** What a message already taken for a bounce says: the report first, the MTA's text for what the report leaves out. */
function readFailure(o: FailureSources): Bounce {
  const { fields, headers } = o.input;
  const exclude = [...fields.to, ...fields.from].map((a) => a.address.toLowerCase());
  const failed = failedRecipient(o.recipients);
  const fromText = readBounceText(o.text, exclude);
  const recipient =
    failed?.recipient ?? (o.failedHeader ? typedAddress(o.failedHeader) : null) ?? fromText.recipient ?? firstAddress(o.original, 'to');
  const diagnostic = cleanDiagnostic(failed?.diagnostic && !/^[\d.\s]*$/.test(failed.diagnostic) ? failed.diagnostic : fromText.diagnostic);
  // A report's x.0.0 says only the class; the server's own words often carry the real code.
  const reported = failed?.status ?? null;
  const fromWords = STATUS_CODE.exec(diagnostic ?? '')?.[0] ?? fromText.status;
  const status = reported && !/\.0\.0$/.test(reported) ? reported : (fromWords ?? reported ?? statusFromReply(diagnostic));
  // The server's words decide the reason; when a bounce quotes none, its own explanation has to do (without the
  // report's fields: "Final-Recipient: rfc822; ..." says nothing about why).
  const explanation = prose(withoutOriginal(o.text));
  const words = [failed?.diagnostic, fromText.diagnostic].filter(Boolean).join(' ') || explanation.slice(0, 2000);
  let reason = classifyReason({ status, text: words, action: failed?.action ?? null, implied: o.signature?.implied ?? null });
  if (reason === 'onhold') {
    const wider = classifyReason({ status, text: explanation.slice(0, 4000), action: failed?.action ?? null });
    if (wider !== 'onhold' && wider !== 'undefined') reason = wider;
  }
  const reporting = o.reportParts.map((p) => parseDeliveryStatus(p.text)?.reportingMta).find(Boolean);
  const mta =
    carrierOf([...fields.from.map((a) => a.address), reporting, headers.text('message-id')?.trim().replace(/^<|>$/g, '').split('@')[1]]) ??
    o.signature?.mta ??
    reportWriter(o.reportParts) ??
    (o.recipients.length > 0 ? 'rfc3464' : null);
  return { recipient: recipient ?? null, status: status ?? null, reason, diagnostic: diagnostic ?? null, mta };
}
