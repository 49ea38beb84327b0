import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { makeTestCerts } from './certs.ts';
import type { KeyAndCert } from './certs.ts';

/**
 * A scriptable, fault-injecting POP3 server for the client's tests. Every verb is a handler in a map with a
 * happy-path default (RFC 1939 + CAPA, STLS, AUTH PLAIN/XOAUTH2, APOP); a test overrides the handlers it wants to
 * break. Every command line received is recorded with whether it arrived inside TLS, so tests can assert that no
 * credential ever crossed in clear.
 */

export interface FakeMessage {
  uid: string;
  body: Buffer;
}

export interface ReceivedCommand {
  readonly line: string;
  readonly verb: string;
  /** True when the line arrived inside TLS. */
  readonly tls: boolean;
  readonly session: number;
}

export interface FakeSession {
  readonly id: number;
  readonly server: FakePop3Server;
  /** The socket commands are read from (the TLS socket after STLS). */
  socket: net.Socket;
  tls: boolean;
  user: string | null;
  authed: boolean;
  readonly deleted: Set<number>;
  write(data: string | Buffer): boolean;
  ok(text?: string): void;
  err(text?: string): void;
  /** "+OK status", then the body dot-stuffed with CRLF line ends added where missing at the end, then ".". */
  multi(body: Buffer | readonly string[], status?: string): void;
  /** Upgrades to TLS (the STLS handler calls it after its +OK). */
  startTls(): Promise<void>;
  /** Closes after flushing. */
  end(): void;
  /** Drops the connection at once. */
  destroy(): void;
  /** The message for a 1-based number, when it exists and is not deleted. */
  message(n: number): FakeMessage | undefined;
}

export type Handler = (session: FakeSession, args: string[], line: string) => void | Promise<void>;

export interface FakeServerOptions {
  /** 'plain' (STLS available unless stls: false) or 'implicit' TLS. @default 'plain' */
  readonly mode?: 'plain' | 'implicit';
  readonly stls?: boolean;
  readonly messages?: ReadonlyArray<Buffer | string | FakeMessage>;
  /** user -> password. @default { alice: 'secret' } */
  readonly users?: Readonly<Record<string, string>>;
  /** user -> accepted XOAUTH2 token. */
  readonly tokens?: Readonly<Record<string, string>>;
  /** CAPA lines; STLS is added while in clear when STLS is available. */
  readonly capabilities?: readonly string[];
  /** A greeting line (without CRLF) or a function that writes its own. */
  readonly greeting?: string | ((session: FakeSession) => void);
  readonly handlers?: Readonly<Record<string, Handler>>;
  /** Certificate for TLS. @default the test CA's localhost leaf */
  readonly cert?: KeyAndCert;
}

export interface FakePop3Server {
  readonly host: string;
  readonly port: number;
  readonly commands: ReceivedCommand[];
  readonly sessions: FakeSession[];
  readonly handlers: Record<string, Handler>;
  messages: FakeMessage[];
  readonly capabilities: string[];
  /** Verbs received, in order, for assertions. */
  verbs(): string[];
  close(): Promise<void>;
}

export const DEFAULT_CAPABILITIES = ['TOP', 'UIDL', 'USER', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'SASL PLAIN XOAUTH2'];

/** Dot-stuffs a message the way a server sends it (RFC 1939 section 3), terminator included. */
export function dotStuff(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  let lineStart = true;
  for (let i = 0; i < body.length; i++) {
    if (lineStart && body[i] === 0x2e) {
      parts.push(body.subarray(start, i), Buffer.from('.'));
      start = i;
    }
    lineStart = body[i] === 0x0a;
  }
  parts.push(body.subarray(start));
  const endsWithCrlf = body.length >= 2 && body[body.length - 2] === 0x0d && body[body.length - 1] === 0x0a;
  parts.push(Buffer.from(body.length === 0 || endsWithCrlf ? '.\r\n' : '\r\n.\r\n'));
  return Buffer.concat(parts);
}

function toMessage(m: Buffer | string | FakeMessage, i: number): FakeMessage {
  if (Buffer.isBuffer(m)) return { uid: `uid-${i + 1}`, body: m };
  if (typeof m === 'string') return { uid: `uid-${i + 1}`, body: Buffer.from(m, 'utf8') };
  return m;
}

const need = (s: FakeSession): boolean => {
  if (!s.authed) s.err('not logged in');
  return s.authed;
};

function numberArg(s: FakeSession, arg: string | undefined): FakeMessage | null {
  const m = s.message(Number(arg));
  if (!m) {
    s.err('no such message');
    return null;
  }
  return m;
}

/** RFC 1939 behaviour: the defaults every test starts from. */
export function defaultHandlers(): Record<string, Handler> {
  return {
    CAPA: (s) => {
      const caps = [...s.server.capabilities];
      if ((s.server as Internal).stlsAvailable && !s.tls) caps.push('STLS');
      s.multi(caps, 'Capability list follows');
    },
    STLS: async (s) => {
      if (s.tls) {
        s.err('already in TLS');
        return;
      }
      s.ok('Begin TLS negotiation');
      await s.startTls();
    },
    USER: (s, [user]) => {
      s.user = user ?? null;
      s.ok();
    },
    PASS: (s, _args, line) => {
      const password = line.slice(5);
      if (s.user !== null && (s.server as Internal).users[s.user] === password) {
        s.authed = true;
        s.ok('logged in');
      } else s.err('[AUTH] invalid credentials');
    },
    AUTH: (s, [mech, ir]) => {
      const decoded = Buffer.from(ir ?? '', 'base64').toString('utf8');
      const users = (s.server as Internal).users;
      if (mech?.toUpperCase() === 'PLAIN') {
        const [, user, password] = decoded.split('\0');
        if (user !== undefined && users[user] === password) {
          s.user = user;
          s.authed = true;
          s.ok('logged in');
          return;
        }
      } else if (mech?.toUpperCase() === 'XOAUTH2') {
        const m = /^user=([^\x01]*)\x01auth=Bearer ([^\x01]*)\x01\x01$/.exec(decoded);
        if (m && (s.server as Internal).tokens[m[1]!] === m[2]) {
          s.user = m[1]!;
          s.authed = true;
          s.ok('logged in');
          return;
        }
      }
      s.err('[AUTH] authentication failed');
    },
    APOP: (s, [user, digest]) => {
      const stamp = /<[^>]+>/.exec((s.server as Internal).greetingText)?.[0] ?? '';
      const password = (s.server as Internal).users[user ?? ''];
      const want =
        password === undefined
          ? null
          : createHash('md5')
              .update(stamp + password)
              .digest('hex');
      if (want !== null && want === digest) {
        s.user = user!;
        s.authed = true;
        s.ok('logged in');
      } else s.err('[AUTH] authentication failed');
    },
    STAT: (s) => {
      if (!need(s)) return;
      const live = s.server.messages.filter((_, i) => !s.deleted.has(i + 1));
      s.ok(`${live.length} ${live.reduce((n, m) => n + m.body.length, 0)}`);
    },
    LIST: (s, [n]) => {
      if (!need(s)) return;
      if (n !== undefined) {
        const m = numberArg(s, n);
        if (m) s.ok(`${n} ${m.body.length}`);
        return;
      }
      s.multi(s.server.messages.flatMap((m, i) => (s.deleted.has(i + 1) ? [] : [`${i + 1} ${m.body.length}`])));
    },
    UIDL: (s, [n]) => {
      if (!need(s)) return;
      if (n !== undefined) {
        const m = numberArg(s, n);
        if (m) s.ok(`${n} ${m.uid}`);
        return;
      }
      s.multi(s.server.messages.flatMap((m, i) => (s.deleted.has(i + 1) ? [] : [`${i + 1} ${m.uid}`])));
    },
    RETR: (s, [n]) => {
      if (!need(s)) return;
      const m = numberArg(s, n);
      if (m) s.multi(m.body, `${m.body.length} octets`);
    },
    TOP: (s, [n, lines]) => {
      if (!need(s)) return;
      const m = numberArg(s, n);
      if (!m) return;
      const text = m.body.toString('latin1');
      const headerEnd = text.indexOf('\r\n\r\n');
      const head = headerEnd === -1 ? text : text.slice(0, headerEnd + 4);
      const rest =
        headerEnd === -1
          ? []
          : text
              .slice(headerEnd + 4)
              .split(/(?<=\r\n)/)
              .slice(0, Number(lines));
      s.multi(Buffer.from(head + rest.join(''), 'latin1'));
    },
    DELE: (s, [n]) => {
      if (!need(s)) return;
      if (numberArg(s, n)) {
        s.deleted.add(Number(n));
        s.ok('marked');
      }
    },
    RSET: (s) => {
      if (need(s)) {
        s.deleted.clear();
        s.ok();
      }
    },
    NOOP: (s) => {
      if (need(s)) s.ok();
    },
    QUIT: (s) => {
      if (s.authed) s.server.messages = s.server.messages.filter((_, i) => !s.deleted.has(i + 1));
      s.ok('bye');
      s.end();
    },
  };
}

interface Internal extends FakePop3Server {
  users: Record<string, string>;
  tokens: Record<string, string>;
  stlsAvailable: boolean;
  greetingText: string;
}

/** How tests reach `server`: STLS, the test CA inline, alice's literal password (connect options and config alike). */
export function fakeServerLogin(server: FakePop3Server) {
  return { host: '127.0.0.1', port: server.port, tls: 'starttls' as const, ca: makeTestCerts().caPem, user: 'alice', password: 'secret' };
}

/** A config file's mailbox for `server`, reached as fakeServerLogin says. */
export function fakeServerMailbox(id: string, server: FakePop3Server, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, ...fakeServerLogin(server), ...extra };
}

export async function startFakePop3Server(options: FakeServerOptions = {}): Promise<FakePop3Server> {
  const mode = options.mode ?? 'plain';
  const cert = options.cert ?? makeTestCerts();
  const greetingText =
    typeof options.greeting === 'string' ? options.greeting : `+OK fake POP3 ready <${process.pid}.${Date.now()}@fake.example>`;
  const sockets = new Set<net.Socket>();
  let nextId = 1;

  const onConnection = (socket: net.Socket, secure: boolean): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const session = createSession(state, socket, secure, nextId++, cert);
    state.sessions.push(session);
    if (typeof options.greeting === 'function') options.greeting(session);
    else session.write(`${greetingText}\r\n`);
  };

  const server =
    mode === 'implicit'
      ? tls.createServer({ key: cert.keyPem, cert: cert.certPem }, (s) => onConnection(s, true))
      : net.createServer((s) => onConnection(s, false));
  server.on('tlsClientError', () => {});

  const state: Internal = {
    host: '127.0.0.1',
    port: 0,
    commands: [],
    sessions: [],
    handlers: { ...defaultHandlers(), ...options.handlers },
    messages: (options.messages ?? []).map(toMessage),
    capabilities: [...(options.capabilities ?? DEFAULT_CAPABILITIES)],
    users: { alice: 'secret', ...options.users },
    tokens: { ...options.tokens },
    stlsAvailable: mode === 'plain' && options.stls !== false,
    greetingText,
    verbs: () => state.commands.map((c) => c.verb),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (state as { port: number }).port = (server.address() as net.AddressInfo).port;
  return state;
}

function createSession(server: Internal, socket: net.Socket, secure: boolean, id: number, cert: KeyAndCert): FakeSession {
  let buffered = '';
  let chain = Promise.resolve();
  let upgrading = false;
  const onData = (chunk: Buffer): void => {
    if (upgrading) return; // bytes pipelined past STLS are dropped, as RFC 2595 requires of a server
    buffered += chunk.toString('latin1');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl).replace(/\r$/, '');
      buffered = buffered.slice(nl + 1);
      const [verbRaw = '', ...args] = line.split(' ');
      const verb = verbRaw.toUpperCase();
      server.commands.push({ line, verb, tls: session.tls, session: id });
      chain = chain
        .then(async () => {
          if (session.socket.destroyed) return;
          const handler = server.handlers[verb];
          if (handler) await handler(session, args, line);
          else session.err('unknown command');
        })
        .catch(() => session.destroy());
    }
  };
  const session: FakeSession = {
    id,
    server,
    socket,
    tls: secure,
    user: null,
    authed: false,
    deleted: new Set(),
    write: (data) => (session.socket.destroyed ? false : session.socket.write(data)),
    ok: (text) => {
      session.write(`+OK${text ? ` ${text}` : ''}\r\n`);
    },
    err: (text) => {
      session.write(`-ERR${text ? ` ${text}` : ''}\r\n`);
    },
    multi: (body, status) => {
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.map((l) => `${l}\r\n`).join(''), 'latin1');
      session.write(Buffer.concat([Buffer.from(`+OK${status ? ` ${status}` : ''}\r\n`), dotStuff(bytes)]));
    },
    startTls: () =>
      new Promise<void>((resolve, reject) => {
        const plain = session.socket;
        upgrading = true;
        plain.off('data', onData);
        buffered = '';
        const secureSocket = new tls.TLSSocket(plain, { isServer: true, key: cert.keyPem, cert: cert.certPem });
        secureSocket.on('error', () => {});
        secureSocket.once('secure', () => {
          session.socket = secureSocket;
          session.tls = true;
          upgrading = false;
          secureSocket.on('data', onData);
          resolve();
        });
        secureSocket.once('close', () => reject(new Error('closed during TLS handshake')));
      }),
    end: () => {
      session.socket.end();
    },
    destroy: () => {
      session.socket.destroy();
    },
    message: (n) => (Number.isSafeInteger(n) && n >= 1 && !session.deleted.has(n) ? server.messages[n - 1] : undefined),
  };
  socket.on('data', onData);
  return session;
}
