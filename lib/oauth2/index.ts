/**
 * OAuth 2 for POP3 mailboxes (Microsoft 365, Gmail, any RFC 6749 server): the whole token lifecycle, so that a
 * mailbox keeps working after its first access token expires.
 *
 * - `tokenSourceFor(mailbox, deps)`: access tokens, cached until shortly before expiry, refreshed from the stored
 *   refresh token (or by client credentials); a rotated refresh token is written back with compare-and-set.
 * - lib/app/oauth2-login.ts joins them to the POP3 session: a connect that renews a refused token once.
 * - `startDeviceAuthorization` / `pollDeviceToken`: the RFC 8628 sign-in behind `mail-ingest auth`;
 *   `startLoopbackSignIn`: the browser sign-in (RFC 8252, PKCE) for Google, whose device flow omits Gmail.
 * - `tokenHealth`: what `status` says about a mailbox's refresh token.
 * Errors are OAuth2Error (errors.ts), with the provider's code (AADSTS700082...) and whether to sign in again.
 * No token ever reaches a log line, an error message, the state or a template.
 */
export { CachedTokenSource, clearAccessTokenCache, refreshMarginMs } from './access-tokens.ts';
export type { AccessTokenSource } from './access-tokens.ts';
export { DEVICE_CODE_GRANT, pollDeviceToken, startDeviceAuthorization } from './device-flow.ts';
export type { DeviceAuthorization } from './device-flow.ts';
export { OAuth2Error } from './errors.ts';
export { startLoopbackSignIn } from './loopback-flow.ts';
export type { LoopbackSignIn } from './loopback-flow.ts';
export type { OAuth2ErrorCode } from './errors.ts';
export { FsTokenFile } from './fs-token-file.ts';
export { postForm } from './http.ts';
export type { PostForm } from './http.ts';
export { hasOAuth2, refreshTokenStore, signInCommand, tokenClientFor, tokenSourceFor } from './mailbox-tokens.ts';
export type { OAuth2Deps, OAuth2Log } from './mailbox-tokens.ts';
export { endpointsFor, PROFILES } from './profiles.ts';
export type { ProviderProfile } from './profiles.ts';
export { createAwsSecretsManagerTokenClient, SecretsManagerTokenStore } from './secret-token-store.ts';
export type { SecretsManagerTokenClient } from './secret-token-store.ts';
export { TokenClient } from './token-client.ts';
export type { TokenResponse } from './token-client.ts';
export { rawStoreTokenStatus, tokenHealth, tokenStatusKey } from './token-status.ts';
export type { TokenHealth, TokenStatusRecord, TokenStatusStore } from './token-status.ts';
export { EnvTokenStore } from './token-store.ts';
export type { RefreshTokenStore, StoredRefreshToken, WriteOutcome } from './token-store.ts';
