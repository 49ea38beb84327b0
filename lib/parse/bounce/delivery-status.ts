/**
 * RFC 3464 delivery status fields (`message/delivery-status`, RFC 6533 `message/global-delivery-status`, and
 * the same fields as plain text, which Postfix, Sendmail and Exchange also print into their human-readable part).
 * The body is one per-message group and one group per recipient, separated by blank lines; fields may fold.
 */

export interface RecipientStatus {
  /** Final-Recipient (else Original-Recipient, else X-Actual-Recipient), the address only. */
  readonly recipient: string | null;
  /** failed, delayed, delivered, relayed, expanded (RFC 3464 2.3.3), lower case; null when absent. */
  readonly action: string | null;
  /** RFC 3463 code such as 5.1.1, null when absent or malformed. */
  readonly status: string | null;
  /** Diagnostic-Code text after its type (`smtp; 550 5.1.1 ...`), unfolded. */
  readonly diagnostic: string | null;
  /** Remote-MTA name (`dns; mx.example.jp`). */
  readonly remoteMta: string | null;
}

export interface DeliveryStatus {
  readonly reportingMta: string | null;
  readonly recipients: readonly RecipientStatus[];
}

/** RFC 3463 2: class.subject.detail, each up to three digits; class 2, 4 or 5. */
export const STATUS_CODE = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;

/** The address of an `address-type; address` value (`rfc822; <a@b>`, `RFC822;a@b`); xtext `+XX` decoded. */
export function typedAddress(value: string): string | null {
  const semi = value.indexOf(';');
  const raw = (semi >= 0 ? value.slice(semi + 1) : value).trim();
  const decoded = raw.replace(/\+([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  const m = /<?([^\s<>"';,()@]{1,64}@[^\s<>"';,()]{1,255}?)>?(?:[\s;,(]|$)/.exec(decoded);
  return m ? m[1]!.replace(/\.$/, '') : null;
}

/** The text after the type of a `type; text` value, or the whole value when it has no type. */
function typedText(value: string): string {
  const m = /^\s*[A-Za-z0-9-]+\s*;\s*/.exec(value);
  return (m ? value.slice(m[0].length) : value).replace(/\s+/g, ' ').trim();
}

/** Groups of `name: value` fields, blank-line separated, with folded continuation lines joined. */
function fieldGroups(text: string): Array<Map<string, string>> {
  const groups: Array<Map<string, string>> = [];
  let group = new Map<string, string>();
  let last: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (group.size > 0) groups.push(group);
      group = new Map();
      last = null;
      continue;
    }
    if (/^[ \t]/.test(line) && last !== null) {
      group.set(last, `${group.get(last)} ${line.trim()}`);
      continue;
    }
    const m = /^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$/.exec(line);
    if (!m) {
      last = null;
      continue;
    }
    last = m[1]!.toLowerCase();
    // A repeated field within a group (two Diagnostic-Codes) keeps the first: it is the one the MTA meant.
    if (!group.has(last)) group.set(last, m[2]!);
  }
  if (group.size > 0) groups.push(group);
  return groups;
}

const RECIPIENT_FIELDS = ['final-recipient', 'original-recipient', 'x-actual-recipient'];

/** Reads the RFC 3464 fields in `text`; null when there is no recipient group at all. */
export function parseDeliveryStatus(text: string): DeliveryStatus | null {
  let reportingMta: string | null = null;
  const recipients: RecipientStatus[] = [];
  for (const g of fieldGroups(text)) {
    if (g.has('reporting-mta') && reportingMta === null) reportingMta = typedText(g.get('reporting-mta')!);
    const field = RECIPIENT_FIELDS.find((f) => g.has(f));
    if (field === undefined && !g.has('action') && !(g.has('status') && g.has('diagnostic-code'))) continue;
    let recipient: string | null = null;
    for (const f of RECIPIENT_FIELDS) recipient ??= g.has(f) ? typedAddress(g.get(f)!) : null;
    const status = STATUS_CODE.exec(g.get('status') ?? '');
    recipients.push({
      recipient,
      action:
        g
          .get('action')
          ?.trim()
          .toLowerCase()
          .split(/[\s(;]/)[0] || null,
      status: status ? status[0] : null,
      diagnostic: g.has('diagnostic-code') ? typedText(g.get('diagnostic-code')!) || null : null,
      remoteMta: g.has('remote-mta') ? typedText(g.get('remote-mta')!) || null : null,
    });
  }
  return recipients.length > 0 ? { reportingMta, recipients } : null;
}

/** Actions that report a delivery, not a failure (RFC 3464 2.3.3): such a report is no bounce. */
export const SUCCESS_ACTIONS = new Set(['delivered', 'relayed', 'expanded']);
