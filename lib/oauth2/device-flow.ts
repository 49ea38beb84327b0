/**
 * The device authorization grant (RFC 8628): what `mail-ingest auth` runs once per mailbox to get the first
 * refresh token. The person opens a URL on any device, enters a short code and signs in; meanwhile we poll.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { registerSecret } from '../redact.ts';
import { OAuth2Error } from './errors.ts';
import { errorFromAnswer, readErrorAnswer, readTokenAnswer, type TokenClient, type TokenResponse } from './token-client.ts';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceAuthorization {
  /** Secret to the client: never shown, never logged. */
  readonly deviceCode: string;
  /** What the person types in. */
  readonly userCode: string;
  readonly verificationUri: string;
  /** The URL with the code filled in, when the provider gives one. */
  readonly verificationUriComplete?: string;
  /** Epoch ms after which the code is dead. */
  readonly expiresAt: number;
  readonly intervalMs: number;
  /** The provider's own instructions (Entra ID sends one, in the user's language). */
  readonly message?: string;
}

const printable = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max && /^[\x20-\x7e]+$/.test(v);

/** RFC 8628 section 3.1-3.2. */
export async function startDeviceAuthorization(client: TokenClient, signal?: AbortSignal): Promise<DeviceAuthorization> {
  const what = 'starting the device sign-in';
  const url = client.endpoints.deviceAuthorizationUrl;
  if (url === null)
    throw new OAuth2Error(
      'EOAUTH2_PROVIDER',
      `${what}: ${client.profile.label} has no device authorization endpoint known to mail-ingest; set oauth2.deviceAuthorizationUrl`,
    );
  const res = await client.post(url, { ...client.clientFields(), scope: client.endpoints.scope }, signal);
  if (res.status !== 200) throw client.errorFrom(what, res);
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    throw new OAuth2Error('EOAUTH2_RESPONSE', `${what}: the answer was not JSON`);
  }
  // Google names it verification_url (its own draft-era name); the RFC says verification_uri.
  const uri = o.verification_uri ?? o.verification_url;
  if (!printable(o.device_code, 4096) || !printable(o.user_code, 64) || !printable(uri, 2048) || !/^https?:\/\//i.test(uri)) {
    throw new OAuth2Error('EOAUTH2_RESPONSE', `${what}: the answer lacks device_code, user_code or verification_uri`);
  }
  registerSecret(o.device_code);
  const expiresIn = typeof o.expires_in === 'number' ? o.expires_in : Number(o.expires_in);
  // RFC 8628 section 3.2: without an interval, poll every 5 seconds.
  const interval = typeof o.interval === 'number' ? o.interval : o.interval === undefined ? 5 : Number(o.interval);
  return {
    deviceCode: o.device_code,
    userCode: o.user_code,
    verificationUri: uri,
    ...(printable(o.verification_uri_complete, 2048) ? { verificationUriComplete: o.verification_uri_complete } : {}),
    expiresAt: Date.now() + (Number.isFinite(expiresIn) && expiresIn > 0 ? Math.min(expiresIn, 3600) : 900) * 1000,
    intervalMs: (Number.isFinite(interval) && interval >= 1 ? Math.min(interval, 60) : 5) * 1000,
    ...(typeof o.message === 'string' ? { message: o.message.slice(0, 500) } : {}),
  };
}

export interface PollOptions {
  readonly signal?: AbortSignal;
  /** Called while the sign-in is pending, after each poll. */
  readonly onPending?: () => void;
  readonly now?: () => number;
}

/** Transport failures in a row after which polling gives up (each already waited its own timeout). */
const MAX_TRANSIENT_FAILURES = 5;

/**
 * RFC 8628 section 3.4-3.5: polls the token endpoint at the given interval until the person has signed in
 * (resolves with the tokens), declined (EOAUTH2_DENIED) or let the code expire (EOAUTH2_EXPIRED). `slow_down`
 * adds 5 seconds to the interval for good; a network failure backs off and is retried a few times.
 */
export async function pollDeviceToken(client: TokenClient, auth: DeviceAuthorization, options: PollOptions = {}): Promise<TokenResponse> {
  const what = 'waiting for the device sign-in';
  const now = options.now ?? Date.now;
  let interval = auth.intervalMs;
  let transient = 0;
  for (;;) {
    if (now() + interval > auth.expiresAt) {
      throw new OAuth2Error(
        'EOAUTH2_EXPIRED',
        `${what}: nobody signed in before the code ${auth.userCode} expired; run mail-ingest auth again`,
      );
    }
    await sleep(interval, undefined, { signal: options.signal });
    let res;
    try {
      res = await client.post(
        client.endpoints.tokenUrl,
        { ...client.clientFields(), grant_type: DEVICE_CODE_GRANT, device_code: auth.deviceCode },
        options.signal,
      );
    } catch (err) {
      if (!(err instanceof OAuth2Error) || !err.retryable || ++transient >= MAX_TRANSIENT_FAILURES) throw err;
      interval = Math.min(interval * 2, 60_000);
      continue;
    }
    transient = 0;
    if (res.status === 200) return readTokenAnswer(client.profile, what, res, now());
    const answer = readErrorAnswer(client.profile, res);
    if (answer?.error === 'authorization_pending') {
      options.onPending?.();
      continue;
    }
    if (answer?.error === 'slow_down') {
      interval += 5_000;
      continue;
    }
    throw errorFromAnswer(client.profile, what, res);
  }
}
