import { STATUS_CODE } from './delivery-status.ts';

/**
 * The recipient and the remote server's words from the human-readable text of a bounce, for the many bounces
 * (qmail, Yahoo, old Gmail, Exchange 2003, au, and any MTA's text beside a report) where that text is all there
 * is, or says more than the report. Each pattern is the layout one family of mail systems uses.
 */

export interface TextReading {
  readonly recipient: string | null;
  readonly diagnostic: string | null;
  readonly status: string | null;
}

// The domain is read as ASCII (IDNs travel as punycode in SMTP), so text written right after it ("x@example.jpに") stays out.
// Every quantifier here is bounded or anchored by a literal: these run on text a sender controls, and an unbounded
// class at the start of a pattern ("\S+ rejected ...") is quadratic on a long enough run without spaces.
const ADDRESS = '[^\\s<>()"\',;:\\[\\]@]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?';
// The end of a line and up to 20 blank lines after it.
const BREAK = '[ \\t]*\\n(?:[ \\t]*\\n){0,20}[ \\t]*';

// Lines that introduce the failed recipient, then the pattern that picks it out. Order: most specific first.
const RECIPIENT_LAYOUTS: readonly RegExp[] = [
  new RegExp(`Could not be delivered to: <(${ADDRESS})>`), // au / KDDI
  new RegExp(`Your message (?:to|wasn't delivered to) <?(${ADDRESS})>? (?:couldn't be delivered|because)`), // Office 365, Gmail
  new RegExp(`(?:failed permanently|has been delayed|failed):?${BREAK}<?(${ADDRESS})>?[ \\t]*\\n`), // Gmail
  new RegExp(
    `(?:recipients or groups|intended recipients|cannot be reached|could not be reached|rejected your message to the following e-?mail addresses):${BREAK}[^\\n@]{0,200}?<?\\(?(${ADDRESS})[)>]?(?: on |[ \\t]*\\n|[ \\t]*$| \\()`,
  ), // Exchange
  new RegExp(`^<(${ADDRESS})>(?: \\(expanded from <[^>\\n]{0,300}>\\))?:`, 'm'), // Postfix, qmail, Yahoo, au
  new RegExp(`(?:address\\(es\\) failed|not yet been delivered (?:is|are)):${BREAK}<?(${ADDRESS})>?(?::|[ \\t]*\\n|[ \\t]*$)`), // Exim
  new RegExp(`-{3,40} The following addresses? had [^\\n]*\\n[ \\t]*<?(${ADDRESS})>?[ \\t]*\\n`), // Sendmail
  new RegExp(`was not delivered to:${BREAK}<?(${ADDRESS})>?[ \\t]*\\n`), // Domino
  new RegExp(`(?:following (?:address|recipient)s?|list of recipients)[^\\n]*${BREAK}<?(${ADDRESS})>?(?::|\\s|$)`),
  new RegExp(`(?:宛先|受信者|送信先|あて先|アドレス)[ \\t]*[:：][ \\t]*<?(${ADDRESS})>?`),
  new RegExp(`(${ADDRESS}) (?:に|へ)(?:の)?(?:メール|メッセージ)?(?:を)?(?:配信|送信)(?:でき|され)`),
];

// Where the remote server's reply is quoted. The capture is taken up to the next blank line.
const DIAGNOSTIC_LAYOUTS: readonly RegExp[] = [
  /Remote Server returned '([^'\n]{1,1000})'/, // Exchange, Office 365
  /#([45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}[^#\n]*)/, // Exchange 2007+: #550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##
  /(?:The error that the other server returned was|The response (?:from the remote server )?was|The (?:remote )?server (?:responded|returned)|リモート サーバーから次の応答がありました):?[ \t]*\n?[ \t]*([^\n]+(?:\n[^\n]+)*)/, // Gmail
  /SMTP error from remote (?:mail server|server|mailer) after [^:\n]{1,200}(?::[^:\n]{0,300}>)?:[ \t]*\n?[ \t]*(?:host [^:\n]{1,300}:[ \t]*)?([^\n]+(?:\n {4,}[^\n]+)*)/, // Exim
  /Remote host said:[ \t]*([^\n]+(?:\n(?!Giving up)[^\n]+)*)/, // qmail, Yahoo
  /\bsaid:[ \t]*\n?[ \t]*([^\n]+(?:\n[ \t]+[^\n]+)*)/, // Postfix
  /\(reason: ([^)\n]+(?:\)[^)\n]*)?)\)/, // Sendmail
  /^<<< ([45]\d\d[^\n]*)/m, // Sendmail transcript
  /^<[^>\n]{1,300}>:[ \t]*\n((?:(?!Giving up|---)[^\n]+\n?)+)/m, // qmail: the lines under "<rcpt>:"
  /^<[^>\n]{1,300}>(?: \(expanded from <[^>\n]{0,300}>\))?:[ \t]*([^\n]+(?:\n[ \t]+[^\n]+)*)/m, // Postfix local delivery, au
  /address\(es\) failed:[ \t]*\n(?:[ \t]*\n){0,20}[ \t]+[^\s@]{1,64}@[^\s:]{1,255}(?::[ \t]*([^\n]+)|[ \t]*\n((?:[ \t]{3,}[^\n]+\n?)+))/, // Exim local
  /because:[ \t]*\n(?:[ \t]*\n){0,20}[ \t]*([^\n]+)/, // Domino
  /Could not be delivered to: <[^>\n]{1,300}>[ \t]*\n((?:[ \t]+[^\n]+\n?)+)/, // au / KDDI
  /(?:cannot be reached|recipients or groups):[ \t]*\n(?:[ \t]*\n){0,20}[^\n]+\n((?:[^\n]+\n?){1,3})/, // Exchange explanation
  /not yet been delivered (?:is|are):[ \t]*\n(?:[ \t]*\n){0,20}[ \t]+\S{1,320}[ \t]*\n((?:[ \t]{3,}[^\n]+\n?)+)/, // Exim delay
  /^[^\s@<>]{1,64}@[^\s:]{1,255}: ([45]\d\d[ -][^\n]+)/m, // OpenSMTPD: "rcpt: 550 ..."
  /-{3,40} Non-delivered information -{3,40}[ \t]*\n[ \t]*([^\n]+)/, // BIGLOBE
  /(?:理由|原因|エラー内容|エラー詳細|詳細)[ \t]*[:：][ \t]*([^\n]+)/, // Japanese notices
  /(?:^|[:：][ \t]*)([45]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3} )?[^\n]{4,})/m, // any quoted SMTP reply line
];

/** The text before the copy of the returned message, where a quoted original would only mislead. */
export function withoutOriginal(text: string): string {
  const m =
    /^(?:[ \t]*-{2,40} ?(?:Below this line is a copy of the message|This is a copy of the message|Original message headers|The original message|Original message|Unsent message|Message header follows)|Below is a copy of the original message|Original message headers:|元のメッセージ ヘッダー:|Content-Type: (?:message\/rfc822|text\/rfc822-headers))/im.exec(
      text,
    );
  return m ? text.slice(0, m.index) : text;
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 1000);
}

export function readBounceText(text: string, exclude: readonly string[]): TextReading {
  // What a bounce says about the failure is at its top; the cap bounds every pattern below.
  const body = withoutOriginal(text).slice(0, 64 * 1024);
  let recipient: string | null = null;
  for (const layout of RECIPIENT_LAYOUTS) {
    const m = layout.exec(body);
    const found = m?.[1]?.replace(/\.$/, '');
    if (found && !exclude.includes(found.toLowerCase())) {
      recipient = found;
      break;
    }
  }
  let diagnostic: string | null = null;
  for (const layout of DIAGNOSTIC_LAYOUTS) {
    const m = layout.exec(body);
    const found = m?.slice(1).find((g) => g !== undefined);
    if (found?.trim()) {
      diagnostic = collapse(found);
      break;
    }
  }
  // qmail and Exchange 2003 put the code in a comment: "(#5.1.1)", "<mx.example #5.1.1>".
  const status =
    STATUS_CODE.exec(diagnostic ?? '')?.[0] ??
    STATUS_CODE.exec(body.match(/[#(<][^\n]{0,60}?\b[245]\.\d{1,3}\.\d{1,3}\b/)?.[0] ?? '')?.[0] ??
    null;
  return { recipient, diagnostic, status };
}

/** A status class from a bare SMTP reply code (`550 User unknown` is a permanent failure: 5.0.0). */
export function statusFromReply(diagnostic: string | null): string | null {
  const m = diagnostic === null ? null : /^(?:[^0-9]{0,40}?)\b([45])\d\d\b/.exec(diagnostic);
  return m ? `${m[1]}.0.0` : null;
}
