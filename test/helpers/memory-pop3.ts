import { Pop3Error } from '../../lib/pop3/errors.ts';
/**
 * An in-memory POP3 maildrop behind the project's Pop3Client interface, for fast pipeline unit tests. It keeps the
 * RFC 1939 semantics that matter to the pipeline: message numbers fixed for a session, DELE marks applied only by a
 * successful QUIT (UPDATE state), a dropped session deleting nothing, and optionally EXPIRE 0 (every retrieved
 * message removed at QUIT, as some ISPs do).
 */
import { Readable } from 'node:stream';
import type { ListEntry, MessageStream, Pop3Client, Pop3ConnectOptions, UidlEntry } from '../../lib/pop3/types.ts';

export interface MemoryMessage {
  readonly uid: string;
  readonly bytes: Buffer;
}

/** The maildrop fails the way the real client does: with the client's own error class. */
const FakePop3Error = Pop3Error;

export interface MemoryMaildropOptions {
  /** Server-side expiry (CAPA EXPIRE). 0: retrieved messages are removed at QUIT. */
  readonly expire?: number | null;
  readonly supportsUidl?: boolean;
}

export class MemoryMaildrop {
  messages: MemoryMessage[] = [];
  readonly expire: number | null;
  readonly supportsUidl: boolean;
  sessions = 0;
  quits = 0;
  /** Faults for the next session(s). */
  dropDuringRetrOf: string | null = null;
  failQuit = false;
  failConnect: Error | null = null;
  /** RETR's "+OK" carries the octet count (RFC 1939 suggests it; not every server does). */
  announceSizes = true;
  /** LIST answers these sizes instead of the real ones (a server that misstates sizes). */
  readonly listedSizes = new Map<string, number>();
  readonly log: string[] = [];

  constructor(options: MemoryMaildropOptions = {}) {
    this.expire = options.expire ?? null;
    this.supportsUidl = options.supportsUidl ?? true;
  }

  add(uid: string, bytes: Buffer | string): this {
    this.messages.push({ uid, bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes) });
    return this;
  }

  uids(): string[] {
    return this.messages.map((m) => m.uid);
  }

  connect = async (_options: Pop3ConnectOptions): Promise<Pop3Client> => {
    if (this.failConnect !== null) throw this.failConnect;
    this.sessions++;
    return new MemorySession(this);
  };
}

class MemorySession implements Pop3Client {
  readonly capabilities = new Map<string, readonly string[]>([
    ['UIDL', []],
    ['PIPELINING', []],
  ]);
  readonly pipelining = true;
  readonly tls = null;
  readonly authMechanism = 'user' as const;
  readonly expire: number | null;
  readonly loginDelay = null;
  closed = false;
  readonly #drop: MemoryMaildrop;
  readonly #snapshot: MemoryMessage[];
  readonly #marked = new Set<number>();
  readonly #retrieved = new Set<number>();

  constructor(drop: MemoryMaildrop) {
    this.#drop = drop;
    this.#snapshot = [...drop.messages];
    this.expire = drop.expire;
  }

  #live(): void {
    if (this.closed) throw new FakePop3Error('ECLOSED', 'connection closed');
  }

  #get(n: number): MemoryMessage {
    this.#live();
    const m = this.#snapshot[n - 1];
    if (m === undefined || this.#marked.has(n)) throw new FakePop3Error('ECOMMAND', `-ERR no such message ${n}`);
    return m;
  }

  async stat(): Promise<{ count: number; size: number }> {
    this.#live();
    return { count: this.#snapshot.length, size: this.#snapshot.reduce((s, m) => s + m.bytes.length, 0) };
  }

  list(): Promise<ListEntry[]>;
  list(n: number): Promise<ListEntry>;
  async list(n?: number): Promise<ListEntry[] | ListEntry> {
    this.#live();
    const sizeOf = (m: MemoryMessage): number => this.#drop.listedSizes.get(m.uid) ?? m.bytes.length;
    if (n !== undefined) return { n, size: sizeOf(this.#get(n)) };
    return this.#snapshot.map((m, i) => ({ n: i + 1, size: sizeOf(m) })).filter((e) => !this.#marked.has(e.n));
  }

  uidl(): Promise<UidlEntry[]>;
  uidl(n: number): Promise<UidlEntry>;
  async uidl(n?: number): Promise<UidlEntry[] | UidlEntry> {
    this.#live();
    if (!this.#drop.supportsUidl) throw new FakePop3Error('ECOMMAND', '-ERR unknown command');
    if (n !== undefined) return { n, uid: this.#get(n).uid };
    return this.#snapshot.map((m, i) => ({ n: i + 1, uid: m.uid })).filter((e) => !this.#marked.has(e.n));
  }

  async retr(n: number): Promise<MessageStream> {
    const m = this.#get(n);
    this.#retrieved.add(n);
    this.#drop.log.push(`RETR ${m.uid}`);
    if (this.#drop.dropDuringRetrOf === m.uid) {
      this.#drop.dropDuringRetrOf = null;
      const half = m.bytes.subarray(0, Math.floor(m.bytes.length / 2));
      const stream = new Readable({ read() {} });
      stream.push(half);
      setImmediate(() => {
        this.closed = true;
        stream.destroy(new FakePop3Error('ECLOSED', 'connection closed during RETR'));
      });
      return { announcedSize: m.bytes.length, stream };
    }
    // Served in 16 KiB pieces, as a TLS socket delivers them.
    const pieces: Buffer[] = [];
    for (let i = 0; i < m.bytes.length; i += 16384) pieces.push(m.bytes.subarray(i, i + 16384));
    return {
      announcedSize: this.#drop.announceSizes ? m.bytes.length : null,
      stream: Readable.from(pieces.length > 0 ? pieces : [m.bytes]),
    };
  }

  async top(n: number, lines: number): Promise<MessageStream> {
    const m = this.#get(n);
    const text = m.bytes.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    const head = end < 0 ? m.bytes : m.bytes.subarray(0, end + 4);
    if (lines !== 0) throw new Error('the memory maildrop only serves TOP n 0');
    return { announcedSize: null, stream: Readable.from([head]) };
  }

  async dele(n: number): Promise<void> {
    const m = this.#get(n);
    this.#drop.log.push(`DELE ${m.uid}`);
    this.#marked.add(n);
  }

  async rset(): Promise<void> {
    this.#live();
    this.#marked.clear();
  }
  async noop(): Promise<void> {
    this.#live();
  }

  async quit(): Promise<void> {
    this.#live();
    this.closed = true;
    if (this.#drop.failQuit) throw new FakePop3Error('ECLOSED', 'connection closed before QUIT answered');
    this.#drop.quits++;
    this.#drop.log.push('QUIT');
    const gone = new Set<MemoryMessage>();
    for (const n of this.#marked) gone.add(this.#snapshot[n - 1]!);
    if (this.expire === 0) for (const n of this.#retrieved) gone.add(this.#snapshot[n - 1]!);
    this.#drop.messages = this.#drop.messages.filter((m) => !gone.has(m));
  }

  close(): void {
    this.closed = true;
    this.#drop.log.push('CLOSE');
  }
}

/** A small RFC 5322 message; `extra` headers go first. CRLF line endings, as a POP3 server sends them. */
export function sampleMessage(i: number, options: { extra?: string; body?: string; date?: string } = {}): Buffer {
  const lines = [
    ...(options.extra ? [options.extra] : []),
    `Received: from mx.example.jp by pop.example.jp; ${options.date ?? 'Thu, 26 Nov 2026 09:00:00 +0900'}`,
    `From: Sender ${i} <sender${i}@example.com>`,
    'To: support@example.jp',
    `Subject: message ${i}`,
    `Message-ID: <m${i}@example.com>`,
    `Date: ${options.date ?? 'Thu, 26 Nov 2026 09:00:00 +0900'}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    options.body ?? `Body of message ${i}.`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}
