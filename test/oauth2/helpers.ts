import { startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import type { OAuthServer } from '../helpers/oauth-server.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly expiresIn: number;
}

async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The device flow done by hand (not by lib/oauth2), for tests of the peers themselves. */
export async function signInByHand(
  server: OAuthServer,
  account: string,
  client: { id: string; secret?: string } = server.clients.public,
): Promise<IssuedTokens> {
  const scope = server.flavor === 'microsoft' ? `${server.scope} offline_access` : server.scope;
  const auth = { client_id: client.id, ...(client.secret === undefined ? {} : { client_secret: client.secret }) };
  const start = await postForm(server.deviceAuthorizationUrl, { ...auth, scope });
  await server.approveDevice(String(start.body.user_code), account);
  const token = await postForm(server.tokenUrl, { ...auth, grant_type: DEVICE_GRANT, device_code: String(start.body.device_code) });
  if (token.status !== 200) throw new Error(`device token request failed: ${JSON.stringify(token.body)}`);
  return {
    accessToken: String(token.body.access_token),
    ...(typeof token.body.refresh_token === 'string' ? { refreshToken: token.body.refresh_token } : {}),
    expiresIn: Number(token.body.expires_in),
  };
}

/** A Dovecot whose `passdb oauth2` asks `server`'s introspection endpoint about every token (users alice, bob). */
export function startOAuthDovecot(server: OAuthServer): Promise<DovecotServer> {
  return startDovecot({
    oauth2: {
      introspectionUrl: server.introspectionUrl,
      clientId: server.clients.introspector.id,
      clientSecret: server.clients.introspector.secret,
    },
  });
}

/** Introspection requests Dovecot made (one per token it checked). */
export function introspections(server: OAuthServer): number {
  return server.requests.filter((r) => r.route === 'introspection').length;
}
