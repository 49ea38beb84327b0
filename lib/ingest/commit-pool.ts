/** Commits (fsync, upload, verify) running while later messages are received, bounded in count and bytes. */
const COMMITS_IN_FLIGHT = 32;
const COMMIT_BYTES_IN_FLIGHT = 32 * 1024 * 1024;

/**
 * The commit pool: received messages being made durable while the next ones are received. It owns the commits in
 * flight and the first error that ends the session; a commit reports a per-message failure itself and only hands
 * the pool what must stop everything.
 */
export class CommitPool {
  readonly #inflight = new Set<Promise<void>>();
  #bytes = 0;
  /** Whoever waits for room (the receive loop): woken by the next commit to end, rather than racing all of them. */
  #waiters: Array<() => void> = [];
  #fatal: { readonly error: unknown } | null = null;

  get size(): number {
    return this.#inflight.size;
  }

  /** Runs `work` (a commit of `bytes` bytes) alongside the others. A rejection of `work` ends the session. */
  add(bytes: number, work: () => Promise<void>): void {
    const task = work()
      .catch((err: unknown) => {
        this.#fatal ??= { error: err };
      })
      .finally(() => {
        this.#inflight.delete(task);
        this.#bytes -= bytes;
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const wake of waiters) wake();
      });
    this.#inflight.add(task);
    this.#bytes += bytes;
  }

  /** Waits until another commit may start; throws the session's fatal error once one is known. */
  async waitForRoom(): Promise<void> {
    // Promise.race over the commits in flight would add a reaction to each of them per message received.
    while (this.#inflight.size >= COMMITS_IN_FLIGHT || (this.#inflight.size > 1 && this.#bytes >= COMMIT_BYTES_IN_FLIGHT)) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.throwIfFailed();
  }

  /** Waits for every commit in flight; throws the session's fatal error if one failed so. */
  async settle(): Promise<void> {
    await this.drain();
    this.throwIfFailed();
  }

  /** Waits for every commit in flight, whatever they end in. */
  async drain(): Promise<void> {
    await Promise.all(this.#inflight);
  }

  throwIfFailed(): void {
    if (this.#fatal !== null) throw this.#fatal.error;
  }

  /** Forgets the fatal error: the caller is salvaging what the finished commits stored. */
  clearFailure(): void {
    this.#fatal = null;
  }
}
