import type { Config } from '../config/types.ts';
import { catchUp } from '../search/catch-up.ts';
import type { SearchDb } from '../search/search-db.ts';
import type { RawStore } from '../store/types.ts';

export interface Refresher {
  /** Resolves when the current catch-up (if any) has stopped. */
  stop(): Promise<void>;
}

/** A slice of body reading between two breaths of the event loop: requests are served in between. */
const BODY_SLICE_MS = 1_000;

/**
 * Keeps the index current while `serve` runs: new documents every `everyMs`, and body text of pending messages
 * in short slices until none is left. A failure is logged and tried again next time; it never stops the server.
 */
export function startRefresher(
  index: SearchDb,
  config: Config,
  store: RawStore,
  options: { readonly everyMs: number; readonly log?: (message: string) => void },
): Refresher {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const tick = (): void => {
    timer = null;
    running = (async () => {
      let next = options.everyMs;
      try {
        const r = await catchUp(index, config, store, { bodyDeadline: Date.now() + BODY_SLICE_MS, signal: abort.signal });
        if (r.written > 0) options.log?.(`index: ${r.written} new or changed documents (${r.documents} in all)`);
        if (r.pendingBodies > 0) next = 20;
      } catch (err) {
        options.log?.(`index catch-up failed, will retry: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!abort.signal.aborted) timer = setTimeout(tick, next);
    })();
  };
  timer = setTimeout(tick, 0);
  return {
    async stop() {
      abort.abort();
      if (timer !== null) clearTimeout(timer);
      await running;
    },
  };
}
