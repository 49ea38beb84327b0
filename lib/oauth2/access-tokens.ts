/**
 * Access tokens per mailbox, cached for the life of the process (a `run --every` loop, a Lambda container) until
 * shortly before they expire. One grant at a time per mailbox: sessions that need a token at once share the
 * request instead of redeeming the same refresh token twice.
 */
import type { TokenResponse } from './token-client.ts';

export interface AccessTokenSource {
  readonly mailbox: string;
  /** A token valid for at least the refresh margin: the cached one, or a new one from the provider. */
  get(signal?: AbortSignal): Promise<string>;
  /**
   * The mail server refused `rejected`. Returns a different token: the one another session got meanwhile, or a
   * new one from the provider. The caller uses it for one more login and never asks again for that session.
   */
  renew(rejected: string, signal?: AbortSignal): Promise<string>;
}

interface CachedToken {
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly lifetimeMs: number;
}

const cache = new Map<string, CachedToken>();
const inflight = new Map<string, Promise<CachedToken>>();

/** Forgets every cached access token (tests; a process that changed its config). */
export function clearAccessTokenCache(): void {
  cache.clear();
}

/**
 * How long before expiry a cached token is replaced: a quarter of its lifetime, at most two minutes. A session
 * logs in seconds after asking, so two minutes cover a slow connect and TLS handshake with room to spare.
 */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(120_000, Math.floor(lifetimeMs / 4));
}

export interface CachedTokenSourceOptions {
  /** What identifies the token: mailbox, provider, client, scope and where the refresh token lives. */
  readonly key: string;
  readonly mailbox: string;
  /** Asks the provider for a new access token (refresh or client credentials, rotation stored). */
  readonly grant: (signal?: AbortSignal) => Promise<TokenResponse>;
  readonly now?: () => number;
}

export class CachedTokenSource implements AccessTokenSource {
  readonly mailbox: string;
  readonly #key: string;
  readonly #grant: (signal?: AbortSignal) => Promise<TokenResponse>;
  readonly #now: () => number;

  constructor(o: CachedTokenSourceOptions) {
    this.mailbox = o.mailbox;
    this.#key = o.key;
    this.#grant = o.grant;
    this.#now = o.now ?? Date.now;
  }

  async get(signal?: AbortSignal): Promise<string> {
    const fresh = this.#fresh();
    return fresh?.accessToken ?? (await this.#fetch(signal)).accessToken;
  }

  async renew(rejected: string, signal?: AbortSignal): Promise<string> {
    const fresh = this.#fresh();
    if (fresh !== null && fresh.accessToken !== rejected) return fresh.accessToken;
    if (cache.get(this.#key)?.accessToken === rejected) cache.delete(this.#key);
    // A grant already under way was started before the refusal was known: it may bring the refused token back.
    const running = inflight.get(this.#key);
    if (running !== undefined) {
      // Its failure is this renewal's failure: one attempt at the provider per refusal, never a second.
      const token = await running;
      if (token.accessToken !== rejected) return token.accessToken;
    }
    return (await this.#fetch(signal)).accessToken;
  }

  #fresh(): CachedToken | null {
    const c = cache.get(this.#key);
    if (c === undefined || this.#now() >= c.expiresAt - refreshMarginMs(c.lifetimeMs)) return null;
    return c;
  }

  #fetch(signal?: AbortSignal): Promise<CachedToken> {
    let p = inflight.get(this.#key);
    if (p === undefined) {
      p = this.#grant(signal)
        .then((t) => {
          const token = { accessToken: t.accessToken, expiresAt: t.expiresAt, lifetimeMs: t.lifetimeMs };
          cache.set(this.#key, token);
          return token;
        })
        .finally(() => {
          inflight.delete(this.#key);
        });
      inflight.set(this.#key, p);
    }
    return p;
  }
}
