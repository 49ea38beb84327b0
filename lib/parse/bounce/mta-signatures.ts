import type { BounceReason } from '../../document/metadata-schema.ts';

/**
 * The sentences each mail system writes at the top of its bounces (from their sources and templates, as sisimai
 * catalogues them: Postfix bounce(5) templates, Exim deliver.c, sendmail's savemail.c, qmail-send, Exchange and
 * Office 365 NDRs, Gmail and Yahoo DSNs, au/KDDI notices). Finding one says both that the message is a bounce
 * (given a second sign, see detect.ts) and which system wrote it. Earlier entries win: the providers (Gmail,
 * Office 365, carriers) before the MTA software they run on. docomo and SoftBank write no text of their own
 * beyond the MTA's: they are told by the sending host (read-bounce.ts).
 */
export interface MtaSignature {
  /** Null for the generic wordings of systems without a format of their own. */
  readonly mta: string | null;
  /** Matched against the human-readable text of the bounce. */
  readonly text: RegExp;
  /** Notices whose wording is the reason itself, ahead of the SMTP reply quoted under them (au writes both). */
  readonly implies?: ReadonlyArray<readonly [RegExp, BounceReason]>;
}

export const MTA_SIGNATURES: readonly MtaSignature[] = [
  {
    mta: 'gmail',
    text: /Delivery to the following recipients? (?:failed permanently|has been delayed|failed)|Technical details of (?:permanent|temporary) failure|\*\* (?:Address not found|Message not delivered|Message blocked|Delivery incomplete|Message temporarily rejected) \*\*|Your message wasn't delivered to \S{1,320} because|Google tried to deliver your message|\*\* アドレスが見つかりませんでした \*\*|メッセージは配信されませんでした/,
  },
  {
    mta: 'office365',
    text: /Your message to \S{1,320} couldn't be delivered| rejected your message to the following e-?mail addresses|Your message couldn't be delivered to| wasn't found at \S{1,255}\.\s/,
  },
  {
    mta: 'exchange',
    text: /Delivery has failed to these recipients or groups|Your message did not reach some or all of the intended recipients|The following recipient\(s\) (?:cannot|could not) be reached|Diagnostic information for administrators|Remote Server returned '|次の受信者またはグループへの配信に失敗しました|メッセージは一部またはすべての受信者に届きませんでした/,
  },
  {
    mta: 'yahoo',
    text: /Sorry, we were unable to deliver your message to the following address|申し訳ありません.{0,20}以下のアドレスにメッセージを配信できませんでした/,
  },
  {
    mta: 'au',
    text: /The user\(s\) account is (?:disabled|temporarily over quota|temporarily limited)|Your mail sent on:[^\n]*\n[ \t\n]{0,40}Could not be delivered to|Your mail attempted to be delivered on:|Each of the following recipients was rejected by a remote mail server|Your message was not delivered within \d+ days/,
    implies: [
      [/The user\(s\) account is (?:disabled|temporarily limited)/, 'suspend'],
      [/The user\(s\) account is temporarily over quota|As their mailbox is full/, 'mailboxfull'],
      [/Your message was not delivered within \d+ days/, 'expired'],
      [/As the remote domain doesnt exist/, 'hostunknown'],
      [/Due to the following SMTP relay error/, 'norelaying'],
    ],
  },
  { mta: 'biglobe', text: /-{3,40} Non-delivered information -{3,40}/ },
  {
    mta: 'amazonses',
    text: /The following message to <[^>]+> was undeliverable\.|An error occurred while trying to deliver the mail to the following recipients/,
  },
  {
    mta: 'postfix',
    text: /This is the (?:mail system|Postfix program) at host|I'm sorry to have to inform you that your message could not\s+be delivered|The mail system[ \t]*\n[ \t]*\n[ \t]*<|THIS IS A WARNING ONLY\.\s+YOU DO NOT NEED TO RESEND YOUR MESSAGE|Delayed Mail \(still being retried\)/,
  },
  {
    mta: 'exim',
    text: /This message was created automatically by mail delivery software|A message that you sent (?:could not be delivered|has not yet been delivered|was rejected|contained one or more recipient)|The following address\(es\) failed:|------ This is a copy of the message/,
  },
  {
    mta: 'sendmail',
    text: /-{3,40} The following addresses? had (?:permanent fatal errors|transient non-fatal errors|delivery problems) -{3,40}|-{3,40} Transcript of session follows -{3,40}|The original message was received at/,
  },
  {
    mta: 'qmail',
    text: /This is the qmail-send program at|I'm afraid I wasn't able to deliver your message to the following addresses|I'm not going to try again; this message has been in the queue too long/,
  },
  {
    mta: 'courier',
    text: /Your message to the following recipients cannot be delivered|This is a delivery status notification from|Courier mail server at/,
  },
  {
    mta: 'opensmtpd',
    text: /This is the MAILER-DAEMON, please DO NOT REPLY to this e-?mail|An error has occurred while attempting to deliver a message for\s+the following list of recipients/,
  },
  {
    mta: 'domino',
    text: /was not delivered to:[ \t]*\n[\s\S]{0,300}because:|not listed in (?:Domino|public Name & Address) Directory|------- Failure Reasons\s+--------/,
  },
  { mta: 'apachejames', text: /This is the James mail server at|Hi\. This is the James mail server/ },
  {
    mta: 'messagingserver',
    text: /This report relates to a message you sent with the following header fields|Your message cannot be delivered to the following recipients/,
  },
  // Generic wordings of failed delivery, English and Japanese, from systems without a format of their own.
  {
    mta: null,
    text: /(?:could not|couldn't|cannot|can't|was not|wasn't|failed to) be delivered to|Unable to deliver (?:your )?(?:message|mail) to|message delivery (?:has )?failed|undeliverable (?:mail|message)|permanent (?:delivery )?(?:error|failure)|delivery (?:to the following recipients? )?(?:has )?failed|This is an automatically generated Delivery Status Notification|配信(?:でき|され)ませんでした|配信に失敗|送信(?:でき|され)ませんでした|送信に失敗|届けることができませんでした|届きませんでした|宛先(?:の)?(?:メール)?アドレスが(?:見つかりません|存在しません|不明)|エラーのため(?:配信|送信)|配信不能/,
  },
];

/** The first signature found in `text` (`mta` null for the generic wordings), and the reason its wording implies. */
export function findSignature(text: string): { mta: string | null; implied: BounceReason | null } | null {
  for (const s of MTA_SIGNATURES) {
    if (!s.text.test(text)) continue;
    return { mta: s.mta, implied: s.implies?.find(([pattern]) => pattern.test(text))?.[1] ?? null };
  }
  return null;
}
