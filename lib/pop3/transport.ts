import net from 'node:net';
import tls from 'node:tls';
import type { TlsInfo } from './types.ts';
import { Pop3Error } from './errors.ts';
import { peerCertificateInfo, tlsFailureMessage } from './tls-failure.ts';

export interface TransportOptions {
  readonly host: string;
  readonly port: number;
  readonly servername: string;
  /** Extra CAs already merged with tls.rootCertificates, or undefined for Node's defaults. */
  readonly ca: string[] | undefined;
  readonly connectMs: number;
  readonly tlsMs: number;
  readonly signal: AbortSignal | undefined;
}

function abortError(signal: AbortSignal): Pop3Error {
  return new Pop3Error('ECLOSED', 'Connection aborted', { cause: signal.reason, retryable: false });
}

/** Races a socket operation against a timeout and the abort signal; the socket is destroyed on any failure. */
function settle<T>(
  socket: net.Socket,
  o: TransportOptions,
  ms: number,
  what: string,
  run: (ok: (v: T) => void, fail: (e: Pop3Error) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (error: Pop3Error | null, value?: T): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket.on('error', () => {});
        socket.destroy();
        reject(error);
      } else {
        resolve(value as T);
      }
    };
    const onAbort = (): void => finish(abortError(o.signal!));
    const timer = setTimeout(() => finish(new Pop3Error('ETIMEDOUT', `${what} timed out after ${ms} ms`)), ms);
    if (o.signal?.aborted) {
      onAbort();
      return;
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    run(
      (v) => finish(null, v),
      (e) => finish(e),
    );
  });
}

export function connectTcp(o: TransportOptions): Promise<net.Socket> {
  const socket = net.connect({ host: o.host, port: o.port });
  return settle<net.Socket>(socket, o, o.connectMs, `Connecting to ${o.host}:${o.port}`, (ok, fail) => {
    socket.once('connect', () => {
      socket.setNoDelay(true); // commands are batched by the client itself; Nagle would only add latency
      ok(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      fail(new Pop3Error('ECONNECTION', `Cannot connect to ${o.host}:${o.port}: ${error.code ?? error.message}`, { cause: error }));
    });
  });
}

/**
 * TLS over an established TCP socket (implicit TLS, or after STLS). The chain, the expiry and the name are checked
 * by the handshake itself (rejectUnauthorized), so a bad certificate fails before any credential is sent.
 */
export function startTls(plain: net.Socket, o: TransportOptions): Promise<tls.TLSSocket> {
  const name = o.servername;
  let identityError: Error | undefined;
  const secure = tls.connect({
    socket: plain,
    // SNI carries host names only (RFC 6066 section 3).
    servername: net.isIP(name) ? undefined : name,
    ca: o.ca,
    minVersion: 'TLSv1.2',
    // Verified on secureConnect below rather than by rejectUnauthorized, which destroys the socket before the
    // certificate can be read for the error. The same checks, and nothing is written before they pass.
    rejectUnauthorized: false,
    checkServerIdentity: (_host, cert) => (identityError = tls.checkServerIdentity(name, cert)),
  });
  return settle<tls.TLSSocket>(secure, o, o.tlsMs, 'TLS handshake', (ok, fail) => {
    secure.once('secureConnect', () => {
      if (secure.authorized) return ok(secure);
      const reason = String(secure.authorizationError ?? 'certificate not verified');
      const cause: NodeJS.ErrnoException = identityError ?? Object.assign(new Error(reason), { code: reason });
      const certificate = peerCertificateInfo(secure.getPeerCertificate());
      fail(new Pop3Error('ETLS', tlsFailureMessage(name, o.port, cause, certificate), { cause, certificate }));
    });
    secure.once('error', (error: NodeJS.ErrnoException) => {
      fail(new Pop3Error('ETLS', tlsFailureMessage(name, o.port, error, null), { cause: error }));
    });
  });
}

export function tlsInfo(socket: net.Socket): TlsInfo | null {
  if (!(socket instanceof tls.TLSSocket)) return null;
  const cert = socket.getPeerCertificate();
  const name = (n: tls.Certificate | undefined): string | null => {
    if (!n) return null;
    const parts = Object.entries(n).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`);
    return parts.length > 0 ? parts.join(', ') : null;
  };
  return {
    protocol: socket.getProtocol() ?? null,
    cipher: socket.getCipher()?.name ?? null,
    subject: name(cert?.subject),
    issuer: name(cert?.issuer),
    validTo: cert?.valid_to ?? null,
    fingerprint256: cert?.fingerprint256 ?? null,
  };
}
