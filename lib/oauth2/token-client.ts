/**
 * The token endpoint (RFC 6749 section 3.2): the refresh_token and client_credentials grants, and reading its
 * answers, successful or not, as Microsoft, Google and a standard server give them.
 */
import { registerSecret } from '../redact.ts';
import { OAuth2Error, sanitizeProviderText, type OAuth2ErrorCode } from './errors.ts';
import { endpointLabel, postForm as defaultPostForm, type HttpResponse, type PostForm } from './http.ts';
import type { Endpoints, ProviderProfile } from './profiles.ts';

export interface ClientAuth {
  readonly clientId: string;
  /** Sent in the body (client_secret_post), which Microsoft and Google both accept. */
  readonly clientSecret?: string;
}

export interface TokenResponse {
  readonly accessToken: string;
  /** Epoch ms, from the local clock when the answer arrived (no clock skew with the provider involved). */
  readonly expiresAt: number;
  readonly lifetimeMs: number;
  /** A new refresh token, when the provider issued one (rotation, or the first one after sign-in). */
  readonly refreshToken?: string;
  readonly scope?: string;
}

export interface TokenClientOptions {
  readonly profile: ProviderProfile;
  readonly endpoints: Endpoints;
  readonly client: ClientAuth;
  readonly postForm?: PostForm;
  readonly now?: () => number;
  /** Appended to errors that need a person to sign in again, e.g. the exact `mail-ingest auth` command. */
  readonly signInHint?: string;
  readonly timeoutMs?: number;
}

/** Without expires_in (RFC 6749 only recommends it) a token is treated as short-lived: refreshing early is safe. */
const DEFAULT_LIFETIME_S = 600;
/** A bearer token goes into one SASL line; anything larger is not a token a POP3 server will take. */
const MAX_TOKEN_CHARS = 16_384;
// eslint-disable-next-line no-control-regex
const UNSAFE_TOKEN = /[\x00-\x20\x7f]/;

const ERROR_CODES: Readonly<Record<string, OAuth2ErrorCode>> = {
  invalid_grant: 'EOAUTH2_GRANT',
  invalid_client: 'EOAUTH2_CLIENT',
  unauthorized_client: 'EOAUTH2_CLIENT',
  invalid_scope: 'EOAUTH2_SCOPE',
  consent_required: 'EOAUTH2_SCOPE',
  interaction_required: 'EOAUTH2_GRANT',
  access_denied: 'EOAUTH2_DENIED',
  // Entra ID's name for a declined device sign-in.
  authorization_declined: 'EOAUTH2_DENIED',
  expired_token: 'EOAUTH2_EXPIRED',
  temporarily_unavailable: 'EOAUTH2_UNAVAILABLE',
  server_error: 'EOAUTH2_UNAVAILABLE',
};

export interface ProviderErrorAnswer {
  readonly error: string;
  readonly description: string;
  readonly providerCode: string | undefined;
}

/** The `error` of an RFC 6749 section 5.2 answer, with the provider's numbered code and its description. */
export function readErrorAnswer(profile: ProviderProfile, res: HttpResponse): ProviderErrorAnswer | null {
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null) return null;
  const o = json as Record<string, unknown>;
  if (typeof o.error !== 'string' || !/^[\x20-\x7e]{1,100}$/.test(o.error)) return null;
  const raw = typeof o.error_description === 'string' ? o.error_description : '';
  const codes = Array.isArray(o.error_codes) ? o.error_codes : [];
  const fromText = profile.codePattern?.exec(raw)?.[0];
  const fromList = profile.id === 'microsoft' && typeof codes[0] === 'number' ? `AADSTS${codes[0]}` : undefined;
  // Entra ID appends "Trace ID: ... Correlation ID: ... Timestamp: ..." to every description: useful to its
  // support, noise in a log line. The codes are kept separately.
  const description = sanitizeProviderText(raw.replace(/\s*Trace ID:[\s\S]*$/, '').replace(/^AADSTS\d+:\s*/, ''), 240);
  return { error: o.error, description, providerCode: fromText ?? fromList };
}

/** Builds the OAuth2Error for a refused request: our code, the provider's words, and what to do. */
export function errorFromAnswer(profile: ProviderProfile, what: string, res: HttpResponse, signInHint?: string): OAuth2Error {
  const answer = readErrorAnswer(profile, res);
  if (answer === null) {
    const unavailable = res.status >= 500 || res.status === 429 || res.status === 408;
    const kind = res.contentType.split(';')[0]?.trim() || 'no content type';
    return new OAuth2Error(
      unavailable ? 'EOAUTH2_UNAVAILABLE' : res.status >= 400 ? 'EOAUTH2_PROVIDER' : 'EOAUTH2_RESPONSE',
      `${what}: ${profile.label} answered HTTP ${res.status} (${kind}) instead of an OAuth 2 JSON answer${unavailable ? '' : '; check tokenUrl'}`,
      { status: res.status },
    );
  }
  const known = answer.providerCode === undefined ? undefined : profile.codes[answer.providerCode];
  const code = ERROR_CODES[answer.error] ?? (res.status >= 500 ? 'EOAUTH2_UNAVAILABLE' : 'EOAUTH2_PROVIDER');
  const signInAgain = known?.signInAgain ?? (code === 'EOAUTH2_GRANT' || code === 'EOAUTH2_SCOPE');
  const label = [answer.error, answer.providerCode].filter((x) => x !== undefined).join(' ');
  const meaning = known?.meaning ?? answer.description;
  const action = known?.action ?? (signInAgain ? 'sign in again' : undefined);
  const hint = signInAgain && signInHint !== undefined ? signInHint : action;
  const words = answer.description !== '' && known !== undefined ? ` ("${answer.description}")` : '';
  return new OAuth2Error(
    code,
    `${what}: ${profile.label} refused it (${label}): ${meaning}${words}${hint === undefined ? '' : `; ${hint}`}`,
    {
      providerError: answer.error,
      ...(answer.providerCode === undefined ? {} : { providerCode: answer.providerCode }),
      status: res.status,
      signInAgain,
    },
  );
}

/** Reads a successful token answer; anything unusable is EOAUTH2_RESPONSE (retryable: a proxy's page, a glitch). */
export function readTokenAnswer(profile: ProviderProfile, what: string, res: HttpResponse, now: number): TokenResponse {
  const bad = (why: string) =>
    new OAuth2Error('EOAUTH2_RESPONSE', `${what}: ${profile.label} answered HTTP ${res.status} but ${why}`, { status: res.status });
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    throw bad('not with JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('not with a JSON object');
  const o = json as Record<string, unknown>;
  const token = o.access_token;
  if (typeof token !== 'string' || token === '') throw bad('without an access_token');
  if (token.length > MAX_TOKEN_CHARS || UNSAFE_TOKEN.test(token)) throw bad('with an access_token that is not a usable bearer token');
  if (o.token_type !== undefined && (typeof o.token_type !== 'string' || o.token_type.toLowerCase() !== 'bearer')) {
    throw bad(
      `with token_type ${JSON.stringify(String(o.token_type)).slice(0, 40)} (only Bearer tokens work with XOAUTH2 and OAUTHBEARER)`,
    );
  }
  // Entra ID's v1 endpoint sends expires_in as a string; v2 and everyone else as a number.
  const seconds =
    typeof o.expires_in === 'number'
      ? o.expires_in
      : typeof o.expires_in === 'string' && /^\d{1,9}$/.test(o.expires_in)
        ? Number(o.expires_in)
        : DEFAULT_LIFETIME_S;
  const lifetimeMs = Math.max(1, Math.min(seconds, 86_400 * 365)) * 1000;
  const refresh = o.refresh_token;
  if (
    refresh !== undefined &&
    (typeof refresh !== 'string' || refresh === '' || refresh.length > MAX_TOKEN_CHARS || UNSAFE_TOKEN.test(refresh))
  ) {
    throw bad('with a refresh_token that is not a usable token');
  }
  // From here on no log line, error or state entry can carry them, whatever echoes them (lib/redact.ts).
  registerSecret(token);
  if (typeof refresh === 'string') registerSecret(refresh);
  return {
    accessToken: token,
    expiresAt: now + lifetimeMs,
    lifetimeMs,
    ...(typeof refresh === 'string' ? { refreshToken: refresh } : {}),
    ...(typeof o.scope === 'string' ? { scope: o.scope } : {}),
  };
}

export class TokenClient {
  readonly profile: ProviderProfile;
  readonly endpoints: Endpoints;
  readonly #client: ClientAuth;
  readonly #post: PostForm;
  readonly #now: () => number;
  readonly #signInHint: string | undefined;
  readonly #timeoutMs: number | undefined;

  constructor(o: TokenClientOptions) {
    this.profile = o.profile;
    this.endpoints = o.endpoints;
    this.#client = o.client;
    this.#post = o.postForm ?? defaultPostForm;
    this.#now = o.now ?? Date.now;
    this.#signInHint = o.signInHint;
    this.#timeoutMs = o.timeoutMs;
  }

  get clientId(): string {
    return this.#client.clientId;
  }

  /** The client's own fields of every request (RFC 6749 section 2.3.1, in the body). */
  clientFields(): Record<string, string> {
    return {
      client_id: this.#client.clientId,
      ...(this.#client.clientSecret === undefined ? {} : { client_secret: this.#client.clientSecret }),
    };
  }

  /** RFC 6749 section 6. Microsoft wants the scope again on every refresh (v2 endpoint); others accept it. */
  refresh(refreshToken: string, signal?: AbortSignal): Promise<TokenResponse> {
    return this.tokenRequest(
      'refreshing the access token',
      { grant_type: 'refresh_token', refresh_token: refreshToken, scope: this.endpoints.scope },
      signal,
    );
  }

  /** RFC 6749 section 4.4: app-only access (Microsoft's POP.AccessAsApp). */
  clientCredentials(signal?: AbortSignal): Promise<TokenResponse> {
    return this.tokenRequest('getting an app-only access token', { grant_type: 'client_credentials', scope: this.endpoints.scope }, signal);
  }

  /** One POST to the token endpoint; a refusal becomes an OAuth2Error with the provider's words. */
  async tokenRequest(what: string, fields: Record<string, string>, signal?: AbortSignal): Promise<TokenResponse> {
    for (const key of ['refresh_token', 'code', 'device_code'] as const) if (fields[key] !== undefined) registerSecret(fields[key]);
    const res = await this.post(this.endpoints.tokenUrl, { ...fields, ...this.clientFields() }, signal);
    if (res.status !== 200) throw errorFromAnswer(this.profile, what, res, this.#signInHint);
    return readTokenAnswer(this.profile, what, res, this.#now());
  }

  async post(url: string, form: Record<string, string>, signal?: AbortSignal): Promise<HttpResponse> {
    return this.#post(url, form, {
      ...(signal === undefined ? {} : { signal }),
      ...(this.#timeoutMs === undefined ? {} : { timeoutMs: this.#timeoutMs }),
    });
  }

  get endpointLabel(): string {
    return endpointLabel(this.endpoints.tokenUrl);
  }

  errorFrom(what: string, res: HttpResponse): OAuth2Error {
    return errorFromAnswer(this.profile, what, res, this.#signInHint);
  }
}
