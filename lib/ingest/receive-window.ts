import type { MessageStream, Pop3Client } from '../pop3/types.ts';
import type { ListedMessage } from './plan.ts';

/**
 * Messages requested ahead of the one being received: enough to fill a long link (at 150 ms RTT, 256 small
 * messages in flight keep the line busy), bounded in count and bytes.
 */
export const LOOKAHEAD_MESSAGES = 256;
const LOOKAHEAD_BYTES = 8 * 1024 * 1024;

/** One RETR (or TOP n 0, for a message over maxMessageBytes) sent ahead and not yet received. */
export interface Requested {
  readonly message: ListedMessage;
  /** TOP n 0: only the header block is taken. */
  readonly top: boolean;
  readonly response: Promise<MessageStream>;
}

/**
 * The receive window: the commands sent ahead of the message being received, in mailbox order. It owns what has
 * been requested so far, so it alone knows which messages a session retrieved and which it never asked for.
 */
export class ReceiveWindow {
  readonly #client: Pop3Client;
  readonly #messages: readonly ListedMessage[];
  readonly #oversized: ReadonlySet<number>;
  readonly #stop: () => boolean;
  readonly #queue: Requested[] = [];
  #next = 0;
  #bytes = 0;
  #retrieved = 0;

  /** `stop` is asked before each request: once it says true, nothing more is requested. */
  constructor(client: Pop3Client, messages: readonly ListedMessage[], oversized: ReadonlySet<number>, stop: () => boolean) {
    this.#client = client;
    this.#messages = messages;
    this.#oversized = oversized;
    this.#stop = stop;
  }

  /** RETRs sent: each retrieved message must be committed before a QUIT may end the session (EXPIRE 0 servers). */
  get retrieved(): number {
    return this.#retrieved;
  }

  /** Messages never requested in this session (a deadline, an abort, a session that failed). */
  get notRequested(): number {
    return this.#messages.length - this.#next;
  }

  /** Requested and not taken yet: left unreceived when a session ends early. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Requests more until the window is full in count or bytes (always at least one when any is left). */
  fill(): void {
    while (
      this.#next < this.#messages.length &&
      this.#queue.length < LOOKAHEAD_MESSAGES &&
      (this.#queue.length === 0 || this.#bytes < LOOKAHEAD_BYTES) &&
      !this.#stop()
    ) {
      const message = this.#messages[this.#next++]!;
      const top = this.#oversized.has(message.n);
      const response = top ? this.#client.top(message.n, 0) : this.#client.retr(message.n);
      // Awaited in turn by the receiver. Meanwhile neither a rejection nor an error on a stream nobody reads yet
      // (the connection dropping while it waits in the window) may crash the process; pipeline() still sees it.
      response.then(
        (m) => {
          m.stream.on('error', () => undefined);
        },
        () => undefined,
      );
      this.#queue.push({ message, top, response });
      if (!top) {
        this.#bytes += message.size;
        this.#retrieved++;
      }
    }
  }

  /** The next message to receive, oldest first; the window is refilled behind it. */
  take(): Requested | undefined {
    const head = this.#queue.shift();
    if (head === undefined) return undefined;
    if (!head.top) this.#bytes -= head.message.size;
    this.fill();
    return head;
  }
}
