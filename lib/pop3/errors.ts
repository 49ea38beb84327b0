import { CodedError } from '../coded-error.ts';
import { classOfCode } from '../error-codes.ts';
import type { PeerCertificateInfo } from './tls-failure.ts';

/**
 * The one error class of the POP3 client. Every failure is data: a stable `code`, the command verb, the server's
 * words, and whether a later retry may succeed. Never a password, an AUTH payload or message content.
 *
 * | code         | meaning                                                                        | retryable |
 * |--------------|--------------------------------------------------------------------------------|-----------|
 * | ECONNECTION  | TCP connect failed, socket error, or the greeting was -ERR                      | yes       |
 * | ETIMEDOUT    | connect, TLS handshake, greeting, response or multi-line idle timeout          | yes       |
 * | ESLOW        | a response arrived slower than minBytesPerSecond over its window (closed)     | yes       |
 * | ETLS         | TLS handshake failed (untrusted, wrong host, expired certificate, old protocol) | no        |
 * | ESTLS        | STLS required but not advertised, refused, or bytes injected before the handshake | no      |
 * | EAUTH        | credentials rejected (-ERR to USER/PASS/AUTH/APOP, or [AUTH])                  | no        |
 * | EINSECURE    | credentials would cross the network in clear (or APOP outside TLS)             | no        |
 * | EINUSE       | [IN-USE]: the maildrop is locked by another session (RFC 2449)                 | yes       |
 * | ELOGINDELAY  | [LOGIN-DELAY]: logged in too soon after the last session (RFC 2449); carries   | yes       |
 * |              | retryAfterSeconds when CAPA advertised the delay                               |           |
 * | ESYSTEMP     | [SYS/TEMP]: transient server failure (RFC 3206)                                | yes       |
 * | ESYSPERM     | [SYS/PERM]: permanent server failure (RFC 3206)                                | no        |
 * | EPROTOCOL    | the server broke the protocol: garbage, overlong line, absurd number, unsolicited line | no |
 * | ETOOLARGE    | a RETR/TOP body passed maxMessageBytes (the session is closed)                 | no        |
 * | ELISTINGLIMIT | a LIST/UIDL/CAPA listing passed maxListingEntries or maxListingBytes (closed) | no        |
 * | ECLOSED      | the connection closed (by the server, close(), abort, or an earlier fatal error) | yes     |
 * | ECOMMAND     | -ERR to an ordinary command (RETR of a deleted message, a failed QUIT...)      | no        |
 * | ECONFIG      | invalid options (CR/LF/NUL in credentials, missing password, bad numbers)      | no        |
 */
export type Pop3ErrorCode =
  | 'ECONNECTION'
  | 'ETIMEDOUT'
  | 'ESLOW'
  | 'ETLS'
  | 'ESTLS'
  | 'EAUTH'
  | 'EINSECURE'
  | 'EINUSE'
  | 'ELOGINDELAY'
  | 'ESYSTEMP'
  | 'ESYSPERM'
  | 'EPROTOCOL'
  | 'ETOOLARGE'
  | 'ELISTINGLIMIT'
  | 'ECLOSED'
  | 'ECOMMAND'
  | 'ECONFIG';

const RETRYABLE: ReadonlySet<Pop3ErrorCode> = new Set<Pop3ErrorCode>([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESLOW',
  'EINUSE',
  'ELOGINDELAY',
  'ESYSTEMP',
  'ECLOSED',
]);

export interface Pop3ErrorDetails {
  /** The command verb (never its arguments when they may carry a secret). */
  readonly command?: string;
  /** The server's status line text after +OK/-ERR (response code included). */
  readonly response?: string;
  /** RFC 2449 / RFC 3206 response code, upper-cased, e.g. 'IN-USE', 'SYS/TEMP'. */
  readonly responseCode?: string;
  readonly retryable?: boolean;
  readonly cause?: unknown;
  /** ETLS: the certificate the server presented, when it presented one. */
  readonly certificate?: PeerCertificateInfo | null;
  /** ELOGINDELAY: the minimum seconds between logins the server advertised (CAPA LOGIN-DELAY), when it did. */
  readonly retryAfterSeconds?: number;
}

export class Pop3Error extends CodedError<Pop3ErrorCode> {
  readonly command: string | undefined;
  readonly response: string | undefined;
  readonly responseCode: string | undefined;
  readonly certificate: PeerCertificateInfo | null;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: Pop3ErrorCode, message: string, details: Pop3ErrorDetails = {}) {
    super('Pop3Error', code, message, {
      cause: details.cause,
      retryable: details.retryable ?? RETRYABLE.has(code),
      failureClass: classOfCode(code),
    });
    this.command = details.command;
    this.response = details.response;
    this.responseCode = details.responseCode;
    this.certificate = details.certificate ?? null;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** Extracts an RFC 2449 response code: "[SYS/TEMP] text" -> 'SYS/TEMP'. */
export function parseResponseCode(text: string): string | undefined {
  const m = /^\[([^\]\s]+)\]/.exec(text);
  return m ? m[1]!.toUpperCase() : undefined;
}

/** Maps a response code to an error code; the most specific code wins (RFC 2449 codes are hierarchical). */
function codeFromResponseCode(responseCode: string | undefined): Pop3ErrorCode | undefined {
  switch (responseCode?.split('/')[0]) {
    case 'IN-USE':
      return 'EINUSE';
    case 'LOGIN-DELAY':
      return 'ELOGINDELAY';
    case 'AUTH':
      return 'EAUTH';
    case 'SYS':
      return responseCode === 'SYS/PERM' || responseCode?.startsWith('SYS/PERM/') ? 'ESYSPERM' : 'ESYSTEMP';
    default:
      return undefined;
  }
}

/**
 * Builds the error for a -ERR status line. `fallback` is the code when no response code says more: EAUTH for
 * login commands, ECOMMAND for ordinary ones. A server that holds the maildrop but gives no code is still EAUTH at
 * login (RFC 3206 lets it say [IN-USE]; without it we cannot tell).
 */
export function errorFromResponse(command: string, text: string, fallback: Pop3ErrorCode): Pop3Error {
  const responseCode = parseResponseCode(text);
  const code = codeFromResponseCode(responseCode) ?? fallback;
  return new Pop3Error(code, `${command} failed: -ERR ${sanitize(text)}`, { command, response: text, responseCode });
}

/** Server text goes into messages: keep it printable and short so a hostile server cannot flood a log line. */
export function sanitize(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
