import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import type { TargetFilter } from '../config/types.ts';
import { FILE_MODE, fsyncDir, mkdirDurable, writeFully } from '../fs/atomic.ts';
import { classifyError } from '../error-codes.ts';
import { LocalConsumer } from './local-consumer.ts';
import { PublishError } from './types.ts';
import type { Publisher, PublishResult } from './types.ts';

/** A downstream processor run in-process after the documents are in the event log (the local stand-in for a queue consumer). */
export interface LocalProcessor {
  readonly name: string;
  readonly filter?: TargetFilter;
  handle(doc: MetadataDocument): Promise<void>;
}

export interface LocalPublisherOptions {
  /** The fs store's directory: the log is `<dir>/events.jsonl`. */
  readonly dir: string;
  readonly processors?: readonly LocalProcessor[];
  /** Where processor failures are reported (they never fail a publish). */
  readonly log?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
}

/** perTarget name of the event log itself. */
export const EVENTS_TARGET = 'events';

/** The local event log of an fs store. */
export function eventLogPath(storeDir: string): string {
  return join(resolve(storeDir), 'events.jsonl');
}

/**
 * Appends each document as one JSON line to `<dir>/events.jsonl`: one write(2) per batch on an O_APPEND
 * descriptor, so concurrent batches (several mailboxes, several processes) never interleave inside a line, then
 * fsync before resolving. Consumers deduplicate by `id`: a retried batch appends its lines again.
 *
 * A publish succeeds once the log holds the documents: that is what the ingest commits on. The local processors
 * then consume the log, each with its own cursor and dead-letter file (lib/publish/local-consumer.ts), the way a
 * queue consumer with a dead-letter queue does in the cloud: a processor that fails on a document never fails the
 * ingest, never holds back the next document, and is retried on the next run (`drain`).
 */
export class LocalPublisher implements Publisher {
  readonly path: string;
  readonly #dir: string;
  readonly #consumers: readonly LocalConsumer[];
  readonly #log: LocalPublisherOptions['log'];
  #dirSynced = false;
  #cursorsReady: Promise<void> | null = null;
  /** Batches of this instance are appended one after another; the consumers run one drain at a time. */
  #tail: Promise<unknown> = Promise.resolve();
  #draining: Promise<unknown> = Promise.resolve();

  constructor(options: LocalPublisherOptions) {
    this.#dir = resolve(options.dir);
    this.path = eventLogPath(this.#dir);
    const processors = options.processors ?? [];
    const names = new Set<string>([EVENTS_TARGET]);
    for (const p of processors) {
      if (names.has(p.name)) throw new TypeError(`duplicate local processor name ${JSON.stringify(p.name)}`);
      names.add(p.name);
    }
    this.#consumers = processors.map((p) => new LocalConsumer(this.#dir, this.path, p));
    this.#log = options.log;
  }

  async publish(docs: readonly MetadataDocument[]): Promise<PublishResult> {
    const perTarget: Record<string, number> = { [EVENTS_TARGET]: 0 };
    for (const c of this.#consumers) perTarget[c.processor.name] = 0;
    if (docs.length === 0) return { published: 0, perTarget };
    const append = this.#tail.then(async () => {
      // Before the first append: a processor without a cursor starts here, so it receives these documents.
      await (this.#cursorsReady ??= this.#ensureCursors());
      await this.#append(docs);
    });
    this.#tail = append.catch(() => {});
    try {
      await append;
    } catch (err) {
      this.#cursorsReady = null;
      const code = (err as { code?: string }).code;
      throw new PublishError(
        `cannot append to ${this.path}: ${code ?? (err instanceof Error ? err.message : String(err))}`,
        docs.map((d) => d.id),
        { cause: err },
      );
    }
    perTarget[EVENTS_TARGET] = docs.length;
    Object.assign(perTarget, await this.#drainAll(false));
    return { published: docs.length, perTarget };
  }

  /**
   * Once per run: brings every processor up to the end of the log (after a crash, or documents another process
   * appended) and retries its dead letters. Never rejects for a processor's failure.
   */
  async drain(): Promise<Readonly<Record<string, number>>> {
    await (this.#cursorsReady ??= this.#ensureCursors());
    return this.#drainAll(true);
  }

  #ensureCursors(): Promise<void> {
    return Promise.all(this.#consumers.map((c) => c.ensureCursor())).then(() => undefined);
  }

  #drainAll(retry: boolean): Promise<Record<string, number>> {
    const run = this.#draining.then(async () => {
      const handled: Record<string, number> = {};
      for (const c of this.#consumers) {
        const name = c.processor.name;
        try {
          const r = await c.drain({ retry });
          handled[name] = r.handled + r.recovered;
          if (r.failed > 0) {
            this.#log?.('warn', `local processor ${name} failed on ${r.failed} document(s); recorded as dead letters, retried next run`, {
              processor: name,
              failed: r.failed,
              lastError: r.lastError,
            });
          }
          if (r.recovered > 0)
            this.#log?.('info', `local processor ${name} handled ${r.recovered} dead letter(s) on retry`, {
              processor: name,
              recovered: r.recovered,
            });
        } catch (err) {
          // Its cursor or dead letters could not be read or written: it stays where it was and resumes next run.
          handled[name] = 0;
          this.#log?.('warn', `local processor ${name} could not consume the event log; it resumes next run`, {
            processor: name,
            error: classifyError(err),
          });
        }
      }
      return handled;
    });
    this.#draining = run.catch(() => {});
    return run;
  }

  async #append(docs: readonly MetadataDocument[]): Promise<void> {
    // JSON.stringify escapes every line break inside strings, so each document is exactly one line.
    let text = docs.map((d) => `${JSON.stringify(d)}\n`).join('');
    await mkdirDurable(this.#dir);
    const fh = await open(this.path, 'a+', FILE_MODE);
    try {
      // A batch torn by a crash left a line without its newline: end it, or the next document would be glued to it.
      const { size } = await fh.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) text = `\n${text}`;
      }
      await writeFully(fh, Buffer.from(text, 'utf8'));
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (!this.#dirSynced) {
      // The file may have just been created: make its directory entry durable too.
      await fsyncDir(this.#dir);
      this.#dirSynced = true;
    }
  }
}
