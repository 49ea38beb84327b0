/**
 * Where OAuth 2 meets the POP3 session: the access token for resolveCredentials, and a connect that renews a
 * refused token once. lib/oauth2 knows tokens, lib/pop3 knows sessions; the application joins them here.
 */
import type { MailboxConfig } from '../config/types.ts';
import { hasOAuth2, OAuth2Error, tokenSourceFor, type AccessTokenSource, type OAuth2Deps } from '../oauth2/index.ts';
import { connectPop3, Pop3Error, type Pop3Client, type Pop3ConnectOptions } from '../pop3/index.ts';

/**
 * A POP3 connect that logs in with the mailbox's access token and, when the server refuses it, gets a new token
 * and tries once more. Once: a token the provider has just issued and the server still refuses will be refused
 * again, and each refused login counts toward the account's lockout at the provider. A refresh that fails
 * (revoked, provider down) fails the session with the OAuth2Error that says why, before any second login.
 */
export function connectWithTokenRenewal(
  source: AccessTokenSource,
  connect: (options: Pop3ConnectOptions) => Promise<Pop3Client> = connectPop3,
): (options: Pop3ConnectOptions) => Promise<Pop3Client> {
  return async (options) => {
    const first = options.accessToken ?? (await source.get(options.signal));
    try {
      return await connect({ ...options, accessToken: first });
    } catch (err) {
      if (!(err instanceof Pop3Error) || err.code !== 'EAUTH') throw err;
    }
    const second = await source.renew(first, options.signal);
    try {
      return await connect({ ...options, accessToken: second });
    } catch (err) {
      if (!(err instanceof Pop3Error) || err.code !== 'EAUTH') throw err;
      throw new OAuth2Error(
        'EOAUTH2_REJECTED',
        `mailbox ${source.mailbox}: the mail server refused a fresh access token (${err.message}); the token itself is valid, so check that POP is enabled for this mailbox and that the app may use it (Microsoft: POP.AccessAsUser.All, or POP.AccessAsApp with Add-MailboxPermission; Google: POP download enabled in Gmail settings), and that "user" is the mailbox's address`,
        { cause: err },
      );
    }
  };
}

export interface OAuth2Login {
  /** Where resolveCredentials gets the session's access token. */
  readonly tokens?: AccessTokenSource;
  /** The POP3 connect to use: it renews a refused token once. */
  readonly connect?: (options: Pop3ConnectOptions) => Promise<Pop3Client>;
}

/** What one session of a mailbox needs for OAuth 2; nothing for a mailbox without an `oauth2` block. */
export function oauth2Login(m: MailboxConfig, deps: OAuth2Deps): OAuth2Login {
  if (!hasOAuth2(m)) return {};
  const tokens = tokenSourceFor(m, deps);
  return { tokens, connect: connectWithTokenRenewal(tokens) };
}
