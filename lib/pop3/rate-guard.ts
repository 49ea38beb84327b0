/** Ticks per window: the window slides in tenths. */
const TICKS = 10;

/**
 * A minimum transfer rate over a sliding window of receiving time. The idle timeouts restart on every byte, so a
 * server sending one byte a second would hold a session for ever; this one measures what arrived while a response
 * was being received, and only then: time the consumer holds the socket paused (back-pressure) and time before a
 * response starts (the response timeout's business) are not counted against the server.
 */
export class RateGuard {
  readonly #minBytesPerSecond: number;
  readonly #windowMs: number;
  readonly #samples: number[] = [];
  #bytes = 0;

  constructor(minBytesPerSecond: number, windowMs: number) {
    this.#minBytesPerSecond = minBytesPerSecond;
    this.#windowMs = windowMs;
  }

  /** How often `tick` is to be called. */
  get tickMs(): number { return Math.max(10, Math.floor(this.#windowMs / TICKS)); }

  get windowMs(): number { return this.#windowMs; }

  /** Bytes arrived from the server. */
  record(bytes: number): void { this.#bytes += bytes; }

  /**
   * One tick passed; `receiving` says whether the whole of it was spent waiting on the server mid-response. Returns
   * the bytes of the last full window when they fell below the minimum, else null.
   */
  tick(receiving: boolean): number | null {
    const bytes = this.#bytes;
    this.#bytes = 0;
    if (!receiving) return null;
    this.#samples.push(bytes);
    if (this.#samples.length > TICKS) this.#samples.shift();
    if (this.#samples.length < TICKS) return null;
    const total = this.#samples.reduce((a, b) => a + b, 0);
    return total < (this.#minBytesPerSecond * this.#windowMs) / 1000 ? total : null;
  }
}
