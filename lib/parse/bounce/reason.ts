import type { BounceReason } from '../../document/metadata-schema.ts';
import { REASON_PHRASES } from './reason-phrases.ts';

/**
 * The bounce reason from what a bounce says: the diagnostic text first (it is what the rejecting server meant,
 * and it is more specific than most status codes: "550 5.7.1 ... spam" is spam, not a generic security
 * error), then the RFC 3463 status code, then what is left (a delay, a bare class).
 */

// RFC 3463 codes whose meaning is a reason of its own. x.0.0 and the generic x.7.0 / x.7.1 are left to the text.
const BY_STATUS: Readonly<Record<string, BounceReason>> = {
  '1.0': 'userunknown',
  '1.1': 'userunknown',
  '1.2': 'hostunknown',
  '1.3': 'userunknown',
  '1.4': 'filtered',
  '1.6': 'hasmoved',
  '1.7': 'rejected',
  '1.8': 'rejected',
  '1.9': 'systemerror',
  '1.10': 'notaccept',
  '2.0': 'filtered',
  '2.1': 'filtered',
  '2.2': 'mailboxfull',
  '2.3': 'exceedlimit',
  '2.4': 'filtered',
  '3.0': 'systemerror',
  '3.1': 'systemfull',
  '3.2': 'notaccept',
  '3.3': 'systemerror',
  '3.4': 'mesgtoobig',
  '3.5': 'systemerror',
  '4.0': 'networkerror',
  '4.1': 'expired',
  '4.2': 'networkerror',
  '4.3': 'systemerror',
  '4.4': 'hostunknown',
  '4.5': 'systemfull',
  '4.6': 'networkerror',
  '4.7': 'expired',
  '5.2': 'syntaxerror',
  '5.3': 'toomanyconn',
  '5.4': 'systemerror',
  '5.5': 'systemerror',
  '6.0': 'contenterror',
  '6.1': 'contenterror',
  '6.2': 'contenterror',
  '6.3': 'contenterror',
  '6.5': 'contenterror',
  '7.2': 'securityerror',
  '7.3': 'securityerror',
  '7.4': 'securityerror',
  '7.5': 'securityerror',
  '7.6': 'securityerror',
  '7.7': 'securityerror',
  '7.8': 'securityerror',
  '7.9': 'securityerror',
  '7.10': 'securityerror',
  '7.11': 'securityerror',
  '7.13': 'suspend',
  '7.14': 'securityerror',
  '7.16': 'mesgtoobig',
  '7.17': 'hasmoved',
  '7.18': 'hasmoved',
  '7.20': 'authfailure',
  '7.21': 'authfailure',
  '7.22': 'authfailure',
  '7.23': 'authfailure',
  '7.24': 'authfailure',
  '7.25': 'requireptr',
  '7.26': 'authfailure',
  '7.27': 'notaccept',
  '7.28': 'spamdetected',
  '7.29': 'authfailure',
};

// In a temporary failure these mean "try later", not the permanent reason: 4.4.4 is a DNS hiccup, not a
// missing domain; 4.1.x an address the next try may find.
const TEMPORARY: Readonly<Record<string, BounceReason>> = {
  '1.1': 'expired',
  '4.4': 'networkerror',
  '2.1': 'blocked',
  '7.1': 'blocked',
  '3.0': 'systemerror',
};

export function reasonFromStatus(status: string | null): BounceReason | null {
  const m = status === null ? null : /^([245])\.(\d{1,3}\.\d{1,3})$/.exec(status);
  if (!m) return null;
  if (m[1] === '4' && TEMPORARY[m[2]!]) return TEMPORARY[m[2]!]!;
  return BY_STATUS[m[2]!] ?? null;
}

export function reasonFromText(text: string): BounceReason | null {
  const t = text.toLowerCase().replace(/\s+/g, ' ');
  if (!t.trim()) return null;
  for (const [reason, pattern] of REASON_PHRASES) if (pattern.test(t)) return reason;
  return null;
}

export interface ReasonInput {
  readonly status: string | null;
  /** Diagnostic text plus any other explanation the bounce gives. */
  readonly text: string;
  /** The DSN Action, when there was one. */
  readonly action: string | null;
  /** A reason the MTA's own notice states (au's "account is disabled"): it outranks the reply quoted under it. */
  readonly implied?: BounceReason | null;
}

export function classifyReason(input: ReasonInput): BounceReason {
  if (input.implied) return input.implied;
  const byText = reasonFromText(input.text);
  if (byText) return byText;
  const byStatus = reasonFromStatus(input.status);
  if (byStatus) return byStatus;
  if (input.action === 'delayed' || input.status?.startsWith('4.')) return 'expired';
  if (input.status?.startsWith('5.7')) return 'securityerror';
  if (input.status?.startsWith('5.6')) return 'contenterror';
  // Something failed, the bounce says what only in words we do not know: sisimai calls that "onhold".
  return input.text.trim() || input.status ? 'onhold' : 'undefined';
}
