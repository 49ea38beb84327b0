import http from 'node:http';
import https from 'node:https';
import { OAuth2Error } from './errors.ts';

export interface HttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface PostFormOptions {
  /** The whole exchange, connect to last byte. @default 15000 */
  readonly timeoutMs?: number;
  /** Longest answer accepted; a token response is a few KB. @default 65536 */
  readonly maxBytes?: number;
  readonly signal?: AbortSignal;
}

/** One HTTP POST of a form to a token endpoint. Tests and callers with their own transport pass another. */
export type PostForm = (url: string, form: Readonly<Record<string, string>>, options?: PostFormOptions) => Promise<HttpResponse>;

/** Only the origin: a path may carry a tenant, which is fine, but a query could carry anything. */
export function endpointLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * POSTs `application/x-www-form-urlencoded` over HTTPS (certificates verified against the system roots and
 * NODE_EXTRA_CA_CERTS), or plain HTTP where the config allowed it (loopback only). Bounded in time and size.
 * Errors name the endpoint and the system error code: never the form, which holds the refresh token and secret.
 */
export const postForm: PostForm = (url, form, options = {}) =>
  new Promise<HttpResponse>((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 15_000;
    const maxBytes = options.maxBytes ?? 65_536;
    const where = endpointLabel(url);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new OAuth2Error('EOAUTH2_PROVIDER', `token endpoint ${JSON.stringify(where)} is not a URL`));
      return;
    }
    const body = Buffer.from(new URLSearchParams(form).toString(), 'utf8');
    const transport = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : null;
    if (transport === null) {
      reject(new OAuth2Error('EOAUTH2_PROVIDER', `token endpoint ${where}: only https:// is supported`));
      return;
    }
    const fail = (err: unknown, message: string) => {
      clearTimeout(timer);
      reject(err instanceof OAuth2Error ? err : new OAuth2Error('EOAUTH2_UNAVAILABLE', message, { cause: err }));
    };
    // agent: false, no keep-alive: a refresh happens about once an hour, and an idle socket would keep a CLI alive.
    const req = transport.request(
      target,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(body.length),
          accept: 'application/json',
          'user-agent': 'mail-ingest',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            res.destroy();
            fail(
              new OAuth2Error('EOAUTH2_RESPONSE', `token endpoint ${where} answered more than ${maxBytes} bytes`, {
                status: res.statusCode,
              }),
              '',
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', (err) => fail(err, `token endpoint ${where}: the answer broke off (${errnoOf(err)})`));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      fail(new OAuth2Error('EOAUTH2_UNAVAILABLE', `token endpoint ${where} did not answer within ${timeoutMs} ms`), '');
    }, timeoutMs);
    const onAbort = () => {
      req.destroy();
      fail(
        new OAuth2Error('EOAUTH2_UNAVAILABLE', `token request to ${where} aborted`, { cause: options.signal?.reason, retryable: false }),
        '',
      );
    };
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => options.signal?.removeEventListener('abort', onAbort));
    req.on('error', (err) => {
      const code = errnoOf(err);
      const tls = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code);
      // A certificate that does not verify will not verify on retry either.
      fail(
        tls
          ? new OAuth2Error('EOAUTH2_UNAVAILABLE', `token endpoint ${where}: TLS certificate not trusted (${code})`, {
              cause: err,
              retryable: false,
            })
          : err,
        `cannot reach the token endpoint ${where} (${code})`,
      );
    });
    req.end(body);
  });

function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}
