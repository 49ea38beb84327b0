/**
 * How Microsoft's and Google's token endpoints word what oidc-provider reports, for the test server
 * (test/helpers/oauth-server.ts): Entra ID's AADSTS codes, Google's terse descriptions and status codes.
 */

/** Microsoft's error codes for what oidc-provider reports; the descriptions follow the wording Entra ID uses. */
export function microsoftCode(error: string, description: string): [number, string] {
  if (error === 'invalid_grant' && /expired/.test(description))
    return [
      700082,
      'The refresh token has expired due to inactivity. The token was issued on 2024-01-01T00:00:00Z and was inactive for 90.00:00:00.',
    ];
  if (error === 'invalid_grant' && /already used/.test(description)) return [70000, 'The provided grant is invalid or malformed.'];
  if (error === 'invalid_grant')
    return [
      50173,
      'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
    ];
  if (error === 'invalid_client')
    return [
      7000215,
      'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
    ];
  if (error === 'authorization_pending') return [70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.'];
  if (error === 'slow_down') return [70016, 'OAuth 2.0 device flow error. Polling too quickly.'];
  if (error === 'expired_token')
    return [70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired."];
  if (error === 'access_denied') return [70000, 'The user declined the authorization request.'];
  if (error === 'invalid_scope') return [70011, "The provided value for the input parameter 'scope' is not valid."];
  return [90014, description];
}

export function googleDescription(error: string, fallback: string): string {
  return (
    (
      {
        invalid_grant: 'Token has been expired or revoked.',
        invalid_client: 'Unauthorized',
        authorization_pending: 'Precondition Required',
        slow_down: 'Forbidden',
        access_denied: 'Forbidden',
        expired_token: 'Bad Request',
      } as Record<string, string>
    )[error] ?? fallback
  );
}

/** Google's device endpoint answers pending with 428 and slow_down / access_denied with 403. */
export const GOOGLE_STATUS: Record<string, number> = { authorization_pending: 428, slow_down: 403, access_denied: 403 };
