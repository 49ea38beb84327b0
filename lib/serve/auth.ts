import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE = 'mi_session';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares secrets in constant time (hashing first, so lengths never leak either). */
function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export type AuthResult =
  /** A valid session cookie or bearer token. */
  | { readonly kind: 'ok' }
  /** The access token in the URL: set the cookie and redirect to the same address without it. */
  | { readonly kind: 'exchange'; readonly setCookie: string; readonly location: string }
  | { readonly kind: 'denied' };

/**
 * Every request must prove it comes from whoever started `serve`: the access token printed with the URL (as
 * `?token=`, exchanged once for a cookie so it leaves the address bar and the history, or as an
 * `Authorization: Bearer` header for tools), or the session cookie. The cookie is HttpOnly (no script can read
 * it) and SameSite=Strict (another site's page cannot make the browser send it), so a page elsewhere can neither
 * read the archive nor start an export.
 */
export class AccessGate {
  readonly token: string;
  readonly #session: string;

  constructor(token: string = randomBytes(24).toString('base64url')) {
    this.token = token;
    this.#session = randomBytes(32).toString('base64url');
  }

  check(req: IncomingMessage, url: URL): AuthResult {
    const cookie = cookieValue(req.headers.cookie, COOKIE);
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : null;
    const fromUrl = url.searchParams.get('token');
    if (fromUrl !== null && same(fromUrl, this.token)) {
      const rest = new URLSearchParams(url.searchParams);
      rest.delete('token');
      const query = rest.toString();
      return {
        kind: 'exchange',
        setCookie: `${COOKIE}=${this.#session}; Path=/; HttpOnly; SameSite=Strict`,
        location: `${url.pathname === '/' ? '/search' : url.pathname}${query === '' ? '' : `?${query}`}`,
      };
    }
    if (cookie !== null && same(cookie, this.#session)) return { kind: 'ok' };
    if (bearer !== null && same(bearer, this.token)) return { kind: 'ok' };
    return { kind: 'denied' };
  }
}
