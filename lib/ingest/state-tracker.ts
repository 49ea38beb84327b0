import type { IngestedEntry, MailboxState, StateStore } from '../store/types.ts';
import { emptyState, STATE_VERSION, uidlMap, uidOfKey } from '../store/state-format.ts';
import { redact } from '../redact.ts';
import { IngestError } from './errors.ts';

const MAX_ATTEMPTS = 8;

/** The state file outlives the run and is read by people: no secret a server echoed may be saved in it. */
function redactError(e: MailboxState['lastError']): MailboxState['lastError'] {
  return e === null || e === undefined ? (e ?? null) : { ...e, message: redact(e.message) };
}

type Extra = Pick<MailboxState, 'lastRun' | 'lastError'>;

/**
 * The mailbox state as this run changes it. Changes are staged and committed with compare-and-set; when another
 * writer got there first, the fresh state is re-read and our changes are applied on top of it, so two writers never
 * lose each other's entries.
 */
export class StateTracker {
  readonly #store: StateStore;
  readonly #mailbox: string;
  #committed: MailboxState;
  #version: string | null = null;
  readonly #adds = new Map<string, IngestedEntry>();
  readonly #drops = new Set<string>();
  #present: ReadonlySet<string> | null = null;
  #committedCount = 0;

  constructor(store: StateStore, mailbox: string) {
    this.#store = store;
    this.#mailbox = mailbox;
    this.#committed = emptyState(mailbox);
  }

  async load(): Promise<MailboxState> {
    const { state, version } = await this.#store.read(this.#mailbox);
    this.#committed = state;
    this.#committedCount = Object.keys(state.uidls).length;
    this.#version = version;
    return state;
  }

  /** Entries in the last committed state: what each commit rewrites. */
  get committedCount(): number {
    return this.#committedCount;
  }

  /** The last committed state: what a crash right now would leave. */
  get committed(): MailboxState {
    return this.#committed;
  }

  get pendingCount(): number {
    return this.#adds.size + this.#drops.size;
  }

  add(key: string, entry: IngestedEntry): void {
    this.#drops.delete(key);
    this.#adds.set(key, entry);
  }

  /** Forgets staged changes: after a failure, only what was committed may stand. */
  discardPending(): void {
    this.#adds.clear();
    this.#drops.clear();
    this.#present = null;
  }

  drop(key: string): void {
    this.#adds.delete(key);
    this.#drops.add(key);
  }

  /** Entries whose UIDL is no longer on the server are forgotten at the next commit (they were deleted). */
  prune(presentUids: ReadonlySet<string>): void {
    this.#present = presentUids;
  }

  #apply(base: MailboxState, extra: Extra | undefined): MailboxState {
    // No prototype: a UIDL `__proto__` must be an entry, not a prototype assignment that JSON.stringify drops.
    const uidls = uidlMap();
    const present = this.#present;
    for (const [key, entry] of Object.entries(base.uidls)) {
      if (this.#drops.has(key)) continue;
      if (present !== null && !present.has(uidOfKey(key))) continue;
      uidls[key] = entry;
    }
    for (const [key, entry] of this.#adds) uidls[key] = entry;
    return {
      version: STATE_VERSION,
      mailbox: this.#mailbox,
      uidls,
      lastRun: extra && 'lastRun' in extra ? extra.lastRun : (base.lastRun ?? null),
      lastError: extra && 'lastError' in extra ? redactError(extra.lastError) : (base.lastError ?? null),
    };
  }

  async commit(extra?: Extra): Promise<void> {
    if (this.pendingCount === 0 && this.#present === null && extra === undefined) return;
    for (let attempt = 1; ; attempt++) {
      const next = this.#apply(this.#committed, extra);
      try {
        this.#version = await this.#store.write(this.#mailbox, next, this.#version);
        this.#committed = next;
        this.#committedCount = Object.keys(next.uidls).length;
        this.#adds.clear();
        this.#drops.clear();
        this.#present = null;
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ECONFLICT') throw err;
        if (attempt >= MAX_ATTEMPTS) {
          throw new IngestError('ESTATE', 'storage', `state of mailbox ${this.#mailbox} kept changing underneath (${attempt} attempts)`, {
            cause: err,
            retryable: true,
          });
        }
        await this.load();
      }
    }
  }
}
