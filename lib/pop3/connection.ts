import type { Socket } from 'node:net';
import { BodyStream } from './body-stream.ts';
import type { CommandSpec, RawResponse } from './command.ts';
import { DotDecoder } from './dot-unstuffer.ts';
import { Pop3Error, errorFromResponse, sanitize } from './errors.ts';
import { LineReader } from './line-reader.ts';
import { ListingBuffer } from './listing-buffer.ts';
import { RateGuard } from './rate-guard.ts';

export interface ConnectionOptions {
  readonly greetingMs: number;
  readonly responseMs: number;
  readonly idleMs: number;
  readonly maxLineLength: number;
  readonly maxMessageBytes: number;
  /** Lines of one listing (LIST, UIDL, CAPA) accepted before it is refused (ELISTINGLIMIT). */
  readonly maxListingEntries: number;
  /** Bytes of one listing accepted before it is refused: what a listing may cost in memory is bounded by both. */
  readonly maxListingBytes: number;
  /** Below this over `minRateWindowMs` of receiving, the session fails with ESLOW; 0 for no minimum. */
  readonly minBytesPerSecond: number;
  readonly minRateWindowMs: number;
  readonly streamHighWaterMark: number;
}

interface Pending {
  readonly spec: CommandSpec<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Pop3Error) => void;
  stream: BodyStream | null;
}

type Mode = 'status' | 'lines' | 'body';

const GREETING: CommandSpec<string> = { line: '', verb: 'greeting', kind: 'single', errorCode: 'ECONNECTION', parse: (r) => r.text };

/**
 * One POP3 session over one socket: a queue of commands, a window of them in flight, and a reader that matches
 * responses to commands in order. Every failure that may leave the stream out of step (timeout, garbage, a close,
 * a body over the cap) is fatal: the socket is destroyed and every pending command rejects.
 */
export class Pop3Connection {
  private socket: Socket;
  private readonly opts: ConnectionOptions;
  private readonly queue: Pending[] = []; // not sent yet
  private readonly inflight: Pending[] = []; // sent, response not complete
  private window = 1;
  private unconsumed = 0; // bodies fully received but not yet read to the end: they hold memory, so they use the window
  private mode: Mode = 'status';
  private readonly lineReader: LineReader;
  private readonly listing: ListingBuffer;
  private decoder: DotDecoder | null = null;
  private buffer: Buffer | null = null; // received, not yet parsed (held while paused)
  private paused = false; // back-pressure from a body stream
  private detached = false; // STLS +OK received: the plain socket must stay silent
  private draining = false;
  private flushScheduled = false;
  private quitting = false;
  private eof = false;
  private timer: NodeJS.Timeout | null = null;
  private timerMs = 0;
  private readonly rate: RateGuard | null;
  private pausedInTick = false; // our consumer paused the socket since the rate guard's last tick
  private fatalError: Pop3Error | null = null;
  readonly greeting: Promise<string>;
  /** Called once when the session ends, whatever the reason. */
  onClosed: (() => void) | null = null;
  private readonly onDataBound = (chunk: Buffer): void => this.onData(chunk);
  private readonly onCloseBound = (): void => this.onClose();
  private readonly onErrorBound = (error: Error): void => {
    this.fail(new Pop3Error('ECONNECTION', `Socket error: ${error.message}`, { cause: error }));
  };

  constructor(socket: Socket, opts: ConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.lineReader = new LineReader(opts.maxLineLength);
    this.listing = new ListingBuffer(opts.maxListingEntries, opts.maxListingBytes);
    this.greeting = new Promise<string>((resolve, reject) => {
      this.inflight.push({ spec: GREETING, resolve: resolve as (v: unknown) => void, reject, stream: null });
    });
    this.greeting.catch(() => {}); // observed by the caller; never an unhandled rejection here
    this.rate =
      opts.minBytesPerSecond <= 0
        ? null
        : new RateGuard(opts.minBytesPerSecond, opts.minRateWindowMs, {
            receiving: () => this.receivingSinceTick(),
            verb: () => this.inflight[0]?.spec.verb ?? 'response',
            fail: (error) => this.fail(error),
          });
    this.attach(socket);
  }

  get closed(): boolean {
    return this.fatalError !== null;
  }

  get currentSocket(): Socket {
    return this.socket;
  }

  /** The error that ended the session, if it has ended. */
  get failure(): Pop3Error | null {
    return this.fatalError;
  }

  /** Window of commands in flight: 1 is lock-step. */
  setWindow(window: number): void {
    this.window = Math.max(1, window);
    this.scheduleFlush();
  }

  send<T>(spec: CommandSpec<T>): Promise<T> {
    if (this.fatalError || this.quitting) {
      const cause = this.fatalError ?? undefined;
      return Promise.reject(new Pop3Error('ECLOSED', `Cannot send ${spec.verb}: the session is closed`, { command: spec.verb, cause }));
    }
    if (spec.quit) this.quitting = true;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ spec, resolve: resolve as (v: unknown) => void, reject, stream: null });
      this.scheduleFlush();
    });
  }

  /** Fatal error: destroy the socket; the command being answered gets `error`, every other one ECLOSED. */
  fail(error: Pop3Error): void {
    if (this.fatalError) return;
    this.fatalError = error;
    this.clearTimer();
    this.rate?.stop();
    this.detach(this.socket);
    this.socket.on('error', () => {}); // late errors of a destroyed socket are not news
    this.socket.destroy();
    this.buffer = null;
    this.onClosed?.();
    const all = [...this.inflight.splice(0), ...this.queue.splice(0)];
    all.forEach((p, i) => {
      const err =
        i === 0 || error.code === 'ECLOSED'
          ? error
          : new Pop3Error('ECLOSED', `${p.spec.verb} not completed: the session closed (${error.code})`, {
              command: p.spec.verb,
              cause: error,
            });
      p.stream?.destroy(err);
      p.reject(err); // a no-op when the promise already resolved with the stream
    });
  }

  /** Ends the session without QUIT. */
  close(): void {
    this.fail(new Pop3Error('ECLOSED', 'Connection closed by the client'));
  }

  /**
   * STLS: once its +OK is in, swaps the plain socket for the TLS one `wrap` returns. Any byte that arrived after
   * the +OK (RFC 2595 section 4; CVE-2021-39272) aborts the session.
   */
  async upgrade(wrap: (plain: Socket) => Promise<Socket>): Promise<void> {
    if (this.fatalError) throw this.fatalError;
    const plain = this.socket;
    this.detach(plain);
    if (this.buffer || plain.readableLength > 0) {
      this.fail(new Pop3Error('ESTLS', 'Server sent data after the STLS reply, before the TLS handshake', { command: 'STLS' }));
      throw this.fatalError;
    }
    plain.on('error', () => {});
    try {
      this.socket = await wrap(plain);
    } catch (error) {
      this.fail(error instanceof Pop3Error ? error : new Pop3Error('ETLS', 'TLS upgrade failed', { cause: error }));
      throw this.fatalError;
    }
    if (this.fatalError) {
      this.socket.destroy();
      throw this.fatalError;
    }
    this.detached = false;
    this.attach(this.socket);
    this.scheduleFlush();
  }

  private attach(socket: Socket): void {
    socket.on('data', this.onDataBound);
    socket.on('close', this.onCloseBound);
    socket.on('error', this.onErrorBound);
    this.updateTimer();
  }

  private detach(socket: Socket): void {
    socket.off('data', this.onDataBound);
    socket.off('close', this.onCloseBound);
    socket.off('error', this.onErrorBound);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes as many queued commands as the window allows, in one write (one syscall, one TCP segment). */
  private flush(): void {
    if (this.fatalError || this.detached) return;
    // Refill the window in batches, once a quarter of it is free (or all that is queued fits), not one command per
    // response: over TLS each write is a record and a syscall, a measurable cost per message. Commands in flight
    // always complete without new ones, so waiting for them never deadlocks.
    if (this.inflight.length > 0 && this.queue.length > 0) {
      const free = this.window - this.inflight.length - this.unconsumed;
      if (free < Math.min(this.queue.length, Math.max(1, Math.floor(this.window / 4)))) {
        this.updateTimer();
        return;
      }
    }
    let out = '';
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      // Unread bodies only hold back more bodies: a DELE or QUIT after a stream the caller left unread never hangs.
      if (this.inflight.length + (next.spec.kind === 'body' ? this.unconsumed : 0) >= this.window) break;
      const last = this.inflight[this.inflight.length - 1];
      // STLS, SASL exchanges and the greeting are never pipelined past.
      if (last && (last.spec.upgrade || last.spec.onContinuation || last.spec === GREETING)) break;
      if (this.inflight.length > 0 && (next.spec.upgrade || next.spec.onContinuation)) break;
      this.queue.shift();
      this.inflight.push(next);
      out += `${next.spec.line}\r\n`;
    }
    if (out) this.socket.write(out);
    this.updateTimer();
  }

  private onData(chunk: Buffer): void {
    if (this.fatalError) return;
    if (this.detached) {
      this.fail(new Pop3Error('ESTLS', 'Server sent data after the STLS reply, before the TLS handshake', { command: 'STLS' }));
      return;
    }
    this.timer?.refresh();
    this.rate?.record(chunk.length);
    this.buffer = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    this.drain();
  }

  private onClose(): void {
    this.eof = true;
    if (!this.buffer) this.afterEof();
  }

  private afterEof(): void {
    if (this.fatalError) return;
    const head = this.inflight[0];
    const done = !head && this.queue.length === 0 && this.quitting;
    const what = head ? ` while waiting for the ${head.spec.verb} response` : '';
    this.fail(
      new Pop3Error(
        'ECLOSED',
        done ? 'Connection closed after QUIT' : `Connection closed by the server${what}`,
        head ? { command: head.spec.verb } : {},
      ),
    );
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.buffer && !this.paused && !this.detached && !this.fatalError) {
        const chunk = this.buffer;
        this.buffer = null;
        const next = this.consume(chunk);
        if (next < chunk.length && !this.fatalError) this.buffer = chunk.subarray(next);
      }
    } catch (error) {
      this.fail(error instanceof Pop3Error ? error : new Pop3Error('EPROTOCOL', 'Unexpected parser failure', { cause: error }));
    } finally {
      this.draining = false;
    }
    if (this.fatalError) return;
    if (this.detached && this.buffer) {
      this.fail(new Pop3Error('ESTLS', 'Server sent data after the STLS reply, before the TLS handshake', { command: 'STLS' }));
      return;
    }
    if (this.paused) this.socket.pause();
    if (this.eof && !this.buffer) this.afterEof();
    else this.updateTimer();
  }

  /** Parses from the start of `chunk`; returns the offset where it stopped (a command boundary or back-pressure). */
  private consume(chunk: Buffer): number {
    let offset = 0;
    while (offset < chunk.length && !this.paused && !this.detached && !this.fatalError) {
      if (this.mode === 'body') {
        offset = this.consumeBody(chunk, offset);
        continue;
      }
      const what = this.mode === 'status' ? 'Status line' : 'Listing line';
      const read = this.lineReader.read(chunk, offset, what);
      if (!read) return chunk.length;
      offset = read.next;
      if (this.mode === 'status') this.onStatusLine(read.line);
      else this.onListingLine(read.line, read.bytes);
    }
    return offset;
  }

  private consumeBody(chunk: Buffer, offset: number): number {
    const head = this.inflight[0]!;
    const stream = head.stream!;
    let wantsMore = true;
    const cap = this.opts.maxMessageBytes;
    const end = this.decoder!.decode(offset === 0 ? chunk : chunk.subarray(offset), (piece) => {
      // Checked before the push: the consumer never sees a byte past the cap.
      if (stream.bytes + piece.length > cap) {
        throw new Pop3Error('ETOOLARGE', `${head.spec.verb} body exceeds maxMessageBytes (${cap})`, { command: head.spec.verb });
      }
      if (!stream.write(piece)) wantsMore = false;
    });
    if (end === -1) {
      if (!wantsMore && !stream.destroyed) this.paused = this.pausedInTick = true;
      return chunk.length;
    }
    // An ended Readable never calls _read again, so a finished body never pauses the socket: the next response
    // (its own stream, its own back-pressure) must still be parsed.
    this.inflight.shift();
    this.mode = 'status';
    this.decoder = null;
    stream.finish();
    // Small bodies never fill a stream's buffer, so without this a fast server could fill memory with thousands of
    // unread messages: a body keeps its window slot until the consumer has read it to the end (or destroyed it).
    if (!stream.destroyed && !stream.readableEnded) {
      this.unconsumed++;
      stream.once('close', () => {
        this.unconsumed--;
        this.scheduleFlush();
      });
    }
    this.scheduleFlush();
    return offset + end;
  }

  private onStatusLine(line: string): void {
    const head = this.inflight[0];
    if (!head) throw new Pop3Error('EPROTOCOL', `Unsolicited line from the server: ${sanitize(line, 80)}`);
    const ok = /^\+OK(?: |$)/i.test(line);
    if (!ok && head.spec.onContinuation && /^\+(?: |$)/.test(line)) {
      this.socket.write(`${head.spec.onContinuation(line.slice(2))}\r\n`);
      return;
    }
    if (!ok && !/^-ERR(?: |$)/i.test(line)) {
      throw new Pop3Error('EPROTOCOL', `Malformed status line in response to ${head.spec.verb}: ${sanitize(line, 80)}`, {
        command: head.spec.verb,
      });
    }
    const text = line.slice(ok ? 4 : 5);
    if (!ok) {
      this.inflight.shift();
      head.reject(errorFromResponse(head.spec.verb, text, head.spec.errorCode ?? 'ECOMMAND'));
      this.scheduleFlush();
      return;
    }
    if (head.spec.kind === 'lines') {
      this.mode = 'lines';
      this.listing.take();
      return;
    }
    if (head.spec.kind === 'body') {
      this.mode = 'body';
      this.decoder = new DotDecoder();
      head.stream = new BodyStream(
        {
          onRead: () => this.onStreamRead(),
          onAbandon: () => this.onStreamRead(),
        },
        this.opts.streamHighWaterMark,
      );
      // parse() may throw (e.g. ETOOLARGE from the announced size): the stream then errors with the session.
      head.resolve(head.spec.parse({ text, lines: [], stream: head.stream }));
      return;
    }
    this.inflight.shift();
    if (head.spec.upgrade) this.detached = true;
    this.complete(head, { text, lines: [], stream: null });
  }

  private onListingLine(line: string, bytes: number): void {
    const head = this.inflight[0]!;
    if (line === '.') {
      this.inflight.shift();
      this.mode = 'status';
      this.complete(head, { text: '', lines: this.listing.take(), stream: null });
      return;
    }
    this.listing.add(line, bytes, head.spec.verb);
  }

  private complete(head: Pending, response: RawResponse): void {
    let value: unknown;
    try {
      value = head.spec.parse(response);
    } catch (error) {
      // The command is already off the in-flight list: give it the error before the session goes down.
      const err = error instanceof Pop3Error ? error : new Pop3Error('EPROTOCOL', 'Unparsable response', { cause: error });
      head.reject(err);
      this.fail(err);
      return;
    }
    head.resolve(value);
    this.scheduleFlush();
  }

  /** The body consumer wants more (or gave up on the body): resume reading. */
  private onStreamRead(): void {
    if (!this.paused || this.fatalError) return;
    this.paused = false;
    this.socket.resume();
    // Not re-entrantly from inside push(): defer to a clean stack.
    process.nextTick(() => this.drain());
  }

  private updateTimer(): void {
    const head = this.inflight[0];
    let ms = 0;
    if (head && !this.paused && !this.detached && !this.fatalError) {
      if (head.spec === GREETING) ms = this.opts.greetingMs;
      else ms = this.mode === 'status' ? this.opts.responseMs : this.opts.idleMs;
    }
    if (ms === 0) {
      this.clearTimer();
      return;
    }
    if (this.timer && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    this.clearTimer();
    this.timerMs = ms;
    this.timer = setTimeout(() => this.onTimeout(), ms);
    this.timer.unref();
  }

  /**
   * Since the last tick the server was mid-response and our consumer never paused the socket: what arrived is up to
   * the server. Waiting for a response to start is the response timeout's business, not the rate guard's.
   */
  private receivingSinceTick(): boolean {
    const paused = this.pausedInTick;
    this.pausedInTick = this.paused;
    const head = this.inflight[0];
    return (
      !paused &&
      head !== undefined &&
      !this.paused &&
      !this.detached &&
      !this.fatalError &&
      (this.mode !== 'status' || this.lineReader.pending > 0)
    );
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private onTimeout(): void {
    const head = this.inflight[0];
    const verb = head?.spec.verb ?? 'response';
    const phase =
      head?.spec === GREETING ? 'the greeting' : this.mode === 'status' ? `the ${verb} response` : `more of the ${verb} response`;
    this.fail(new Pop3Error('ETIMEDOUT', `Timed out after ${this.timerMs} ms waiting for ${phase}`, { command: verb }));
  }
}
