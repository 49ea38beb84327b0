/**
 * One mailbox's OAuth 2 configuration turned into an access token source: which grant, which store for the
 * refresh token, the rotation write-back, and the status record. The pipeline, the CLI and the poller use this.
 */
import type { MailboxConfig, OAuth2Config, SecretRef, TokenRef } from '../config/types.ts';
import { CachedTokenSource, type AccessTokenSource } from './access-tokens.ts';
import { OAuth2Error } from './errors.ts';
import { FsTokenFile } from './fs-token-file.ts';
import type { PostForm } from './http.ts';
import { endpointsFor, PROFILES } from './profiles.ts';
import { createAwsSecretsManagerTokenClient, SecretsManagerTokenStore, type SecretsManagerTokenClient } from './secret-token-store.ts';
import { TokenClient, type TokenResponse } from './token-client.ts';
import type { TokenStatusRecord, TokenStatusStore } from './token-status.ts';
import { EnvTokenStore, type RefreshTokenStore } from './token-store.ts';

export type OAuth2Log = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface OAuth2Deps {
  /** Resolves the client secret reference (env, Secrets Manager...). */
  readonly resolve: (ref: SecretRef) => Promise<string>;
  /** For refresh tokens kept in Secrets Manager. @default a client of AWS Secrets Manager, created on first use */
  readonly secretsManager?: SecretsManagerTokenClient;
  /** Where the last refresh is recorded. @default none */
  readonly status?: TokenStatusStore;
  /** Never receives a token: only codes, counts and locations. */
  readonly log?: OAuth2Log;
  readonly postForm?: PostForm;
  readonly now?: () => number;
  readonly env?: NodeJS.ProcessEnv;
}

let defaultSecretsManager: SecretsManagerTokenClient | null = null;

export function refreshTokenStore(ref: TokenRef, deps: Pick<OAuth2Deps, 'secretsManager' | 'env'> = {}): RefreshTokenStore {
  if ('file' in ref) return new FsTokenFile(ref.file);
  if ('secretId' in ref)
    return new SecretsManagerTokenStore(
      ref.secretId,
      deps.secretsManager ?? (defaultSecretsManager ??= createAwsSecretsManagerTokenClient()),
    );
  return new EnvTokenStore(ref.env, deps.env);
}

export function signInCommand(mailbox: string): string {
  return `sign in again: mail-ingest auth --config <config file> --mailbox ${mailbox}`;
}

/** The provider client of a mailbox, with its client secret resolved. */
export async function tokenClientFor(
  m: MailboxConfig & { oauth2: OAuth2Config },
  deps: Pick<OAuth2Deps, 'resolve' | 'postForm' | 'now'>,
): Promise<TokenClient> {
  const o = m.oauth2;
  const clientSecret = o.clientSecret === undefined ? undefined : await deps.resolve(o.clientSecret);
  return new TokenClient({
    profile: PROFILES[o.provider],
    endpoints: endpointsFor(o),
    client: { clientId: o.clientId, ...(clientSecret === undefined ? {} : { clientSecret }) },
    signInHint: signInCommand(m.id),
    ...(deps.postForm === undefined ? {} : { postForm: deps.postForm }),
    ...(deps.now === undefined ? {} : { now: deps.now }),
  });
}

/**
 * A rotated refresh token that could not be stored yet (read-only store, a failed write), by token key. The
 * next refresh in this process uses it and stores it again, as long as the store still holds the version it
 * replaced; if someone stored a newer token meanwhile, theirs wins.
 */
const unsaved = new Map<string, { readonly refreshToken: string; readonly replaces: string }>();

export function hasOAuth2(m: MailboxConfig): m is MailboxConfig & { oauth2: OAuth2Config } {
  return m.oauth2 !== undefined;
}

/** The access token source of a mailbox with an `oauth2` block. */
export function tokenSourceFor(m: MailboxConfig & { oauth2: OAuth2Config }, deps: OAuth2Deps): AccessTokenSource {
  const o = m.oauth2;
  const endpoints = endpointsFor(o);
  const store = o.flow === 'delegated' && o.refreshToken !== undefined ? refreshTokenStore(o.refreshToken, deps) : null;
  const key = JSON.stringify([
    m.id,
    o.provider,
    o.tenant ?? null,
    o.clientId,
    endpoints.tokenUrl,
    endpoints.scope,
    o.flow,
    store?.location ?? null,
  ]);
  const log = deps.log ?? (() => undefined);
  const now = deps.now ?? Date.now;

  async function delegated(client: TokenClient, signal?: AbortSignal): Promise<{ response: TokenResponse; rotated: boolean }> {
    const s = store!;
    const release = await s.lock();
    try {
      let stored = await s.read();
      const pending = unsaved.get(key);
      if (pending !== undefined && stored !== null && pending.replaces !== stored.version) unsaved.delete(key);
      if (stored === null) {
        throw new OAuth2Error(
          'EOAUTH2_NO_TOKEN',
          `mailbox ${m.id}: no refresh token in ${s.location} yet; sign in once: mail-ingest auth --config <config file> --mailbox ${m.id}`,
        );
      }
      let current = unsaved.get(key)?.refreshToken ?? stored.refreshToken;
      let response: TokenResponse;
      try {
        response = await client.refresh(current, signal);
      } catch (err) {
        if (!(err instanceof OAuth2Error) || err.code !== 'EOAUTH2_GRANT') throw err;
        // Another poller on another machine (no shared lock) may have rotated the token after we read it.
        const again = await s.read();
        if (again === null || again.version === stored.version) throw err;
        unsaved.delete(key);
        stored = again;
        current = again.refreshToken;
        response = await client.refresh(current, signal);
      }
      const next = response.refreshToken;
      if (next === undefined || next === current) {
        // Not rotated; a token kept in memory from an earlier rotation still waits to be stored.
        if (unsaved.has(key)) await storeRotated(s, unsaved.get(key)!.refreshToken, stored.version);
        return { response, rotated: false };
      }
      await storeRotated(s, next, stored.version);
      return { response, rotated: true };
    } finally {
      await release();
    }
  }

  async function storeRotated(s: RefreshTokenStore, refreshToken: string, replaces: string): Promise<void> {
    let outcome;
    try {
      outcome = await s.write(refreshToken, replaces);
    } catch (err) {
      // The provider may already refuse the old token: keep the new one for this process and say so loudly.
      unsaved.set(key, { refreshToken, replaces });
      log('error', 'the rotated refresh token could not be stored; it is kept in memory for this process and stored at the next refresh', {
        mailbox: m.id,
        location: s.location,
        errorCode: String((err as { code?: unknown }).code ?? 'EINTERNAL'),
      });
      return;
    }
    if (outcome === 'written') {
      unsaved.delete(key);
      log('info', 'refresh token rotated and stored', { mailbox: m.id, location: s.location });
    } else if (outcome === 'conflict') {
      unsaved.delete(key);
      log('warn', 'another process stored a rotated refresh token at the same time; keeping theirs', {
        mailbox: m.id,
        location: s.location,
      });
    } else {
      unsaved.set(key, { refreshToken, replaces });
      log(
        'warn',
        'the provider rotated the refresh token but it is read from an environment variable, which cannot be written: the new one lives in this process only; use { "file": ... } or { "secretId": ... }',
        { mailbox: m.id, location: s.location },
      );
    }
  }

  async function record(update: (previous: TokenStatusRecord | null) => TokenStatusRecord): Promise<void> {
    if (deps.status === undefined) return;
    try {
      await deps.status.write(update(await deps.status.read(m.id)));
    } catch (err) {
      log('warn', 'could not record the token refresh in the status record', {
        mailbox: m.id,
        errorCode: (err as { code?: unknown }).code,
      });
    }
  }

  async function grant(signal?: AbortSignal): Promise<TokenResponse> {
    const at = new Date(now()).toISOString();
    try {
      const client = await tokenClientFor(m, deps);
      const { response, rotated } =
        o.flow === 'client-credentials'
          ? { response: await client.clientCredentials(signal), rotated: false }
          : await delegated(client, signal);
      log('info', 'access token obtained', {
        mailbox: m.id,
        provider: o.provider,
        flow: o.flow,
        expiresInS: Math.round(response.lifetimeMs / 1000),
        rotated,
      });
      await record((prev) => ({
        version: 1,
        mailbox: m.id,
        lastRefreshAt: at,
        lastRotationAt: rotated ? at : (prev?.lastRotationAt ?? null),
        lastFailure: null,
      }));
      return response;
    } catch (err) {
      const e = err instanceof OAuth2Error ? err : null;
      log('error', 'getting an access token failed', {
        mailbox: m.id,
        provider: o.provider,
        errorCode: e?.code ?? (err as { code?: unknown }).code,
        ...(e?.providerCode === undefined ? {} : { providerCode: e.providerCode }),
        ...(e === null ? {} : { retryable: e.retryable }),
      });
      await record((prev) => ({
        version: 1,
        mailbox: m.id,
        lastRefreshAt: prev?.lastRefreshAt ?? null,
        lastRotationAt: prev?.lastRotationAt ?? null,
        lastFailure: {
          at,
          code: typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'EINTERNAL',
          ...(e?.providerCode === undefined ? {} : { providerCode: e.providerCode }),
          signInAgain: e?.signInAgain ?? false,
        },
      }));
      throw err;
    }
  }

  if (o.flow === 'delegated' && store === null) throw new TypeError(`mailbox ${m.id}: oauth2 flow "delegated" needs refreshToken`);
  return new CachedTokenSource({ key, mailbox: m.id, grant, now });
}
