/**
 * What mail-ingest knows about each identity provider, as data: endpoints, the scopes POP3 needs, how long an
 * unused refresh token lives, and what the provider's numbered error codes mean for the operator. The token client
 * and the CLI read these tables; nothing else spells a provider URL or an AADSTS code.
 */
import type { OAuth2Config, OAuth2Provider } from '../config/types.ts';

export interface KnownProviderCode {
  /** What it means, in the operator's terms. */
  readonly meaning: string;
  /** A person must sign in again (`mail-ingest auth`). */
  readonly signInAgain: boolean;
  /** What to do. */
  readonly action: string;
}

export interface ProviderProfile {
  readonly id: OAuth2Provider;
  readonly label: string;
  /** `{tenant}` is replaced by the configured tenant. Null: the config must give `tokenUrl`. */
  readonly tokenUrl: string | null;
  /** RFC 8628 device authorization endpoint. Null: the config must give `deviceAuthorizationUrl` for `auth`. */
  readonly deviceAuthorizationUrl: string | null;
  /** The authorization endpoint of the browser sign-in (RFC 8252). */
  readonly authorizationUrl: string | null;
  /** Extra parameters of the browser sign-in's authorization request. */
  readonly authorizationParams: Readonly<Record<string, string>>;
  /** How `mail-ingest auth` signs a person in by default. */
  readonly signIn: 'device' | 'browser';
  /** Scope for a person's mailbox (delegated); `offline_access` where the provider wants it for a refresh token. */
  readonly delegatedScope: string | null;
  /** Scope for app-only access (client credentials). Null: the provider has no app-only POP3 access. */
  readonly appScope: string | null;
  /** Days an unused refresh token stays valid. Null when the provider does not say. */
  readonly refreshTokenIdleDays: number | null;
  /** Numbered codes in the provider's error answers, by the code as it appears ("AADSTS700082"). */
  readonly codes: Readonly<Record<string, KnownProviderCode>>;
  /** How to read a numbered code out of an error answer. */
  readonly codePattern: RegExp | null;
}

const SIGN_IN = 'sign in again with `mail-ingest auth --config FILE --mailbox ID`';

export const PROFILES: Readonly<Record<OAuth2Provider, ProviderProfile>> = {
  microsoft: {
    id: 'microsoft',
    label: 'Microsoft Entra ID (Microsoft 365)',
    tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    deviceAuthorizationUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode',
    authorizationUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
    authorizationParams: {},
    signIn: 'device',
    delegatedScope: 'https://outlook.office.com/POP.AccessAsUser.All offline_access',
    appScope: 'https://outlook.office365.com/.default',
    // Entra ID: a refresh token not used for 90 days expires (AADSTS700082).
    refreshTokenIdleDays: 90,
    codePattern: /\bAADSTS\d{5,8}\b/,
    codes: {
      AADSTS700082: { meaning: 'the refresh token expired after 90 days without use', signInAgain: true, action: SIGN_IN },
      AADSTS70008: { meaning: 'the refresh token or code expired', signInAgain: true, action: SIGN_IN },
      AADSTS50173: {
        meaning: 'the grant was revoked (password changed or reset, or sessions revoked by an administrator)',
        signInAgain: true,
        action: SIGN_IN,
      },
      AADSTS50078: { meaning: 'multi-factor authentication has expired', signInAgain: true, action: SIGN_IN },
      AADSTS50076: { meaning: 'multi-factor authentication is now required', signInAgain: true, action: SIGN_IN },
      AADSTS65001: {
        meaning: 'the user or an administrator has not consented to the app',
        signInAgain: true,
        action: 'grant consent to the app registration (Entra admin center > API permissions > Grant admin consent), then sign in again',
      },
      AADSTS70000: { meaning: 'the grant is invalid, malformed or already used', signInAgain: true, action: SIGN_IN },
      AADSTS7000215: {
        meaning: 'the client secret is wrong',
        signInAgain: false,
        action: "put the secret's Value (not its Secret ID) from the app registration into clientSecret",
      },
      AADSTS7000222: {
        meaning: 'the client secret has expired',
        signInAgain: false,
        action: 'create a new client secret in the app registration (Certificates & secrets) and update clientSecret',
      },
      AADSTS700016: {
        meaning: 'no app with this client id exists in the tenant',
        signInAgain: false,
        action: 'check clientId and tenant against the app registration',
      },
      AADSTS7000218: {
        meaning: 'the app is not a public client, so a client secret is required',
        signInAgain: false,
        action: 'set clientSecret, or enable "Allow public client flows" in the app registration',
      },
      AADSTS90002: {
        meaning: 'the tenant does not exist',
        signInAgain: false,
        action: 'check tenant (a tenant id GUID or a domain such as contoso.onmicrosoft.com)',
      },
      AADSTS70011: {
        meaning: 'the scope is invalid for this app',
        signInAgain: false,
        action: 'check scope; for app-only access it must be https://outlook.office365.com/.default',
      },
      AADSTS500011: {
        meaning: 'the Office 365 Exchange Online resource is not available in the tenant',
        signInAgain: false,
        action: 'check that the tenant has Exchange Online',
      },
      AADSTS50034: { meaning: 'the user account does not exist in the tenant', signInAgain: true, action: SIGN_IN },
      AADSTS50057: { meaning: 'the user account is disabled', signInAgain: true, action: 'enable the account, then sign in again' },
      AADSTS50055: { meaning: "the user's password has expired", signInAgain: true, action: 'change the password, then sign in again' },
      AADSTS70016: { meaning: 'device sign-in is still pending', signInAgain: false, action: 'finish the sign-in in the browser' },
    },
  },
  google: {
    id: 'google',
    label: 'Google (Gmail, Google Workspace)',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    deviceAuthorizationUrl: 'https://oauth2.googleapis.com/device/code',
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    // A refresh token only with access_type=offline, and again on a repeated sign-in only with prompt=consent.
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
    // Google's device flow grants a short list of scopes, and Gmail's is not among them.
    signIn: 'browser',
    delegatedScope: 'https://mail.google.com/',
    appScope: null,
    // Google: a refresh token unused for six months is invalidated (and after 7 days while the app is in "Testing").
    refreshTokenIdleDays: 180,
    codePattern: null,
    codes: {},
  },
  generic: {
    id: 'generic',
    label: 'OAuth 2.0 authorization server',
    tokenUrl: null,
    deviceAuthorizationUrl: null,
    authorizationUrl: null,
    authorizationParams: {},
    signIn: 'device',
    delegatedScope: null,
    appScope: null,
    refreshTokenIdleDays: null,
    codePattern: null,
    codes: {},
  },
};

export interface Endpoints {
  readonly tokenUrl: string;
  readonly deviceAuthorizationUrl: string | null;
  readonly authorizationUrl: string | null;
  readonly scope: string;
}

/**
 * The endpoints and scope one mailbox uses: the config's `tokenUrl` / `deviceAuthorizationUrl` / `authorizationUrl` / `scope` where it
 * sets them (a generic server, a national cloud, a proxy), else the profile's, with the tenant filled in.
 */
export function endpointsFor(c: OAuth2Config): Endpoints {
  const p = PROFILES[c.provider];
  const fill = (url: string | null) => (url === null ? null : url.replace('{tenant}', encodeURIComponent(c.tenant ?? '')));
  const tokenUrl = c.tokenUrl ?? fill(p.tokenUrl);
  const scope = c.scope ?? (c.flow === 'client-credentials' ? p.appScope : p.delegatedScope);
  // The config validation requires these for a generic provider; this guards programmatic use.
  if (tokenUrl === null) throw new TypeError(`oauth2: provider ${c.provider} needs "tokenUrl"`);
  if (scope === null) throw new TypeError(`oauth2: provider ${c.provider} needs "scope"`);
  return {
    tokenUrl,
    scope,
    deviceAuthorizationUrl: c.deviceAuthorizationUrl ?? fill(p.deviceAuthorizationUrl),
    authorizationUrl: c.authorizationUrl ?? fill(p.authorizationUrl),
  };
}
