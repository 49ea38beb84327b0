/**
 * A small per-mailbox record of the token lifecycle: when a refresh last succeeded and how the last one failed.
 * Never a token: it sits beside the mailbox state in the archive (`state/oauth2/<mailbox>.json`), where `status`
 * and the Lambda metrics read it, and where a refresh token must never be.
 */
import type { OAuth2Config } from '../config/types.ts';
import { PROFILES } from './profiles.ts';

export interface TokenStatusRecord {
  readonly version: 1;
  readonly mailbox: string;
  /** ISO 8601: the last time the provider issued an access token for this mailbox. */
  readonly lastRefreshAt: string | null;
  /** ISO 8601: the last time the provider rotated the refresh token and it was stored. */
  readonly lastRotationAt?: string | null;
  readonly lastFailure: {
    readonly at: string;
    readonly code: string;
    readonly providerCode?: string;
    readonly signInAgain: boolean;
  } | null;
}

export interface TokenStatusStore {
  read(mailbox: string): Promise<TokenStatusRecord | null>;
  write(record: TokenStatusRecord): Promise<void>;
}

export function tokenStatusKey(keyPrefix: string, mailbox: string): string {
  return [keyPrefix, 'state', 'oauth2', `${mailbox}.json`].filter((s) => s !== '').join('/');
}

/** The small-object part of the archive store (lib/store RawStore, fs or S3). */
export interface SmallObjectStore {
  readonly keyPrefix: string;
  putObject(key: string, body: Buffer | string, contentType?: string): Promise<unknown>;
  getObject(key: string): Promise<Buffer | null>;
}

/** The record as a small object in the archive store (fs or S3), next to the mailbox state. */
export function rawStoreTokenStatus(store: SmallObjectStore): TokenStatusStore {
  return {
    async read(mailbox) {
      const bytes = await store.getObject(tokenStatusKey(store.keyPrefix, mailbox));
      if (bytes === null) return null;
      try {
        const value = JSON.parse(bytes.toString('utf8')) as TokenStatusRecord;
        return value.version === 1 && value.mailbox === mailbox ? value : null;
      } catch {
        return null;
      }
    },
    async write(record) {
      await store.putObject(tokenStatusKey(store.keyPrefix, record.mailbox), `${JSON.stringify(record, null, 2)}\n`, 'application/json');
    },
  };
}

export interface TokenHealth {
  readonly lastRefreshAt: string | null;
  readonly daysSinceRefresh: number | null;
  /** Days an unused refresh token lives at this provider, when known. */
  readonly idleDays: number | null;
  /** A sentence for a person, or null when all is well. */
  readonly warning: string | null;
}

const DAY_MS = 86_400_000;

/**
 * What `status` says about a mailbox's token. A delegated refresh token dies after the provider's idle period
 * (Microsoft 90 days, Google six months): the warning starts once a third of it has passed without a refresh,
 * which leaves weeks to notice that polling stopped, and a failed refresh that needs a sign-in is said at once.
 */
export function tokenHealth(oauth2: OAuth2Config, mailbox: string, record: TokenStatusRecord | null, now = Date.now()): TokenHealth {
  const idleDays = oauth2.flow === 'delegated' ? PROFILES[oauth2.provider].refreshTokenIdleDays : null;
  const last = record?.lastRefreshAt ?? null;
  const days = last === null ? null : Math.max(0, Math.floor((now - Date.parse(last)) / DAY_MS));
  const signIn = `mail-ingest auth --mailbox ${mailbox}`;
  let warning: string | null = null;
  const failure = record?.lastFailure ?? null;
  if (failure !== null && (last === null || Date.parse(failure.at) > Date.parse(last)) && failure.signInAgain) {
    warning = `the last refresh failed (${[failure.code, failure.providerCode].filter(Boolean).join(' ')}): sign in again with ${signIn}`;
  } else if (last === null) {
    warning = oauth2.flow === 'delegated' ? `no token refresh recorded yet; after ${signIn}, the next run records one` : null;
  } else if (days !== null && idleDays !== null && days >= Math.floor(idleDays / 3)) {
    const left = idleDays - days;
    warning =
      left > 0
        ? `no refresh for ${days} days: the refresh token expires after ${idleDays} days unused (in about ${left} days); make sure this mailbox is polled, or sign in again with ${signIn}`
        : `no refresh for ${days} days: the refresh token has probably expired (${idleDays} days unused); sign in again with ${signIn}`;
  }
  return { lastRefreshAt: last, daysSinceRefresh: days, idleDays, warning };
}
