import { eventLogPath as localEventLogPath } from '../publish/local-publisher.ts';
import type { Config } from '../config/types.ts';
import type { RawStore } from '../store/types.ts';
import { catchUpListing } from './archive-listing.ts';
import { fillBodies } from './body-text.ts';
import { catchUpEventLog } from './event-log-source.ts';
import { clearIndex } from './index-writer.ts';
import type { SearchDb } from './search-db.ts';

/** The fs event log, when the config has one: documents then arrive in order, from a cursor. */
export function eventLogPath(config: Config): string | null {
  return config.store.type === 'fs' && config.publish.type === 'local' ? localEventLogPath(config.store.dir) : null;
}

export interface CatchUpOptions {
  /** Body text of newly indexed messages is read until this time (epoch ms); the rest next time. @default no limit */
  readonly bodyDeadline?: number;
  /** Skip reading bodies altogether (they stay pending). @default false */
  readonly skipBodies?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (phase: 'documents' | 'bodies', done: number) => void;
}

export interface CatchUpSummary {
  readonly source: 'event-log' | 'listing';
  /** Documents read from the log or the archive. */
  readonly read: number;
  /** Index rows added or changed. */
  readonly written: number;
  readonly skipped: number;
  readonly bodies: number;
  /** Messages whose body text is still to be read. */
  readonly pendingBodies: number;
  readonly documents: number;
}

/**
 * Brings the index up to date with the archive without touching it: from the event log's cursor when the config
 * has one (and one listing pass the first time, for documents the log never had), by listing otherwise.
 */
export async function catchUp(index: SearchDb, config: Config, store: RawStore, options: CatchUpOptions = {}): Promise<CatchUpSummary> {
  const log = eventLogPath(config);
  let read = 0;
  let written = 0;
  let skipped = 0;
  if (log !== null) {
    const r = catchUpEventLog(index, log);
    read += r.read;
    written += r.written;
    skipped += r.skipped;
  }
  if (log === null || index.getMeta('listing.done') === null) {
    const r = await catchUpListing(index, store, config.store, {
      signal: options.signal,
      onProgress: (n) => options.onProgress?.('documents', n),
    });
    read += r.read;
    written += r.written;
    skipped += r.skipped;
    if (log !== null && !options.signal?.aborted) index.transaction(() => index.setMeta('listing.done', new Date().toISOString()));
  }
  options.onProgress?.('documents', read);
  const bodies = await bodiesAsAsked(index, store, options);
  return { source: log === null ? 'listing' : 'event-log', read, written, skipped, bodies, ...counts(index) };
}

export function counts(index: SearchDb): { documents: number; pendingBodies: number } {
  return { documents: index.get<{ n: number }>('SELECT count(*) AS n FROM messages')!.n, pendingBodies: pendingCount(index) };
}

/** Messages whose body text is still to be read (the partial index on body_state = 0 answers it). */
export function pendingCount(index: SearchDb): number {
  return index.get<{ n: number }>('SELECT count(*) AS n FROM messages WHERE body_state = 0')!.n;
}

/**
 * Recreates the index from the archive's metadata documents. Done in one transaction: until it commits, readers
 * (a running `serve`) see the old index, and a crash leaves the old index whole. The event log cursor is taken
 * before listing, so documents appended meanwhile are read again by the next catch-up (rows are idempotent).
 */
export async function rebuild(index: SearchDb, config: Config, store: RawStore, options: CatchUpOptions = {}): Promise<CatchUpSummary> {
  const log = eventLogPath(config);
  let listing: Awaited<ReturnType<typeof catchUpListing>> | null = null;
  index.db.exec('BEGIN IMMEDIATE');
  try {
    clearIndex(index);
    listing = await catchUpListing(index, store, config.store, {
      all: true,
      signal: options.signal,
      nested: true,
      onProgress: (n) => options.onProgress?.('documents', n),
    });
    if (options.signal?.aborted) throw new Error('rebuild interrupted');
    index.setMeta('listing.done', new Date().toISOString());
    index.db.exec('COMMIT');
  } catch (err) {
    try {
      index.db.exec('ROLLBACK');
    } catch {
      /* nothing to roll back */
    }
    throw err;
  }
  // The log is then read from the start: every line is a document just listed (skipped as unchanged) or a newer one.
  const fromLog = log === null ? null : catchUpEventLog(index, log);
  const bodies = await bodiesAsAsked(index, store, options);
  return {
    source: log === null ? 'listing' : 'event-log',
    read: listing.read + (fromLog?.read ?? 0),
    written: listing.written + (fromLog?.written ?? 0),
    skipped: listing.skipped + (fromLog?.skipped ?? 0),
    bodies,
    ...counts(index),
  };
}

/** Body text for the documents still without it, unless the caller asked for none (skipBodies). */
function bodiesAsAsked(index: SearchDb, store: RawStore, options: CatchUpOptions): Promise<number> {
  if (options.skipBodies) return Promise.resolve(0);
  return fillBodies(index, store, {
    deadline: options.bodyDeadline,
    signal: options.signal,
    onProgress: (n) => options.onProgress?.('bodies', n),
  });
}
