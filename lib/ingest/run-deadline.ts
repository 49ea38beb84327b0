/**
 * When a run of one mailbox must be over, whatever the server does. Two instants:
 * - `stopAt`: no message is requested from then on, so the pipelined window drains and the session can end with a
 *   QUIT (and its DELEs) in the time left;
 * - `hardAt`: the connection is dropped. What is stored is committed; a message being received is not, so the
 *   session ends without QUIT and nothing is deleted (a QUIT after an unsafe RETR could expire it, EXPIRE 0).
 * The POP3 timeouts restart on every byte; this one does not, so a server trickling bytes cannot stretch a run.
 */
export class RunDeadline {
  readonly hardAt: number | undefined;
  readonly stopAt: number | undefined;
  readonly #abort = new AbortController();
  readonly #timer: NodeJS.Timeout | undefined = undefined;
  readonly #signal: AbortSignal;
  #reached = false;

  /**
   * `stopAt`: the caller's own time to stop requesting (it keeps a margin after it); `cutoff`: the caller's own time
   * to drop the connection; `maxSessionSeconds`: both, from the start of the run. The earliest of each counts.
   */
  constructor(options: { stopAt?: number; cutoff?: number; maxSessionSeconds?: number; signal?: AbortSignal }, now = Date.now()) {
    const cutoffs = [options.cutoff, options.maxSessionSeconds === undefined ? undefined : now + options.maxSessionSeconds * 1000].filter(
      (t): t is number => t !== undefined,
    );
    this.hardAt = cutoffs.length === 0 ? undefined : Math.min(...cutoffs);
    const stops = [options.stopAt];
    if (this.hardAt !== undefined) {
      // A tenth of the session for the window to drain and QUIT: at least 1 s (half of a shorter one), at most 30 s.
      const total = Math.max(0, this.hardAt - now);
      stops.push(this.hardAt - Math.min(30_000, Math.max(Math.min(1_000, total / 2), total / 10)));
      this.#timer = setTimeout(() => {
        this.#reached = true;
        this.#abort.abort(new Error('session deadline reached'));
      }, total);
      this.#timer.unref();
    }
    const stop = stops.filter((t): t is number => t !== undefined);
    this.stopAt = stop.length === 0 ? undefined : Math.min(...stop);
    this.#signal = options.signal === undefined ? this.#abort.signal : AbortSignal.any([options.signal, this.#abort.signal]);
  }

  /** Aborted at the hard deadline, or when the caller's own signal aborts. */
  get signal(): AbortSignal {
    return this.#signal;
  }

  /** True once the hard deadline passed (the connection was dropped because of it). */
  get reached(): boolean {
    return this.#reached;
  }

  /** Whether a new session may still start: not past the point where requests stop. */
  get open(): boolean {
    return !this.#signal.aborted && (this.stopAt === undefined || Date.now() < this.stopAt);
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}
