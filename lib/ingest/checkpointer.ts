import type { MetadataDocument } from '../document/metadata-schema.ts';
import type { Publisher } from '../publish/types.ts';
import type { FaultHooks } from './pipeline-types.ts';
import type { StateTracker } from './state-tracker.ts';

/**
 * A checkpoint publishes the documents gathered so far and then commits the state that covers them: every 100
 * messages or 2 s, and less often as the state grows. A commit rewrites the whole state, so a fixed interval makes a
 * run's state writes grow with the square of the mailbox (100,000 messages: a thousand rewrites of up to 50 MB);
 * checkpoints every tenth of the state's entries, and no more often than ten times the last one took, keep them
 * to a few times the state's size and a tenth of the run's time.
 */
const CHECKPOINT_MESSAGES = 100;
const CHECKPOINT_MS = 2_000;
const STATE_SHARE = 10;

export interface CheckpointerOptions {
  readonly publisher: Publisher;
  readonly tracker: StateTracker;
  readonly faults?: FaultHooks;
  readonly log: (level: 'debug', message: string, fields?: Record<string, unknown>) => void;
  /** Messages between checkpoints, at least (more once a tenth of the state is more). @default 100 */
  readonly every?: number;
  /** The clock, for tests. @default Date.now */
  readonly now?: () => number;
}

/**
 * The checkpointer: messages whose bytes are durable wait here until a checkpoint publishes their documents and
 * commits the state entries that cover them. Only then does a message count as committed, which is what retention
 * and the QUIT decision read.
 */
export class Checkpointer {
  readonly #o: CheckpointerOptions;
  // Commits finish in any order, but each checkpoint publishes in the mailbox's order (oldest first), which is what
  // consumers such as ticket threading expect.
  #docs: Array<[number, MetadataDocument]> = [];
  #numbers: Array<{ readonly n: number; readonly key: string; readonly retrieved: boolean }> = [];
  #lastAt: number;
  /** How long the last checkpoint took to publish and commit. */
  #lastMs = 0;
  #published = 0;
  #retrievedCommitted = 0;
  /** Message number -> state key, for messages this session retrieved and committed. */
  readonly committed = new Map<number, string>();

  constructor(options: CheckpointerOptions) {
    this.#o = options;
    this.#lastAt = this.#now();
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /** Documents published by this session's checkpoints. */
  get published(): number {
    return this.#published;
  }

  /** RETR'd messages (not TOP stand-ins) whose state entry is committed. */
  get retrievedCommitted(): number {
    return this.#retrievedCommitted;
  }

  /**
   * A message is durable and its state entry staged in the tracker. `doc` is null for a copy ingested before (a
   * shared UIDL): it is committed with the others but not published again. `retrieved`: it was RETR'd, not TOP'd.
   */
  add(n: number, key: string, doc: MetadataDocument | null, retrieved: boolean): void {
    if (doc !== null) this.#docs.push([n, doc]);
    this.#numbers.push({ n, key, retrieved });
  }

  /** Whether a checkpoint is due, counting `committing` messages still on their way. */
  due(committing: number): boolean {
    const every = Math.max(this.#o.every ?? CHECKPOINT_MESSAGES, Math.ceil(this.#o.tracker.committedCount / STATE_SHARE));
    if (this.#numbers.length + committing >= every) return true;
    return this.#now() - this.#lastAt >= Math.max(CHECKPOINT_MS, STATE_SHARE * this.#lastMs);
  }

  /** Publishes what is pending, in mailbox order, then commits the state. Call only once the commits are settled. */
  async run(): Promise<void> {
    const startedAt = this.#now();
    const docs = this.#docs;
    const numbers = this.#numbers;
    this.#docs = [];
    this.#numbers = [];
    // A store that defers its writes (metadata documents) flushes them here: before anything points at them.
    if (docs.length > 0) {
      const result = await this.#o.publisher.publish(docs.sort((a, b) => a[0] - b[0]).map(([, doc]) => doc));
      this.#published += docs.length;
      this.#o.log('debug', 'published', { count: docs.length, perTarget: result.perTarget });
      await this.#o.faults?.['after-publish']?.({});
    }
    await this.#o.tracker.commit();
    await this.#o.faults?.['after-state-commit']?.({});
    for (const { n, key, retrieved } of numbers) {
      this.committed.set(n, key);
      if (retrieved) this.#retrievedCommitted++;
    }
    this.#lastAt = this.#now();
    this.#lastMs = this.#lastAt - startedAt;
  }
}
