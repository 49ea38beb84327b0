import { Pop3Error } from './errors.ts';

/** Ticks per window: the window slides in tenths. */
const TICKS = 10;

export interface RateGuardHooks {
  /** Whether the whole tick just past was spent waiting on the server mid-response (not paused by our consumer). */
  readonly receiving: () => boolean;
  /** The verb of the response under way, for the error. */
  readonly verb: () => string;
  /** The rate fell below the minimum: the session must end with this error. */
  readonly fail: (error: Pop3Error) => void;
}

/**
 * A minimum transfer rate over a sliding window of receiving time. The idle timeouts restart on every byte, so a
 * server sending one byte a second would hold a session for ever; this one measures what arrived while a response
 * was being received, and only then: time the consumer holds the socket paused (back-pressure) and time before a
 * response starts (the response timeout's business) are not counted against the server.
 */
export class RateGuard {
  readonly #minBytesPerSecond: number;
  readonly #windowMs: number;
  readonly #hooks: RateGuardHooks;
  readonly #samples: number[] = [];
  readonly #timer: NodeJS.Timeout;
  #bytes = 0;

  constructor(minBytesPerSecond: number, windowMs: number, hooks: RateGuardHooks) {
    this.#minBytesPerSecond = minBytesPerSecond;
    this.#windowMs = windowMs;
    this.#hooks = hooks;
    this.#timer = setInterval(() => this.#tick(), Math.max(10, Math.floor(windowMs / TICKS)));
    this.#timer.unref();
  }

  /** Bytes arrived from the server. */
  record(bytes: number): void {
    this.#bytes += bytes;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    const bytes = this.#bytes;
    this.#bytes = 0;
    if (!this.#hooks.receiving()) return;
    this.#samples.push(bytes);
    if (this.#samples.length > TICKS) this.#samples.shift();
    if (this.#samples.length < TICKS) return;
    const total = this.#samples.reduce((a, b) => a + b, 0);
    if (total >= (this.#minBytesPerSecond * this.#windowMs) / 1000) return;
    this.stop();
    const verb = this.#hooks.verb();
    this.#hooks.fail(
      new Pop3Error(
        'ESLOW',
        `Transfer too slow: ${total} bytes in the last ${this.#windowMs / 1000} s of receiving the ${verb} response, ` +
          `under the minimum of ${this.#minBytesPerSecond} bytes per second (minBytesPerSecond)`,
        { command: verb },
      ),
    );
  }
}
