/**
 * The installed-app sign-in (RFC 8252 with PKCE, RFC 7636): the browser on this machine opens the provider's
 * authorization page and comes back to a one-shot HTTP listener on 127.0.0.1 with a code, which is exchanged for
 * tokens. Google allows no device sign-in for Gmail's scope (its device flow keeps a short list of scopes, and
 * Google documents this flow for command-line tools), so `mail-ingest auth` uses it for Google.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { OAuth2Error } from './errors.ts';
import type { TokenClient, TokenResponse } from './token-client.ts';

export interface LoopbackSignIn {
  /** Open this in a browser on this machine. */
  readonly url: string;
  readonly redirectUri: string;
  /** Resolves with the tokens once the browser came back and the code was exchanged. */
  readonly done: Promise<TokenResponse>;
  close(): Promise<void>;
}

export interface LoopbackOptions {
  readonly signal?: AbortSignal;
  /** @default a free port */
  readonly port?: number;
  /** How long to wait for the browser. @default 10 minutes */
  readonly timeoutMs?: number;
}

const base64url = (b: Buffer) => b.toString('base64url');

/** A page in English and Japanese: the person is looking at the browser, not at the terminal. */
function page(title: string, text: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>mail-ingest</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;
}

export async function startLoopbackSignIn(client: TokenClient, options: LoopbackOptions = {}): Promise<LoopbackSignIn> {
  const authorizationUrl = client.endpoints.authorizationUrl;
  if (authorizationUrl === null) {
    throw new OAuth2Error(
      'EOAUTH2_PROVIDER',
      `${client.profile.label} has no authorization endpoint known to mail-ingest; set oauth2.authorizationUrl`,
    );
  }
  // RFC 7636 section 4.1: 32 random bytes make a 43-character verifier; S256 only.
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  const state = base64url(randomBytes(16));
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // 127.0.0.1, never 0.0.0.0: the code must not be deliverable from another machine (RFC 8252 section 8.3).
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const redirectUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const url = new URL(authorizationUrl);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: redirectUri,
    scope: client.endpoints.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...client.profile.authorizationParams,
  }))
    url.searchParams.set(k, v);

  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const done = new Promise<TokenResponse>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new OAuth2Error('EOAUTH2_EXPIRED', 'nobody signed in within 10 minutes; run mail-ingest auth again')),
      options.timeoutMs ?? 600_000,
    );
    const onAbort = () => finish(new OAuth2Error('EOAUTH2_DENIED', 'sign-in cancelled; nothing was stored'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    function finish(result: TokenResponse | Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      void close();
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    server.on('request', (req, res) => {
      const q = new URL(req.url ?? '/', redirectUri).searchParams;
      const reply = (status: number, html: string) => {
        res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(html);
      };
      // Anything but the provider's redirect (a favicon, a probe) is ignored; a wrong state is someone else's.
      if (req.method !== 'GET' || (!q.has('code') && !q.has('error')) || q.get('state') !== state) {
        reply(404, page('Not found', 'This address only receives the sign-in.'));
        return;
      }
      const error = q.get('error');
      if (error !== null) {
        reply(200, page('Sign-in not completed / サインインは完了していません', 'You may close this tab. / このタブを閉じてください。'));
        finish(
          new OAuth2Error(
            error === 'access_denied' ? 'EOAUTH2_DENIED' : 'EOAUTH2_PROVIDER',
            `the sign-in came back with ${error.replace(/[^\w.-]/g, '?').slice(0, 60)}; nothing was stored`,
            { providerError: error },
          ),
        );
        return;
      }
      reply(
        200,
        page('Signed in / サインインしました', 'mail-ingest has what it needs. You may close this tab. / このタブを閉じてください。'),
      );
      client
        .tokenRequest('exchanging the sign-in code', {
          grant_type: 'authorization_code',
          code: q.get('code')!,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        })
        .then(finish, finish);
    });
  });
  // The browser may come back (or be declined) before the caller awaits `done`: not an unhandled rejection.
  done.catch(() => undefined);
  return { url: url.toString(), redirectUri, done, close };
}
