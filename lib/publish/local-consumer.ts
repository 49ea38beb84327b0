import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { metadataDocumentSchema, type MetadataDocument } from '../document/metadata-schema.ts';
import { redact } from '../redact.ts';
import { classifyError } from '../error-codes.ts';
import { FILE_MODE, isErrno, mkdirDurable, writeDurableTemp, writeFileAtomic, writeFully } from '../fs/atomic.ts';
import { FsLeaseFiles } from '../store/fs-lease.ts';
import { LeaseError } from '../store/types.ts';
import { countLines, logSize, readLineAt, readLines } from './event-log.ts';
import { matchesFilter } from './filter.ts';
import type { LocalProcessor } from './local-publisher.ts';

/** Attempts of one document (the first included) before it stays in the dead letters for an operator. */
export const MAX_ATTEMPTS = 5;
/** Dead letters retried per run, oldest first: a processor that is down fails them all fast anyway. */
const RETRIES_PER_RUN = 1_000;
/** A metadata document is a few KB; a longer line is not one of ours. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
const SAVE_EVERY = 100;
const SAVE_MS = 1_000;
const LOCK_TTL_MS = 120_000;
const PROCESSOR_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;

/** A document a processor could not handle, as the dead-letter file records it. */
export interface DeadLetter {
  /** Where the document is in the event log (a line start): what identifies the letter. */
  readonly offset: number;
  readonly length: number;
  /** The document id; null when the line is not a metadata document at all. */
  readonly id: string | null;
  readonly attempts: number;
  readonly firstFailedAt: string;
  readonly lastFailedAt: string;
  readonly error: string;
  /** No more retries: MAX_ATTEMPTS reached, or the line can never be handled (not a document). */
  readonly final: boolean;
}

type Record_ =
  | {
      op: 'failed';
      at: string;
      offset: number;
      length: number;
      id: string | null;
      attempts: number;
      firstFailedAt: string;
      error: string;
      final: boolean;
    }
  | { op: 'done'; at: string; offset: number };

export interface DrainResult {
  /** Documents the processor handled. */
  readonly handled: number;
  /** Documents that failed (new dead letters and failed retries). */
  readonly failed: number;
  /** Dead letters that succeeded on retry. */
  readonly recovered: number;
  /** Another process holds this consumer: nothing was done (it consumes what this one would have). */
  readonly busy: boolean;
  readonly lastError: string | null;
}

export interface ConsumerStatus {
  readonly processor: string;
  /** Byte offset in the event log up to which every event was consumed (handled or dead-lettered). */
  readonly offset: number;
  readonly logBytes: number;
  /** Events after the cursor. */
  readonly behind: number;
  /** Dead letters still to be retried. */
  readonly retrying: number;
  /** Dead letters given up on: an operator's to look at (`replay` publishes them again). */
  readonly givenUp: number;
  readonly lastFailure: { readonly at: string; readonly id: string | null; readonly error: string } | null;
}

export function consumerFiles(storeDir: string, name: string): { cursor: string; deadLetters: string; dir: string } {
  if (!PROCESSOR_NAME.test(name)) throw new TypeError(`invalid processor name ${JSON.stringify(name)}`);
  // Beside the processor's output folder `processors/<name>/`; names hold no ".", so no processor's folder is hit.
  const dir = join(storeDir, 'processors');
  return { dir, cursor: join(dir, `${name}.cursor.json`), deadLetters: join(dir, `${name}.dead-letters.jsonl`) };
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
}

async function readCursor(path: string): Promise<number | null> {
  const text = await readText(path);
  if (text === null) return null;
  const v = JSON.parse(text) as { offset?: unknown };
  if (typeof v.offset !== 'number' || !Number.isSafeInteger(v.offset) || v.offset < 0) throw new Error(`${path} holds no valid offset`);
  return v.offset;
}

/** The live dead letters: the file is a journal of failures and successes, folded here. */
async function readDeadLetters(path: string): Promise<{ letters: Map<number, DeadLetter>; journalLines: number }> {
  const letters = new Map<number, DeadLetter>();
  const text = await readText(path);
  let journalLines = 0;
  for (const line of (text ?? '').split('\n')) {
    if (line === '') continue;
    journalLines++;
    let r: Record_;
    try {
      r = JSON.parse(line) as Record_;
    } catch {
      continue; // a line torn by a crash: the failure is recorded again when its document fails again
    }
    if (r.op === 'done') letters.delete(r.offset);
    else
      letters.set(r.offset, {
        offset: r.offset,
        length: r.length,
        id: r.id,
        attempts: r.attempts,
        firstFailedAt: r.firstFailedAt,
        lastFailedAt: r.at,
        error: r.error,
        final: r.final,
      });
  }
  return { letters, journalLines };
}

const failedRecord = (l: DeadLetter): Record_ => ({
  op: 'failed',
  at: l.lastFailedAt,
  offset: l.offset,
  length: l.length,
  id: l.id,
  attempts: l.attempts,
  firstFailedAt: l.firstFailedAt,
  error: l.error,
  final: l.final,
});

function describe(err: unknown): string {
  const e = classifyError(err);
  const text = e.message.startsWith(e.code) ? e.message : `${e.code}: ${e.message}`;
  return redact(text.length > 500 ? `${text.slice(0, 500)}...` : text);
}

function parseDocument(text: string | null): MetadataDocument | string {
  if (text === null) return `longer than ${MAX_LINE_BYTES} bytes: not a metadata document`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'not JSON (a line torn by a crash?)';
  }
  const parsed = metadataDocumentSchema.safeParse(json);
  return parsed.success ? parsed.data : 'not a metadata document of schema version 1';
}

/**
 * One local processor reading the event log with its own durable cursor, as an SQS consumer reads its queue: a
 * document it fails on goes to its dead-letter file with the error and the next one is handled; dead letters are
 * retried on the next run (`drain({ retry: true })`), up to MAX_ATTEMPTS. The ingest never waits on a failure.
 */
export class LocalConsumer {
  readonly processor: LocalProcessor;
  readonly #log: string;
  readonly #files: ReturnType<typeof consumerFiles>;
  readonly #locks: FsLeaseFiles;

  constructor(storeDir: string, logPath: string, processor: LocalProcessor) {
    this.processor = processor;
    this.#log = logPath;
    this.#files = consumerFiles(storeDir, processor.name);
    this.#locks = new FsLeaseFiles({
      dir: this.#files.dir,
      checkName: (n) => {
        if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}\.lock$/.test(n)) throw new TypeError(`invalid lock name ${n}`);
      },
    });
  }

  /** A new processor starts at the log's end as it is now: it gets what is published from now on (`replay` fills it). */
  async ensureCursor(): Promise<void> {
    if ((await readCursor(this.#files.cursor)) !== null) return;
    await mkdirDurable(this.#files.dir);
    await this.#saveCursor(await logSize(this.#log));
  }

  /**
   * Temp file, fsync, rename: a reader sees the old cursor or the new one, never a torn one. The directory is not
   * fsynced: a rename lost to a power loss leaves the older cursor, from which the documents since are consumed
   * again (at least once, as from a queue), never skipped.
   */
  async #saveCursor(offset: number): Promise<void> {
    const cursor = `${JSON.stringify({ version: 1, processor: this.processor.name, offset, updatedAt: new Date().toISOString() })}\n`;
    const tmp = await writeDurableTemp(cursor, this.#files.dir);
    try {
      await rename(tmp, this.#files.cursor);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  async #appendLetters(records: Record_[]): Promise<void> {
    if (records.length === 0) return;
    const fh = await open(this.#files.deadLetters, 'a', FILE_MODE);
    try {
      await writeFully(fh, Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8'));
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async #handle(doc: MetadataDocument): Promise<void> {
    await this.processor.handle(doc);
  }

  /** Consumes the log up to its current end; with `retry`, first retries the dead letters (once per run). */
  async drain(options: { readonly retry?: boolean } = {}): Promise<DrainResult> {
    const lock = await this.#locks.acquire(`${this.processor.name}.lock`, { ttlMs: LOCK_TTL_MS });
    if (!lock.acquired) return { handled: 0, failed: 0, recovered: 0, busy: true, lastError: null };
    let renewedAt = Date.now();
    const keepLock = async (): Promise<void> => {
      if (Date.now() - renewedAt < LOCK_TTL_MS / 3) return;
      await lock.lease.renew();
      renewedAt = Date.now();
    };
    let handled = 0;
    let failed = 0;
    let recovered = 0;
    let lastError: string | null = null;
    const journal: Record_[] = [];
    try {
      await this.ensureCursor();
      const { letters, journalLines } = await readDeadLetters(this.#files.deadLetters);
      const fail = (offset: number, length: number, id: string | null, error: string, final: boolean): void => {
        const at = new Date().toISOString();
        const before = letters.get(offset);
        const attempts = (before?.attempts ?? 0) + 1;
        const letter: DeadLetter = {
          offset,
          length,
          id,
          attempts,
          firstFailedAt: before?.firstFailedAt ?? at,
          lastFailedAt: at,
          error,
          final: final || attempts >= MAX_ATTEMPTS,
        };
        letters.set(offset, letter);
        journal.push(failedRecord(letter));
        failed++;
        lastError = error;
      };
      const succeeded = (id: string): void => {
        // The same document again (a republish, a replay) went through: its older letters are settled too.
        for (const l of letters.values()) {
          if (l.id !== id) continue;
          letters.delete(l.offset);
          journal.push({ op: 'done', at: new Date().toISOString(), offset: l.offset });
        }
      };

      if (options.retry === true) {
        // Compact the journal to the live letters first, so it stays as small as the failures it records.
        if (journalLines > letters.size)
          await writeFileAtomic(
            this.#files.deadLetters,
            [...letters.values()].map((l) => `${JSON.stringify(failedRecord(l))}\n`).join(''),
            this.#files.dir,
          );
        const due = [...letters.values()]
          .filter((l) => !l.final)
          .sort((a, b) => a.offset - b.offset)
          .slice(0, RETRIES_PER_RUN);
        for (const l of due) {
          if (!letters.has(l.offset)) continue; // settled meanwhile by a retry of the same document
          let text: string;
          try {
            text = await readLineAt(this.#log, l.offset, l.length);
          } catch (err) {
            fail(l.offset, l.length, l.id, `no longer in the event log: ${describe(err)}`, true);
            continue;
          }
          const doc = parseDocument(text);
          if (typeof doc === 'string') {
            fail(l.offset, l.length, l.id, doc, true);
            continue;
          }
          try {
            await this.#handle(doc);
            recovered++;
            succeeded(doc.id);
          } catch (err) {
            fail(l.offset, l.length, doc.id, describe(err), false);
          }
          await keepLock();
        }
      }

      let cursor = (await readCursor(this.#files.cursor))!;
      const end = await logSize(this.#log);
      let unsaved = 0;
      let savedAt = Date.now();
      for await (const line of readLines(this.#log, cursor, end, MAX_LINE_BYTES)) {
        const doc = parseDocument(line.text);
        if (typeof doc === 'string') {
          fail(line.offset, line.length, null, doc, true);
        } else if (matchesFilter(doc, this.processor.filter)) {
          try {
            await this.#handle(doc);
            handled++;
            succeeded(doc.id);
          } catch (err) {
            fail(line.offset, line.length, doc.id, describe(err), false);
          }
        }
        cursor = line.offset + line.length;
        if (++unsaved >= SAVE_EVERY || Date.now() - savedAt >= SAVE_MS) {
          // Letters first: a crash between the two redoes these documents, it never skips a failure.
          await this.#appendLetters(journal.splice(0));
          await this.#saveCursor(cursor);
          unsaved = 0;
          savedAt = Date.now();
          await keepLock();
        }
      }
      await this.#appendLetters(journal.splice(0));
      if (unsaved > 0) await this.#saveCursor(cursor);
    } catch (err) {
      // Lost the lock (this process stalled): stop here; what was saved stands, the rest is consumed again.
      if (!(err instanceof LeaseError)) throw err;
    } finally {
      await lock.lease.release().catch(() => undefined);
    }
    return { handled, failed, recovered, busy: false, lastError };
  }
}

/** Where a processor is in the event log and what it failed on: for `mail-ingest status`. */
export async function consumerStatus(storeDir: string, logPath: string, name: string): Promise<ConsumerStatus> {
  const files = consumerFiles(storeDir, name);
  const logBytes = await logSize(logPath);
  const offset = Math.min((await readCursor(files.cursor)) ?? logBytes, logBytes);
  const letters = [...(await readDeadLetters(files.deadLetters)).letters.values()];
  const last = letters.sort((a, b) => a.lastFailedAt.localeCompare(b.lastFailedAt)).at(-1);
  return {
    processor: name,
    offset,
    logBytes,
    behind: await countLines(logPath, offset, logBytes),
    retrying: letters.filter((l) => !l.final).length,
    givenUp: letters.filter((l) => l.final).length,
    lastFailure: last === undefined ? null : { at: last.lastFailedAt, id: last.id, error: last.error },
  };
}
