import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { type KoaContext } from 'oidc-provider';
import { Browser, xsrfOf } from './oauth-browser.ts';
import { GOOGLE_STATUS, googleDescription, microsoftCode } from './oauth-error-shapes.ts';
import { memoryAdapter, type Stored } from './oidc-memory-adapter.ts';

/**
 * A real OAuth 2.0 authorization server on 127.0.0.1 for the tests: oidc-provider 9 with the device authorization
 * grant (RFC 8628), refresh tokens with rotation, client credentials, token introspection (RFC 7662, which a
 * Dovecot `passdb oauth2` asks) and revocation (RFC 7009). A `flavor` puts it at the paths of Microsoft's or
 * Google's endpoints and reshapes its answers into theirs (AADSTS codes, Google's `verification_url` and terse
 * descriptions), so the client is tested against the wire formats it meets in production.
 *
 * The "user" who signs in at the verification page is `approveDevice`: it drives the provider's own device pages
 * over HTTP with a cookie jar (enter the code, confirm, log in), as a browser would.
 */

export type OAuthFlavor = 'microsoft' | 'google' | 'generic';

export const SCOPES = {
  microsoft: 'https://outlook.office.com/POP.AccessAsUser.All',
  microsoftApp: 'https://outlook.office365.com/.default',
  google: 'https://mail.google.com/',
  generic: 'pop3',
} as const;

export interface OAuthServerOptions {
  /** @default 'generic' */
  readonly flavor?: OAuthFlavor;
  /** The Microsoft tenant in the paths. @default 'contoso-test' */
  readonly tenant?: string;
  /** Access token lifetime, seconds. @default 3600 */
  readonly accessTokenTtl?: number;
  /** Refresh token lifetime, seconds. @default 90 days */
  readonly refreshTokenTtl?: number;
  /** Issue a new refresh token on every refresh. @default true */
  readonly rotateRefreshTokens?: boolean;
  /**
   * A rotated-out refresh token used again: 'revoke' refuses it and revokes the whole grant (oidc-provider's
   * reuse detection, RFC 9700 section 4.14.2); 'allow' keeps it valid, as Entra ID does. @default 'revoke'
   */
  readonly refreshTokenReuse?: 'revoke' | 'allow';
  /** The `interval` the device authorization response asks clients to poll at, seconds. @default 1 */
  readonly pollInterval?: number;
  /** Device code lifetime, seconds. @default 600 */
  readonly deviceCodeTtl?: number;
  /**
   * The one mailbox the client-credentials client may open: what Exchange's `Add-MailboxPermission` grants a
   * service principal. @default 'alice'
   */
  readonly appMailbox?: string;
}

export interface TokenRequestRecord {
  readonly route: string;
  readonly grantType?: string;
  readonly clientId?: string;
  readonly status: number;
  readonly error?: string;
}

export interface OAuthServer {
  readonly flavor: OAuthFlavor;
  readonly baseUrl: string;
  readonly tenant: string;
  readonly tokenUrl: string;
  readonly deviceAuthorizationUrl: string;
  readonly authorizationUrl: string;
  /** What Dovecot's `introspection_url` points at (client_secret_basic as the `introspector` client). */
  readonly introspectionUrl: string;
  readonly revocationUrl: string;
  /** The delegated scope this flavor knows (the Microsoft POP scope, Google's mail scope or "pop3"). */
  readonly scope: string;
  readonly clients: {
    /** A public client (no secret), like a Microsoft app registration with "Allow public client flows". */
    readonly public: { readonly id: string };
    /** A confidential client (client_secret_post) with device code and refresh token grants. */
    readonly confidential: { readonly id: string; readonly secret: string };
    /** A desktop (native) client for the browser sign-in: authorization code with PKCE, any loopback port. */
    readonly desktop: { readonly id: string; readonly secret: string };
    /** A client-credentials (app-only) client. */
    readonly app: { readonly id: string; readonly secret: string };
    /** The resource server (Dovecot) that introspects tokens. */
    readonly introspector: { readonly id: string; readonly secret: string };
  };
  /** Every token, device authorization, introspection and revocation request, in order. */
  readonly requests: TokenRequestRecord[];
  /** Every token value this server issued (access, refresh, client credentials, device codes): none may leak. */
  readonly issued: ReadonlySet<string>;
  /** The last access token issued (the one a client now has cached). */
  lastAccessToken(): string | undefined;
  /**
   * Invalidates one access token and nothing else, as a resource server's early refusal would (RFC 7009
   * revocation of an access token revokes its whole grant in oidc-provider).
   */
  invalidateAccessToken(token: string): void;
  /** Signs in as `account` at the verification page and approves the device code `userCode` (or denies it). */
  approveDevice(userCode: string, account: string, options?: { deny?: boolean }): Promise<void>;
  /**
   * A browser opening an authorization URL: signs in as `account` (or declines) and follows the redirect back to
   * the client's loopback listener. Resolves with the page the listener served.
   */
  approveAuthorization(url: string, account: string, options?: { deny?: boolean }): Promise<{ status: number; body: string }>;
  /** RFC 7009 revocation as the token's own client: a revoked refresh token revokes its whole grant. */
  revoke(token: string, client: { id: string; secret?: string }): Promise<void>;
  /** Make the endpoints fail: '503' answers an HTML 503 page, 'reset' drops each connection; false restores. */
  setDown(mode: false | '503' | 'reset'): void;
  /** Token requests (route 'token') with this grant type, optionally only the successful ones. */
  tokenRequests(grantType: string, options?: { ok?: boolean }): TokenRequestRecord[];
  stop(): Promise<void>;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function routesFor(flavor: OAuthFlavor, tenant: string): Record<string, string> {
  const common = { code_verification: '/activate', introspection: '/introspect', revocation: '/revoke' };
  if (flavor === 'microsoft') {
    return {
      ...common,
      token: `/${tenant}/oauth2/v2.0/token`,
      device_authorization: `/${tenant}/oauth2/v2.0/devicecode`,
      authorization: `/${tenant}/oauth2/v2.0/authorize`,
    };
  }
  if (flavor === 'google') return { ...common, token: '/token', device_authorization: '/device/code', authorization: '/o/oauth2/v2/auth' };
  return { ...common, token: '/token', device_authorization: '/device_authorization', authorization: '/authorize' };
}

export async function startOAuthServer(options: OAuthServerOptions = {}): Promise<OAuthServer> {
  const flavor = options.flavor ?? 'generic';
  const tenant = options.tenant ?? 'contoso-test';
  const pollInterval = options.pollInterval ?? 1;
  const secret = () => randomBytes(18).toString('base64url');
  const clients = {
    public: { id: `public-${secret()}` },
    confidential: { id: `confidential-${secret()}`, secret: secret() },
    desktop: { id: `desktop-${secret()}`, secret: secret() },
    app: { id: `app-${secret()}`, secret: secret() },
    introspector: { id: 'dovecot', secret: secret() },
  };
  const appMailboxes: Record<string, string> = { [clients.app.id]: options.appMailbox ?? 'alice' };
  const scope = flavor === 'microsoft' ? SCOPES.microsoft : flavor === 'google' ? SCOPES.google : SCOPES.generic;
  const routes = routesFor(flavor, tenant);

  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const baseUrl = `http://127.0.0.1:${port}`;

  const storage = new Map<string, Stored>();
  const provider = new Provider(baseUrl, {
    clients: [
      {
        client_id: clients.public.id,
        token_endpoint_auth_method: 'none',
        grant_types: [DEVICE_GRANT, 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: clients.confidential.id,
        client_secret: clients.confidential.secret,
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: [DEVICE_GRANT, 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
      // RFC 8252 section 7.3: a native client's loopback redirect matches on any port.
      {
        client_id: clients.desktop.id,
        client_secret: clients.desktop.secret,
        application_type: 'native',
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/'],
      },
      {
        client_id: clients.app.id,
        client_secret: clients.app.secret,
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: SCOPES.microsoftApp,
      },
      {
        client_id: clients.introspector.id,
        client_secret: clients.introspector.secret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    scopes: ['openid', 'offline_access', SCOPES.microsoft, SCOPES.microsoftApp, SCOPES.google, SCOPES.generic],
    routes,
    adapter: memoryAdapter(options.refreshTokenReuse === 'allow', storage),
    cookies: { keys: [secret()] },
    jwks: {
      keys: [
        {
          ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
          kid: 'test',
          use: 'sig',
          alg: 'RS256',
        },
      ],
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: async (ctx: KoaContext, form: string, _out: unknown, err?: Error) => {
          ctx.body = `<!DOCTYPE html><title>Enter code</title>${err === undefined ? '' : `<p class="error">${err.name}: ${err.message}</p>`}${form}`;
        },
        userCodeConfirmSource: async (ctx: KoaContext, form: string) => {
          ctx.body = `<!DOCTYPE html><title>Confirm</title>${form}`;
        },
        successSource: async (ctx: KoaContext) => {
          ctx.body = '<!DOCTYPE html><title>Signed in</title><p>Device signed in. You may close this page.</p>';
        },
      },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true, allowedPolicy: async () => true },
    },
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      ClientCredentials: options.accessTokenTtl ?? 3600,
      RefreshToken: options.refreshTokenTtl ?? 90 * 86400,
      DeviceCode: options.deviceCodeTtl ?? 600,
      Grant: 365 * 86400,
      Interaction: 600,
      Session: 86400,
    },
    rotateRefreshToken: options.rotateRefreshTokens ?? true,
    // Google never asks for offline_access (device codes always come with a refresh token); Microsoft does.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }, code: { scopes: Set<string> }) =>
      client.grantTypeAllowed('refresh_token') && (flavor !== 'microsoft' || code.scopes.has('offline_access')),
    // The mail user the token is for, which Dovecot compares with the login name (`username_attribute`).
    extraTokenClaims: async (_ctx: unknown, token: { accountId?: string; clientId: string }) => {
      const username = token.accountId ?? appMailboxes[token.clientId];
      return username === undefined ? undefined : { username };
    },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    interactions: { url: async (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => false },
    clientBasedCORS: () => false,
  });

  const requests: TokenRequestRecord[] = [];
  // The response says only "grant request is invalid"; the reason (expired, already used) is in error_detail.
  const errorDetails = new WeakMap<object, string>();
  for (const event of ['grant.error', 'device_authorization.error']) {
    provider.on(event, (ctx, err) => {
      errorDetails.set(ctx as object, String((err as { error_detail?: unknown }).error_detail ?? ''));
    });
  }
  const lastPoll = new Map<string, number>();
  provider.use(async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    if (route === undefined || !['token', 'device_authorization', 'introspection', 'revocation'].includes(route)) return;
    const params = ctx.oidc?.params ?? {};
    const grantType = typeof params.grant_type === 'string' ? params.grant_type : undefined;
    let body = (ctx.body ?? {}) as Record<string, unknown>;
    // RFC 8628 section 3.5: a client polling faster than `interval` is told to slow down.
    if (
      route === 'token' &&
      grantType === DEVICE_GRANT &&
      body.error === 'authorization_pending' &&
      typeof params.device_code === 'string'
    ) {
      const previous = lastPoll.get(params.device_code);
      lastPoll.set(params.device_code, Date.now());
      if (previous !== undefined && Date.now() - previous < pollInterval * 1000 - 100)
        body = { error: 'slow_down', error_description: 'you are polling too quickly' };
    }
    if (route === 'device_authorization' && ctx.status === 200) {
      body = { ...body, interval: pollInterval };
      if (flavor === 'google') {
        // Google names it verification_url and sends no verification_uri_complete.
        const { verification_uri: url, verification_uri_complete: _complete, ...rest } = body;
        body = { ...rest, verification_url: url };
      }
      if (flavor === 'microsoft')
        body = {
          ...body,
          message: `To sign in, use a web browser to open the page ${String(body.verification_uri)} and enter the code ${String(body.user_code)} to authenticate.`,
        };
    }
    if (typeof body.error === 'string' && (route === 'token' || route === 'device_authorization')) {
      const error = body.error;
      const description = errorDetails.get(ctx) || (typeof body.error_description === 'string' ? body.error_description : '');
      if (flavor === 'microsoft') {
        const [code, text] = microsoftCode(error, description);
        const traceId = randomBytes(16).toString('hex');
        body = {
          error: error === 'access_denied' ? 'authorization_declined' : error,
          error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${randomBytes(16).toString('hex')} Timestamp: ${new Date().toISOString()}`,
          error_codes: [code],
          timestamp: new Date().toISOString(),
          trace_id: traceId,
          correlation_id: randomBytes(16).toString('hex'),
          error_uri: `${baseUrl}/error?code=${code}`,
        };
        if (error !== 'invalid_client') ctx.status = 400;
      } else if (flavor === 'google') {
        body = { error, error_description: googleDescription(error, description) };
        ctx.status = GOOGLE_STATUS[error] ?? (error === 'invalid_client' ? 401 : 400);
      } else if (error === 'slow_down') {
        ctx.status = 400;
      }
    }
    ctx.body = body;
    requests.push({
      route,
      status: ctx.status,
      ...(grantType === undefined ? {} : { grantType }),
      ...(ctx.oidc?.client?.clientId === undefined ? {} : { clientId: ctx.oidc.client.clientId }),
      ...(typeof body.error === 'string' ? { error: body.error } : {}),
    });
  });
  const issued = new Set<string>();
  let lastAccessToken: string | undefined;
  for (const kind of ['access_token', 'refresh_token', 'client_credentials', 'device_code']) {
    provider.on(`${kind}.saved`, (token) => {
      const value = String((token as { jti: string }).jti);
      issued.add(value);
      if (kind === 'access_token') lastAccessToken = value;
    });
  }
  // oidc-provider logs every handled OAuth error on the console otherwise.
  provider.on('server_error', (_ctx, err) => {
    process.stderr.write(`oauth-server: ${String((err as Error)?.stack ?? err)}\n`);
  });

  const callback = provider.callback();
  let down: false | '503' | 'reset' = false;

  /** The sign-in page: the account to log in as comes from the form (the test's "user" fills it in). */
  async function interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!DOCTYPE html><form method="post" action="${path}"><input name="account"><button>Sign in</button></form>`);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const account = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('account') ?? '';
    if (account === '') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'no account' });
      return;
    }
    const grant = new provider.Grant({ accountId: account, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope ?? ''));
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (down === 'reset') {
      req.socket.destroy();
      return;
    }
    if (down === '503' && path !== '/activate' && !path.startsWith('/interaction/')) {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html><body><h1>Service Unavailable</h1></body></html>');
      return;
    }
    if (path.startsWith('/interaction/')) {
      interaction(req, res, path).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
      return;
    }
    // Entra ID answers a token request for a tenant it does not know with AADSTS90002.
    const m = /^\/([^/]+)\/oauth2\/v2\.0\/(token|devicecode)$/.exec(path);
    if (flavor === 'microsoft' && m !== null && m[1] !== tenant) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: 'invalid_request',
          error_description: `AADSTS90002: Tenant '${m[1]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
          error_codes: [90002],
        }),
      );
      return;
    }
    callback(req, res);
  });

  const browserFor = () => new Browser(baseUrl);

  return {
    flavor,
    baseUrl,
    tenant,
    scope,
    clients,
    requests,
    issued,
    lastAccessToken: () => lastAccessToken,
    invalidateAccessToken: (token) => {
      storage.delete(`AccessToken:${token}`);
    },
    tokenUrl: baseUrl + routes.token,
    deviceAuthorizationUrl: baseUrl + routes.device_authorization,
    authorizationUrl: baseUrl + routes.authorization,
    introspectionUrl: baseUrl + routes.introspection,
    revocationUrl: baseUrl + routes.revocation,

    async approveDevice(userCode, account, approveOptions = {}) {
      const browser = browserFor();
      const input = await browser.request('/activate');
      const confirm = await browser.request('/activate', { form: { xsrf: xsrfOf(input.body), user_code: userCode } });
      if (confirm.status !== 200 || !confirm.body.includes('op.deviceConfirmForm'))
        throw new Error(`the user code was not accepted (${confirm.status}):\n${confirm.body.slice(0, 400)}`);
      const form: Record<string, string> = { xsrf: xsrfOf(confirm.body), user_code: userCode, confirm: 'yes' };
      if (approveOptions.deny) {
        delete form.confirm;
        form.abort = 'yes';
      }
      const login = await browser.follow(await browser.request('/activate', { form }));
      if (approveOptions.deny) return;
      if (!login.path.startsWith('/interaction/'))
        throw new Error(`expected the sign-in page, got ${login.path} (${login.status}):\n${login.body.slice(0, 400)}`);
      const done = await browser.follow(await browser.request(login.path, { form: { account } }));
      if (done.status !== 200 || !done.body.includes('Device signed in'))
        throw new Error(`sign-in did not complete (${done.status}):\n${done.body.slice(0, 400)}`);
    },

    async approveAuthorization(url, account, approveOptions = {}) {
      const browser = browserFor();
      const login = await browser.follow(await browser.request(url));
      if (!login.path.startsWith('/interaction/'))
        throw new Error(`expected the sign-in page, got ${login.path} (${login.status}):\n${login.body.slice(0, 400)}`);
      const back = await browser.follow(await browser.request(login.path, { form: { account: approveOptions.deny ? '' : account } }));
      return { status: back.status, body: back.body };
    },

    async revoke(token, client) {
      const res = await fetch(baseUrl + routes.revocation, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token,
          client_id: client.id,
          ...(client.secret === undefined ? {} : { client_secret: client.secret }),
        }).toString(),
      });
      if (res.status !== 200) throw new Error(`revocation failed: ${res.status} ${await res.text()}`);
    },

    setDown(mode) {
      down = mode;
    },

    tokenRequests(grantType, filter = {}) {
      return requests.filter(
        (r) => r.route === 'token' && r.grantType === grantType && (filter.ok === undefined || (r.status === 200) === filter.ok),
      );
    },

    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
