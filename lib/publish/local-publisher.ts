import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import type { TargetFilter } from '../config/types.ts';
import { FILE_MODE, fsyncDir, mkdirDurable, writeFully } from '../fs/atomic.ts';
import { matchesFilter } from './filter.ts';
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
}

/** perTarget name of the event log itself. */
export const EVENTS_TARGET = 'events';

/**
 * Appends each document as one JSON line to `<dir>/events.jsonl`: one write(2) per batch on an O_APPEND
 * descriptor, so concurrent batches (several mailboxes, several processes) never interleave inside a line, then
 * fsync before resolving. Consumers deduplicate by `id`: a retried batch appends its lines again.
 */
export class LocalPublisher implements Publisher {
  readonly path: string;
  readonly #dir: string;
  readonly #processors: readonly LocalProcessor[];
  #dirSynced = false;
  /** Batches of this instance are appended one after another. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: LocalPublisherOptions) {
    this.#dir = resolve(options.dir);
    this.path = join(this.#dir, 'events.jsonl');
    this.#processors = options.processors ?? [];
    const names = new Set<string>([EVENTS_TARGET]);
    for (const p of this.#processors) {
      if (names.has(p.name)) throw new TypeError(`duplicate local processor name ${JSON.stringify(p.name)}`);
      names.add(p.name);
    }
  }

  async publish(docs: readonly MetadataDocument[]): Promise<PublishResult> {
    const perTarget: Record<string, number> = { [EVENTS_TARGET]: 0 };
    for (const p of this.#processors) perTarget[p.name] = 0;
    if (docs.length === 0) return { published: 0, perTarget };
    const append = this.#tail.then(() => this.#append(docs));
    this.#tail = append.catch(() => {});
    try {
      await append;
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new PublishError(`cannot append to ${this.path}: ${code ?? (err instanceof Error ? err.message : String(err))}`, docs.map((d) => d.id), { cause: err });
    }
    perTarget[EVENTS_TARGET] = docs.length;

    const failed = new Set<string>();
    const failures: string[] = [];
    for (const p of this.#processors) {
      for (const doc of docs) {
        if (!matchesFilter(doc, p.filter)) continue;
        try {
          await p.handle(doc);
          perTarget[p.name]! += 1;
        } catch (err) {
          failed.add(doc.id);
          failures.push(`${p.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    if (failed.size > 0) {
      throw new PublishError(
        `local processor${failures.length === 1 ? '' : 's'} failed for ${failed.size} document(s): ${failures.slice(0, 5).join('; ')}${failures.length > 5 ? '; ...' : ''}`,
        [...failed],
      );
    }
    return { published: docs.length, perTarget };
  }

  async #append(docs: readonly MetadataDocument[]): Promise<void> {
    // JSON.stringify escapes every line break inside strings, so each document is exactly one line.
    const bytes = Buffer.from(docs.map((d) => `${JSON.stringify(d)}\n`).join(''), 'utf8');
    await mkdirDurable(this.#dir);
    const fh = await open(this.path, 'a', FILE_MODE);
    try {
      await writeFully(fh, bytes);
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
