import tls from 'node:tls';
import type { AuthMechanism, Pop3ConnectOptions, TlsMode } from './types.ts';
import type { ConnectionOptions } from './connection.ts';
import { Pop3Error } from './errors.ts';
import type { TransportOptions } from './transport.ts';

export interface ResolvedOptions {
  readonly tls: TlsMode;
  readonly auth: AuthMechanism;
  readonly user: string;
  readonly password: string | undefined;
  readonly accessToken: string | undefined;
  readonly pipelining: boolean;
  readonly window: number;
  readonly prefetchListing: boolean;
  readonly transport: TransportOptions;
  readonly connection: ConnectionOptions;
}

/** What one listing (LIST, UIDL, CAPA) may cost: generous for any real maildrop, far below a process's memory. */
export const DEFAULT_MAX_LISTING_ENTRIES = 1_000_000;
export const DEFAULT_MAX_LISTING_BYTES = 64 * 1024 * 1024;

/** A server sending less than this while a response is under way ends the session (ESLOW); 0 for no minimum. */
export const DEFAULT_MIN_BYTES_PER_SECOND = 1024;
export const DEFAULT_MIN_RATE_WINDOW_MS = 30_000;

const MECHANISMS: readonly AuthMechanism[] = ['auto', 'user', 'plain', 'xoauth2', 'oauthbearer', 'apop'];
const MODES: readonly TlsMode[] = ['implicit', 'starttls', 'none'];

function positive(problems: string[], name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) problems.push(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * Validates the options once, before any socket is opened. Every problem is reported together (ECONFIG); sending
 * credentials in clear is EINSECURE. Secrets are checked but never quoted.
 */
export function resolveOptions(o: Pop3ConnectOptions): ResolvedOptions {
  const problems: string[] = [];
  const mode = o.tls ?? 'implicit';
  const auth = o.auth ?? 'auto';
  if (!MODES.includes(mode)) problems.push(`tls must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  if (!MECHANISMS.includes(auth)) problems.push(`auth must be one of ${MECHANISMS.join(', ')}, got ${JSON.stringify(auth)}`);
  if (typeof o.host !== 'string' || o.host.length === 0) problems.push('host is required');
  if (typeof o.user !== 'string' || o.user.length === 0) problems.push('user is required');
  // CR/LF would let a credential inject a second command; NUL would split a SASL PLAIN message (RFC 4616).
  const unsafe = /[\r\n\0]/;
  if (typeof o.user === 'string' && unsafe.test(o.user)) problems.push('user contains CR, LF or NUL');
  if (o.password !== undefined && unsafe.test(o.password)) problems.push('password contains CR, LF or NUL');
  if (o.accessToken !== undefined && /[\r\n\0\x01]/.test(o.accessToken)) problems.push('accessToken contains CR, LF, NUL or ^A');
  if (
    (auth === 'xoauth2' || auth === 'oauthbearer' || (auth === 'auto' && o.accessToken !== undefined)) &&
    typeof o.user === 'string' &&
    o.user.includes('\x01')
  )
    problems.push('user contains ^A');
  if ((auth === 'xoauth2' || auth === 'oauthbearer') && !o.accessToken) problems.push(`auth "${auth}" needs accessToken`);
  if ((auth === 'user' || auth === 'plain' || auth === 'apop') && o.password === undefined) problems.push(`auth "${auth}" needs password`);
  if (auth === 'auto' && o.password === undefined && !o.accessToken) problems.push('password or accessToken is required');
  const port = positive(problems, 'port', o.port, mode === 'implicit' ? 995 : 110);
  if (port > 65535) problems.push(`port must be at most 65535, got ${port}`);
  const window = positive(problems, 'window', o.window, 64);
  const t = o.timeouts ?? {};
  const connectMs = positive(problems, 'timeouts.connectMs', t.connectMs, 15_000);
  const tlsMs = positive(problems, 'timeouts.tlsMs', t.tlsMs, 15_000);
  const greetingMs = positive(problems, 'timeouts.greetingMs', t.greetingMs, 15_000);
  const responseMs = positive(problems, 'timeouts.responseMs', t.responseMs, 60_000);
  const idleMs = positive(problems, 'timeouts.idleMs', t.idleMs, 60_000);
  const maxLineLength = positive(problems, 'maxLineLength', o.maxLineLength, 8192);
  if (maxLineLength < 512) problems.push(`maxLineLength must be at least 512 (RFC 2449), got ${maxLineLength}`);
  const maxMessageBytes = positive(problems, 'maxMessageBytes', o.maxMessageBytes, Number.MAX_SAFE_INTEGER);
  const maxListingEntries = positive(problems, 'maxListingEntries', o.maxListingEntries, DEFAULT_MAX_LISTING_ENTRIES);
  const maxListingBytes = positive(problems, 'maxListingBytes', o.maxListingBytes, DEFAULT_MAX_LISTING_BYTES);
  const minBytesPerSecond = o.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND;
  if (!Number.isSafeInteger(minBytesPerSecond) || minBytesPerSecond < 0)
    problems.push(`minBytesPerSecond must be an integer >= 0, got ${String(minBytesPerSecond)}`);
  const minRateWindowMs = positive(problems, 'minRateWindowMs', o.minRateWindowMs, DEFAULT_MIN_RATE_WINDOW_MS);
  const extra = o.ca === undefined ? [] : ((Array.isArray(o.ca) ? o.ca : [o.ca]) as ReadonlyArray<string | Buffer>);
  if (problems.length > 0) throw new Pop3Error('ECONFIG', `Invalid POP3 options: ${problems.join('; ')}`);

  if (mode === 'none' && !o.allowInsecureAuth) {
    throw new Pop3Error('EINSECURE', 'Refusing to send credentials over an unencrypted connection (tls "none" without allowInsecureAuth)');
  }
  if (mode === 'none' && auth === 'apop') {
    throw new Pop3Error('EINSECURE', 'APOP is only used inside TLS');
  }
  return {
    tls: mode,
    auth,
    user: o.user,
    password: o.password,
    accessToken: o.accessToken,
    pipelining: o.pipelining !== false,
    window,
    prefetchListing: o.prefetchListing === true,
    transport: {
      host: o.host,
      port,
      servername: o.servername ?? o.host,
      // Extra CAs are added to the default roots, not substituted for them.
      ca: extra.length > 0 ? [...tls.rootCertificates, ...extra.map((c) => c.toString())] : undefined,
      connectMs,
      tlsMs,
      signal: o.signal,
    },
    connection: {
      greetingMs,
      responseMs,
      idleMs,
      maxLineLength,
      maxMessageBytes,
      maxListingEntries,
      maxListingBytes,
      minBytesPerSecond,
      minRateWindowMs,
      streamHighWaterMark: 256 * 1024,
    },
  };
}
