/**
 * Where a mailbox's refresh token lives between runs, and how a rotated one gets back there without losing a
 * race: every write is a compare-and-set against the version that was read.
 */
import type { TokenRef } from '../config/types.ts';
import { OAuth2Error } from './errors.ts';

export interface StoredRefreshToken {
  readonly refreshToken: string;
  /** Opaque: what `write` compares against (a content hash, a Secrets Manager VersionId). */
  readonly version: string;
}

export type WriteOutcome =
  /** The new token is stored. */
  | 'written'
  /** Someone else replaced the token since it was read: theirs is kept, ours dropped. */
  | 'conflict'
  /** The store cannot be written (an environment variable): the new token lives in this process only. */
  | 'read-only';

export interface RefreshTokenStore {
  /** For messages: "token file /etc/mail-ingest/tokens/support.json", "secret mail-ingest/support". Never a value. */
  readonly location: string;
  readonly writable: boolean;
  /** The stored token, or null when none has been stored yet. */
  read(): Promise<StoredRefreshToken | null>;
  /** Compare-and-set: stores `refreshToken` only if the store still holds `expectedVersion`. */
  write(refreshToken: string, expectedVersion: string): Promise<WriteOutcome>;
  /** Unconditional replace, for a fresh sign-in (`mail-ingest auth`), which supersedes whatever was there. */
  replace(refreshToken: string): Promise<void>;
  /**
   * Held around read-refresh-write so that two processes on this machine never redeem the same refresh token (a
   * provider that rotates refuses the second use, and oidc-provider-style servers then revoke the whole grant).
   * A store without a lock returns a no-op.
   */
  lock(): Promise<() => Promise<void>>;
}

/** An environment variable: read on every refresh, never written. */
export class EnvTokenStore implements RefreshTokenStore {
  readonly location: string;
  readonly writable = false;
  readonly #name: string;
  readonly #env: NodeJS.ProcessEnv;

  constructor(name: string, env: NodeJS.ProcessEnv = process.env) {
    this.#name = name;
    this.#env = env;
    this.location = `environment variable ${name}`;
  }

  async read(): Promise<StoredRefreshToken | null> {
    const value = this.#env[this.#name];
    if (value === undefined || value === '') return null;
    return { refreshToken: value.trim(), version: 'env' };
  }

  async write(): Promise<WriteOutcome> {
    return 'read-only';
  }

  async replace(): Promise<void> {
    throw new OAuth2Error(
      'EOAUTH2_STORE',
      `cannot store a refresh token in ${this.location}: set oauth2.refreshToken to { "file": "..." } or { "secretId": "..." }`,
    );
  }

  async lock(): Promise<() => Promise<void>> {
    return async () => undefined;
  }
}

export type TokenStoreFactory = (ref: TokenRef) => RefreshTokenStore;
