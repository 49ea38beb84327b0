import type { Readable } from 'node:stream';

/** How the connection is secured. `implicit`: TLS from the first byte (POP3S, port 995). `starttls`: plain POP3 upgraded with STLS (RFC 2595, port 110). `none`: never encrypted; credentials are refused unless `allowInsecureAuth` is set. */
export type TlsMode = 'implicit' | 'starttls' | 'none';

/** Authentication mechanism. `auto` picks the strongest the server offers (XOAUTH2, or OAUTHBEARER (RFC 7628) when only that is offered, when an access token is given, then SASL PLAIN, then USER/PASS). APOP is used only when asked for, and never outside TLS. */
export type AuthMechanism = 'auto' | 'user' | 'plain' | 'xoauth2' | 'oauthbearer' | 'apop';

export interface Pop3Timeouts {
  /** TCP connect. @default 15000 */
  readonly connectMs?: number;
  /** TLS handshake (implicit or after STLS). @default 15000 */
  readonly tlsMs?: number;
  /** Server greeting after connect. @default 15000 */
  readonly greetingMs?: number;
  /** Waiting for the status line of any command's response. @default 60000 */
  readonly responseMs?: number;
  /** Silence while a multi-line response (RETR, TOP, LIST, UIDL) is being received. @default 60000 */
  readonly idleMs?: number;
}

export interface Pop3ConnectOptions {
  readonly host: string;
  /** @default 995 for implicit TLS, 110 otherwise */
  readonly port?: number;
  /** @default 'implicit' */
  readonly tls?: TlsMode;
  /** Extra trusted CA certificates (PEM), added to Node's default roots. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Name to verify the certificate against and to send as SNI. @default host */
  readonly servername?: string;
  /** Must be true to send credentials over an unencrypted connection (`tls: 'none'`). @default false */
  readonly allowInsecureAuth?: boolean;
  readonly user: string;
  /** The password (USER/PASS, PLAIN, APOP). Never logged, never put into an error. */
  readonly password?: string;
  /** OAuth 2 access token for AUTH XOAUTH2 or OAUTHBEARER. Never logged. */
  readonly accessToken?: string;
  /** @default 'auto' */
  readonly auth?: AuthMechanism;
  /** Use PIPELINING when the server advertises it. false forces strict lock-step. @default true */
  readonly pipelining?: boolean;
  /** Commands in flight at once when pipelining. @default 64 */
  readonly window?: number;
  /**
   * Send STAT, UIDL and LIST right behind the CAPA that follows login, when the server pipelines (PIPELINING
   * before login: RFC 2449 section 6.6 has it in both states): the first `stat()`, `uidl()` and `list()` calls take
   * their answers, one round trip sooner, unless another command is sent first. @default false
   */
  readonly prefetchListing?: boolean;
  readonly timeouts?: Pop3Timeouts;
  /** Longest status or listing line accepted, in bytes (RFC 2449: 512). @default 8192 */
  readonly maxLineLength?: number;
  /** RETR/TOP streams fail with ETOOLARGE past this many bytes (after unstuffing). @default no limit */
  readonly maxMessageBytes?: number;
  /** Entries one listing (LIST, UIDL, CAPA) may hold before it fails with ELISTINGLIMIT. @default 1000000 */
  readonly maxListingEntries?: number;
  /** Bytes one listing may take on the wire before it fails with ELISTINGLIMIT. @default 67108864 (64 MiB) */
  readonly maxListingBytes?: number;
  /**
   * Minimum transfer rate while a response is being received (ESLOW below it, measured over `minRateWindowMs` of
   * receiving; time our consumer holds the socket paused does not count). 0 for no minimum. @default 1024
   */
  readonly minBytesPerSecond?: number;
  /** @default 30000 */
  readonly minRateWindowMs?: number;
  /** Aborts the session (socket destroyed, pending commands rejected with ECLOSED). */
  readonly signal?: AbortSignal;
}

export interface TlsInfo {
  readonly protocol: string | null;
  readonly cipher: string | null;
  readonly subject: string | null;
  readonly issuer: string | null;
  readonly validTo: string | null;
  readonly fingerprint256: string | null;
}

export interface ListEntry {
  readonly n: number;
  readonly size: number;
}
export interface UidlEntry {
  readonly n: number;
  readonly uid: string;
}

/** A RETR or TOP body: dot-unstuffed, terminator removed, bytes exactly as the server holds them. */
export interface MessageStream {
  /** Size the server announced in "+OK <n> octets", when it did. */
  readonly announcedSize: number | null;
  readonly stream: Readable;
}

/** A logged-in POP3 session (TRANSACTION state). Every method may be called without awaiting the previous one: commands are queued and, when pipelining is in use, sent ahead within the window; responses are matched to commands in order. */
export interface Pop3Client {
  /** CAPA as learned after TLS and after login (keyword upper-cased -> arguments). */
  readonly capabilities: ReadonlyMap<string, readonly string[]>;
  readonly pipelining: boolean;
  /** Null on a plain connection. */
  readonly tls: TlsInfo | null;
  /** The mechanism actually used to log in. */
  readonly authMechanism: Exclude<AuthMechanism, 'auto'>;
  /** CAPA EXPIRE in days: 0 means the server deletes retrieved mail itself, 'never', or null when not advertised. */
  readonly expire: number | 'never' | null;
  /** CAPA LOGIN-DELAY in seconds, or null. */
  readonly loginDelay: number | null;
  stat(): Promise<{ count: number; size: number }>;
  list(): Promise<ListEntry[]>;
  list(n: number): Promise<ListEntry>;
  uidl(): Promise<UidlEntry[]>;
  uidl(n: number): Promise<UidlEntry>;
  /** Resolves on the +OK; the body then flows through `stream` with back-pressure. Destroying the stream early makes the client discard the rest of that response, keeping the session in step. */
  retr(n: number): Promise<MessageStream>;
  top(n: number, lines: number): Promise<MessageStream>;
  dele(n: number): Promise<void>;
  rset(): Promise<void>;
  noop(): Promise<void>;
  /** Sends QUIT and resolves only when the server answered +OK (UPDATE state done: DELE marks took effect). Rejects otherwise: then nothing was deleted. Closes the socket either way. */
  quit(): Promise<void>;
  /** Drops the connection without QUIT (nothing marked is deleted). Pending commands reject with ECLOSED. */
  close(): void;
  /** True once the socket is closed for any reason. */
  readonly closed: boolean;
}
