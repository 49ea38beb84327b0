import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CommitResult, RawStore, StagedRaw } from '../store/types.ts';
import type { ParsedMessage } from '../document/metadata-schema.ts';
import { hashUidl, rawKey } from '../store/keys.ts';
import { arrivalDate } from '../parse/arrival-date.ts';
import { letHeapGrow } from './heap-growth.ts';
import { loadParser } from './load-parser.ts';
import { MessageOverLimitError } from './errors.ts';
import { HEAD_BYTES, headerFingerprint } from './message-headers.ts';

/**
 * Hashes and measures the bytes on their way to the store, keeps the first 64 KiB (the headers that decide the
 * archive date), and hands the same bytes to the parser. The parser branch applies back-pressure like the store
 * does; if the parser stops early (a limit hit, a broken message) its branch is simply dropped: parsing can never
 * hold up or fail the archiving of the raw bytes.
 */
class Observer extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  readonly branch: PassThrough;
  readonly #maxBytes: number;
  #branchOpen = true;
  #flushed = false;

  constructor(branch: PassThrough, maxBytes: number) {
    super();
    this.branch = branch;
    this.#maxBytes = maxBytes;
    const close = (): void => {
      this.#branchOpen = false;
    };
    branch.once('close', close);
    branch.once('error', close);
  }

  get head(): Buffer {
    return Buffer.concat(this.#head);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    // Checked before the chunk goes on: the store never receives a byte past the limit.
    if (this.size + chunk.length > this.#maxBytes) {
      done(new MessageOverLimitError(this.#maxBytes, this.size + chunk.length, this.head, false));
      return;
    }
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.#headBytes < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.#headBytes);
      this.#head.push(Buffer.from(part));
      this.#headBytes += part.length;
    }
    if (!this.#branchOpen || this.branch.write(chunk)) return done(null, chunk);
    const resume = (): void => {
      this.branch.off('drain', resume);
      this.branch.off('close', resume);
      done(null, chunk);
    };
    this.branch.on('drain', resume);
    this.branch.on('close', resume);
  }

  override _flush(done: TransformCallback): void {
    this.#flushed = true;
    if (this.#branchOpen) this.branch.end();
    done();
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    // autoDestroy runs this after a normal end too: the parser may still be reading what it was given.
    if (this.#branchOpen && !this.#flushed) this.branch.destroy();
    done(err);
  }
}

export interface StoredMessage {
  readonly ref: CommitResult;
  readonly parsed: ParsedMessage;
}

/** A message received in full and staged: its hash is known, nothing is durable yet. */
export interface ReceivedMessage {
  readonly sha256: string;
  readonly size: number;
  /** SHA-256 of the header block (headerFingerprint). */
  readonly headerSha256: string;
  /** Makes the bytes durable under their content-addressed key and verifies them; resolves with the parse. */
  commit(): Promise<StoredMessage>;
  abort(): Promise<void>;
}

export interface ReceiveContext {
  readonly store: RawStore;
  readonly mailbox: string;
  readonly uidl: string;
  readonly now: Date;
  /** The size LIST announced. Small messages are gathered into one buffer instead of streamed through a tee. */
  readonly sizeHint?: number;
  /**
   * maxMessageBytes, held against the bytes received: past it, reading stops with MessageOverLimitError (carrying
   * the head), before any byte past it reaches the store. The source is then left unread: the caller ends the
   * session, since an unread POP3 body can only be cut by dropping the connection.
   */
  readonly maxBytes: number;
  /** The size RETR's "+OK <n> octets" announced, when it did: over maxBytes, only the head is read. */
  readonly announcedSize?: number | null;
}

/**
 * Below this (by LIST size), a message is gathered in memory: most mail is a few KB, and for it the per-message
 * cost of a streaming tee (a handful of stream objects, a pipeline and its AbortController) outweighs the bytes.
 * The store contract is the same: the bytes go to the staged writable, which hashes them independently.
 */
const BUFFERED_MAX = 256 * 1024;

/** Past this, a message announced as small is streamed after all (a server may misstate sizes in LIST). */
const SPILL_AT = 4 * BUFFERED_MAX;

async function receiveBuffered(bytes: Buffer, ctx: ReceiveContext): Promise<ReceivedMessage> {
  const staged = await ctx.store.stage(ctx.mailbox, { uidlHash: hashUidl(ctx.mailbox, ctx.uidl) });
  try {
    await new Promise<void>((resolve, reject) => {
      staged.writable.once('error', reject);
      staged.writable.end(bytes, () => {
        staged.writable.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await staged.abort().catch(() => undefined);
    throw err;
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const key = rawKey(ctx.mailbox, arrivalDate(bytes.subarray(0, HEAD_BYTES), ctx.now), sha256, ctx.store.keyPrefix);
  const abort = async (): Promise<void> => {
    await staged.abort().catch(() => undefined);
  };
  return {
    sha256,
    size: bytes.length,
    abort,
    headerSha256: headerFingerprint(bytes),
    async commit() {
      const parsing = loadParser().then((parseMessage) => parseMessage(bytes));
      try {
        const ref = await staged.commit(key, { sha256, size: bytes.length });
        return { ref, parsed: await parsing };
      } catch (err) {
        await abort();
        await parsing;
        throw err;
      }
    },
  };
}

/** The beginning of a body, up to its header block or HEAD_BYTES, read without consuming the rest. */
async function readHead(it: AsyncIterator<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < HEAD_BYTES) {
    const { value, done } = await it.next();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (value.includes('\r\n\r\n') || value.includes('\n\n')) break;
  }
  return Buffer.concat(chunks, size).subarray(0, HEAD_BYTES);
}

/** Receives one message: gathered in memory when LIST says it is small, streamed otherwise. */
export async function receiveMessage(source: Readable, ctx: ReceiveContext): Promise<ReceivedMessage> {
  if (ctx.announcedSize != null && ctx.announcedSize > ctx.maxBytes) {
    // Over the limit by the server's own count: the headers are all that is wanted, and all that is read.
    const head = await readHead(source[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
    throw new MessageOverLimitError(ctx.maxBytes, ctx.announcedSize, head, true);
  }
  if (ctx.sizeHint === undefined || ctx.sizeHint > BUFFERED_MAX) return receiveStreamed(source, ctx);
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await it.next();
    if (done) return receiveBuffered(Buffer.concat(chunks, size), ctx);
    if (size + value.length > ctx.maxBytes) {
      throw new MessageOverLimitError(ctx.maxBytes, size + value.length, Buffer.concat([...chunks, value]).subarray(0, HEAD_BYTES), false);
    }
    chunks.push(value);
    size += value.length;
    if (size > SPILL_AT) {
      const rest = Readable.from(
        (async function* () {
          yield* chunks;
          for (;;) {
            const r = await it.next();
            if (r.done) return;
            yield r.value;
          }
        })(),
        { objectMode: false },
      );
      rest.once('close', () => {
        void it.return?.();
      });
      return receiveStreamed(rest, ctx);
    }
  }
}

/**
 * Streams one message into a staged write and parses it on the way. Receiving is sequential (one POP3 socket);
 * committing is not, so the caller can overlap the commit of one message (fsync, upload) with receiving the next.
 */
async function receiveStreamed(source: Readable, ctx: ReceiveContext): Promise<ReceivedMessage> {
  letHeapGrow();
  let staged: StagedRaw;
  try {
    staged = await ctx.store.stage(ctx.mailbox, { uidlHash: hashUidl(ctx.mailbox, ctx.uidl) });
  } catch (err) {
    // An unread body holds back the pipelined responses behind it: discard it, or the session stalls.
    source.destroy();
    throw err;
  }
  const branch = new PassThrough();
  const observer = new Observer(branch, ctx.maxBytes);
  const parsing = loadParser().then((parseMessage) => parseMessage(branch));
  const abort = async (): Promise<void> => {
    branch.destroy();
    await staged.abort().catch(() => undefined);
    await parsing.catch(() => undefined);
  };
  try {
    await pipeline(source, observer, staged.writable);
  } catch (err) {
    await abort();
    throw err;
  }
  const sha256 = observer.hash.digest('hex');
  const size = observer.size;
  const key = rawKey(ctx.mailbox, arrivalDate(observer.head, ctx.now), sha256, ctx.store.keyPrefix);
  return {
    sha256,
    size,
    abort,
    headerSha256: headerFingerprint(observer.head),
    async commit() {
      try {
        const ref = await staged.commit(key, { sha256, size });
        return { ref, parsed: await parsing };
      } catch (err) {
        await abort();
        throw err;
      }
    },
  };
}
