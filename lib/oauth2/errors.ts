import { CodedError } from '../coded-error.ts';
import { classOfCode } from '../error-codes.ts';

/**
 * The one error class of the OAuth 2 token lifecycle. Every failure says what happened, the provider's own words
 * (its `error`, and its numbered code such as AADSTS700082), whether a later retry may succeed, and whether a
 * person must sign in again. Never a token, a client secret or a request body. Classes and hints of the codes:
 * lib/error-codes.ts (docs/errors.md).
 *
 * | code               | meaning                                                                       | retryable | sign in again |
 * |--------------------|-------------------------------------------------------------------------------|-----------|---------------|
 * | EOAUTH2_GRANT      | the refresh token was refused: expired (idle), revoked, already used           | no        | yes           |
 * | EOAUTH2_CLIENT     | the client id or secret was refused (wrong, expired secret, app deleted)       | no        | no            |
 * | EOAUTH2_SCOPE      | the scope was refused or never consented to                                   | no        | yes           |
 * | EOAUTH2_DENIED     | device sign-in: the person declined                                           | no        | yes           |
 * | EOAUTH2_EXPIRED    | device sign-in: nobody signed in before the code expired                      | no        | yes           |
 * | EOAUTH2_PROVIDER   | any other refusal by the token endpoint (invalid_request, unsupported grant)   | no        | no            |
 * | EOAUTH2_UNAVAILABLE| the token endpoint could not be reached, timed out, answered 5xx or 429        | yes       | no            |
 * | EOAUTH2_RESPONSE   | the token endpoint answered something that is not a usable token response     | yes       | no            |
 * | EOAUTH2_NO_TOKEN   | no refresh token is stored yet (run `mail-ingest auth` first)                  | no        | yes           |
 * | EOAUTH2_STORE      | the refresh token could not be read or written (file, Secrets Manager)         | per cause | no            |
 * | EOAUTH2_REJECTED   | the mail server refused a token the provider had just issued                  | no        | no            |
 */
export type OAuth2ErrorCode =
  | 'EOAUTH2_GRANT'
  | 'EOAUTH2_CLIENT'
  | 'EOAUTH2_SCOPE'
  | 'EOAUTH2_DENIED'
  | 'EOAUTH2_EXPIRED'
  | 'EOAUTH2_PROVIDER'
  | 'EOAUTH2_UNAVAILABLE'
  | 'EOAUTH2_RESPONSE'
  | 'EOAUTH2_NO_TOKEN'
  | 'EOAUTH2_STORE'
  | 'EOAUTH2_REJECTED';

const RETRYABLE: ReadonlySet<OAuth2ErrorCode> = new Set(['EOAUTH2_UNAVAILABLE', 'EOAUTH2_RESPONSE']);
const SIGN_IN_AGAIN: ReadonlySet<OAuth2ErrorCode> = new Set([
  'EOAUTH2_GRANT',
  'EOAUTH2_SCOPE',
  'EOAUTH2_DENIED',
  'EOAUTH2_EXPIRED',
  'EOAUTH2_NO_TOKEN',
]);

export interface OAuth2ErrorDetails {
  /** The OAuth `error` value the provider sent (RFC 6749 section 5.2), e.g. 'invalid_grant'. */
  readonly providerError?: string;
  /** The provider's numbered code, e.g. 'AADSTS700082'. */
  readonly providerCode?: string;
  /** HTTP status of the token endpoint's answer. */
  readonly status?: number;
  readonly retryable?: boolean;
  readonly signInAgain?: boolean;
  readonly cause?: unknown;
}

export class OAuth2Error extends CodedError<OAuth2ErrorCode> {
  readonly providerError: string | undefined;
  readonly providerCode: string | undefined;
  readonly status: number | undefined;
  /** A person has to run the sign-in again (`mail-ingest auth`); retrying alone will not help. */
  readonly signInAgain: boolean;

  constructor(code: OAuth2ErrorCode, message: string, details: OAuth2ErrorDetails = {}) {
    const retryable = details.retryable ?? RETRYABLE.has(code);
    // lib/error-codes.ts: a provider that cannot be reached is 'network' ("retried next run"), the rest 'auth'.
    super('OAuth2Error', code, message, { cause: details.cause, retryable, failureClass: classOfCode(code) });
    this.providerError = details.providerError;
    this.providerCode = details.providerCode;
    this.status = details.status;
    this.signInAgain = details.signInAgain ?? SIGN_IN_AGAIN.has(code);
  }
}

/** Provider text goes into messages: printable, one line, short, so that no endpoint can flood a log line. */
export function sanitizeProviderText(text: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  const clean = text
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
