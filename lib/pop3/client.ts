import { authenticate, chooseMechanism } from './auth.ts';
import type { Capabilities } from './capabilities.ts';
import { capaCommand, parseExpire, parseLoginDelay } from './capabilities.ts';
import * as cmd from './commands.ts';
import { Pop3Connection } from './connection.ts';
import { Pop3Error } from './errors.ts';
import { resolveOptions } from './options.ts';
import { connectTcp, startTls, tlsInfo } from './transport.ts';
import { enableUtf8 } from './utf8.ts';
import type { AuthMechanism, ListEntry, MessageStream, Pop3Client, Pop3ConnectOptions, TlsInfo, UidlEntry } from './types.ts';

/** CAPA, or no capabilities when the server predates RFC 2449 and answers -ERR. */
async function readCapabilities(conn: Pop3Connection): Promise<Capabilities> {
  try {
    return await conn.send(capaCommand);
  } catch (error) {
    if (error instanceof Pop3Error && error.code === 'ECOMMAND') return new Map();
    throw error;
  }
}

/**
 * RFC 2449 section 8.1.1: [LOGIN-DELAY] says the user logged in too recently; the CAPA seen before login says for
 * how long logins are spaced (section 6.8). The refusal carries that figure, so a scheduler can wait it out.
 */
function withLoginDelay(error: unknown, caps: Capabilities): unknown {
  if (!(error instanceof Pop3Error) || error.code !== 'ELOGINDELAY') return error;
  const seconds = parseLoginDelay(caps);
  if (seconds === null) return error;
  return new Pop3Error('ELOGINDELAY', `${error.message} (the server allows one login every ${seconds} s)`, {
    ...(error.command === undefined ? {} : { command: error.command }),
    ...(error.response === undefined ? {} : { response: error.response }),
    ...(error.responseCode === undefined ? {} : { responseCode: error.responseCode }),
    retryAfterSeconds: seconds,
    cause: error,
  });
}

/**
 * Opens a session and logs in: TCP, TLS (implicit) or STLS, greeting, CAPA, UTF8 when offered, login, CAPA again.
 * Resolves in the TRANSACTION state. On any failure the socket is closed and the promise rejects with a Pop3Error.
 */
export async function connectPop3(options: Pop3ConnectOptions): Promise<Pop3Client> {
  const o = resolveOptions(options);
  let socket = await connectTcp(o.transport);
  if (o.tls === 'implicit') socket = await startTls(socket, o.transport);
  const conn = new Pop3Connection(socket, o.connection);
  const signal = o.transport.signal;
  const onAbort = (): void => conn.fail(new Pop3Error('ECLOSED', 'Session aborted', { cause: signal?.reason, retryable: false }));
  signal?.addEventListener('abort', onAbort, { once: true });
  conn.onClosed = () => signal?.removeEventListener('abort', onAbort);
  if (signal?.aborted) onAbort();
  try {
    const greeting = await conn.greeting;
    let caps = await readCapabilities(conn);
    if (o.tls === 'starttls') {
      // RFC 2595 section 4 and CVE-2021-39272: no STLS, no login. Never fall back to clear text.
      if (!caps.has('STLS')) throw new Pop3Error('ESTLS', 'STLS is required but the server does not advertise it', { command: 'STLS' });
      try {
        await conn.send({ line: 'STLS', verb: 'STLS', kind: 'single', upgrade: true, parse: () => undefined });
      } catch (error) {
        const e = error as Pop3Error;
        if (e.response === undefined) throw e;
        throw new Pop3Error('ESTLS', 'Server refused STLS', {
          command: 'STLS',
          response: e.response,
          responseCode: e.responseCode,
          cause: e,
        });
      }
      await conn.upgrade((plain) => startTls(plain, o.transport));
      caps = await readCapabilities(conn); // what was learned in clear may have been forged
    }
    // RFC 6856: before login and after STLS, from the CAPA learned inside TLS (see utf8.ts).
    await enableUtf8(conn, caps);
    const mechanism = chooseMechanism(o, caps);
    try {
      await authenticate(conn, o, mechanism, greeting, o.tls !== 'none');
    } catch (error) {
      throw withLoginDelay(error, caps);
    }
    // RFC 2449 section 5: capabilities may change after login (per-user EXPIRE, LOGIN-DELAY, PIPELINING). Only
    // sent once the login is answered: Courier, though it offers PIPELINING, loses what it read behind the login.
    const reading = readCapabilities(conn);
    const listing = o.prefetchListing && o.pipelining && caps.has('PIPELINING') ? prefetchListing(conn, o.window) : null;
    const after = await reading;
    if (after.size > 0) caps = after;
    const pipelining = o.pipelining && caps.has('PIPELINING');
    conn.setWindow(pipelining ? o.window : 1);
    return new Pop3Session(conn, {
      caps,
      pipelining,
      mechanism,
      tls: tlsInfo(conn.currentSocket),
      maxMessageBytes: o.connection.maxMessageBytes,
      listing,
    });
  } catch (error) {
    // The session's own fatal error (e.g. EPROTOCOL) says more than the ECLOSED of a command queued after it.
    const e = conn.failure ?? (error instanceof Pop3Error ? error : new Pop3Error('EPROTOCOL', 'Login failed', { cause: error }));
    conn.fail(e);
    throw e;
  }
}

/** STAT, UIDL and LIST answers asked for before the session was handed out. */
interface Prefetched {
  stat?: Promise<{ count: number; size: number }>;
  uidl?: Promise<UidlEntry[]>;
  list?: Promise<ListEntry[]>;
}

/**
 * Queues STAT, UIDL and LIST behind the post-login CAPA, in the same flight. A server that pipelines before login
 * does after it; one that dropped PIPELINING after login still answers in order, as every POP3 server reads its
 * commands one after another. Nobody may await an answer yet: a failure is seen by whoever takes it.
 */
function prefetchListing(conn: Pop3Connection, window: number): Prefetched {
  conn.setWindow(window);
  const listing: Prefetched = { stat: conn.send(cmd.stat), uidl: conn.send(cmd.uidlAll), list: conn.send(cmd.listAll) };
  for (const p of [listing.stat, listing.uidl, listing.list]) p?.catch(() => undefined);
  return listing;
}

interface SessionInfo {
  readonly caps: Capabilities;
  readonly pipelining: boolean;
  readonly mechanism: Exclude<AuthMechanism, 'auto'>;
  readonly tls: TlsInfo | null;
  readonly maxMessageBytes: number;
  readonly listing: Prefetched | null;
}

class Pop3Session implements Pop3Client {
  readonly capabilities: Capabilities;
  readonly pipelining: boolean;
  readonly tls: TlsInfo | null;
  readonly authMechanism: Exclude<AuthMechanism, 'auto'>;
  readonly expire: number | 'never' | null;
  readonly loginDelay: number | null;
  private readonly conn: Pop3Connection;
  private readonly maxMessageBytes: number;
  /** Answers sent for at login; given to the first calls, and dropped once any other command is sent. */
  private prefetched: Prefetched | null;

  constructor(conn: Pop3Connection, info: SessionInfo) {
    this.conn = conn;
    this.prefetched = info.listing;
    this.capabilities = info.caps;
    this.pipelining = info.pipelining;
    this.tls = info.tls;
    this.authMechanism = info.mechanism;
    this.expire = parseExpire(info.caps);
    this.loginDelay = parseLoginDelay(info.caps);
    this.maxMessageBytes = info.maxMessageBytes;
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  /** The prefetched answer for `verb`, once; asked again (or after another command), there is none. */
  private take<K extends keyof Prefetched>(verb: K): Prefetched[K] | undefined {
    const p = this.prefetched;
    if (p === null) return undefined;
    const answer = p[verb];
    p[verb] = undefined;
    if (answer === undefined) this.prefetched = null;
    return answer;
  }

  /** Another command is being sent: answers prefetched but not taken are stale from now on. */
  private forget(): void {
    this.prefetched = null;
  }

  // Methods are async so that a bad argument rejects instead of throwing; the command is still queued
  // synchronously, which keeps responses in the order the calls were made.
  async stat(): Promise<{ count: number; size: number }> {
    return this.take('stat') ?? this.conn.send(cmd.stat);
  }

  list(): Promise<ListEntry[]>;
  list(n: number): Promise<ListEntry>;
  async list(n?: number): Promise<ListEntry[] | ListEntry> {
    if (n === undefined) return this.take('list') ?? this.conn.send(cmd.listAll);
    cmd.checkArg(n, 'message number', 1);
    this.forget();
    return this.conn.send(cmd.listOne(n));
  }

  uidl(): Promise<UidlEntry[]>;
  uidl(n: number): Promise<UidlEntry>;
  async uidl(n?: number): Promise<UidlEntry[] | UidlEntry> {
    if (n === undefined) return this.take('uidl') ?? this.conn.send(cmd.uidlAll);
    cmd.checkArg(n, 'message number', 1);
    this.forget();
    return this.conn.send(cmd.uidlOne(n));
  }

  async retr(n: number): Promise<MessageStream> {
    cmd.checkArg(n, 'message number', 1);
    this.forget();
    return this.conn.send(cmd.retr(n, this.maxMessageBytes));
  }

  async top(n: number, lines: number): Promise<MessageStream> {
    cmd.checkArg(n, 'message number', 1);
    cmd.checkArg(lines, 'line count', 0);
    this.forget();
    return this.conn.send(cmd.top(n, lines));
  }

  async dele(n: number): Promise<void> {
    cmd.checkArg(n, 'message number', 1);
    this.forget();
    return this.conn.send(cmd.dele(n));
  }

  async rset(): Promise<void> {
    this.forget();
    return this.conn.send(cmd.rset);
  }
  async noop(): Promise<void> {
    this.forget();
    return this.conn.send(cmd.noop);
  }

  async quit(): Promise<void> {
    try {
      this.forget();
      await this.conn.send(cmd.quit);
    } finally {
      this.conn.close();
    }
  }

  close(): void {
    this.conn.close();
  }
}
