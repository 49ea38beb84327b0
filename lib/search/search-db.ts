import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { SearchError } from './errors.ts';

/** Bumped when the tables change: an index of another version is dropped and rebuilt (it is a cache of the archive). */
export const INDEX_SCHEMA_VERSION = '2';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS messages (
  -- The sort time (ms * 1024 + n): the primary key is the archive's order (lib/search/index-writer.ts).
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  mailbox TEXT NOT NULL,
  sort_at TEXT NOT NULL,
  ingested_at TEXT NOT NULL,
  ingested_day TEXT NOT NULL,
  size INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  attachments INTEGER NOT NULL,
  raw_key TEXT NOT NULL,
  subject_key TEXT NOT NULL,
  is_reply INTEGER NOT NULL,
  body_state INTEGER NOT NULL,
  doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS messages_mailbox ON messages (mailbox);
CREATE INDEX IF NOT EXISTS messages_raw_key ON messages (raw_key);
CREATE INDEX IF NOT EXISTS messages_day ON messages (mailbox, ingested_day);
CREATE INDEX IF NOT EXISTS messages_subject ON messages (mailbox, subject_key);
CREATE INDEX IF NOT EXISTS messages_pending ON messages (body_state) WHERE body_state = 0;
CREATE TABLE IF NOT EXISTS refs (ref TEXT NOT NULL, msg INTEGER NOT NULL, PRIMARY KEY (ref, msg)) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS refs_msg ON refs (msg);
-- tags: the filters (mailbox, flags, attachments) as text, so that a search with both words and filters is one
-- intersection inside the full-text index (lib/search/index-writer.ts tagsOf).
CREATE VIRTUAL TABLE IF NOT EXISTS text USING fts5(subject, sender, recipients, attachments, body, tags, tokenize = 'trigram remove_diacritics 1');
`;

/** What body_state means: the body column holds the snippet until the message's own text has been read. */
export const BODY = { pending: 0, indexed: 1, unavailable: 2 } as const;

function sqliteCode(err: unknown): number | undefined {
  const e = err as { errcode?: unknown };
  return typeof e?.errcode === 'number' ? e.errcode & 0xff : undefined;
}

/** SQLITE_BUSY (5) and SQLITE_LOCKED (6): another connection holds the lock past the busy timeout. */
export function toSearchError(err: unknown, what: string): SearchError {
  if (err instanceof SearchError) return err;
  const code = sqliteCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === 5 || code === 6) return new SearchError('EINDEXBUSY', `search index busy while ${what}: ${message}`, { cause: err });
  return new SearchError('EINDEX', `search index: ${what} failed: ${message}`, { cause: err });
}

export interface OpenOptions {
  /** Open an existing index for reading only (never creates or migrates). @default false */
  readonly readOnly?: boolean;
  /** How long to wait for another process's write lock. @default 10000 ms */
  readonly busyTimeoutMs?: number;
}

/**
 * The embedded search index: one SQLite file (node:sqlite, FTS5 with the trigram tokenizer, so that a substring
 * of Japanese text, which has no spaces between words, matches: 見積 finds 見積書). It is a cache of the archive,
 * never the archive: everything in it can be rebuilt from the metadata documents.
 */
export class SearchDb {
  readonly path: string;
  readonly db: DatabaseSync;
  readonly #statements = new Map<string, ReturnType<DatabaseSync['prepare']>>();

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
  }

  static open(path: string, options: OpenOptions = {}): SearchDb {
    let db: DatabaseSync;
    try {
      if (!options.readOnly && path !== ':memory:') {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        // The index holds message text: created private (SQLite gives its -wal and -shm files the same mode).
        closeSync(openSync(path, 'a', 0o600));
      }
      db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000))}`);
    } catch (err) {
      throw toSearchError(err, `opening ${path}`);
    }
    const self = new SearchDb(path, db);
    if (!options.readOnly) {
      try {
        // WAL: `serve` keeps reading while `run` adds what it ingested. NORMAL sync: a power cut may lose the
        // last transactions of this cache, never corrupt it, and the cursor is in the same transactions.
        db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
        self.#migrate();
      } catch (err) {
        db.close();
        throw toSearchError(err, `preparing ${path}`);
      }
    }
    return self;
  }

  #migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT');
    const version = this.getMeta('schema');
    if (version !== null && version !== INDEX_SCHEMA_VERSION) {
      this.db.exec('DROP TABLE IF EXISTS text; DROP TABLE IF EXISTS refs; DROP TABLE IF EXISTS messages; DELETE FROM meta;');
    }
    this.db.exec(SCHEMA);
    this.setMeta('schema', INDEX_SCHEMA_VERSION);
  }

  /** A cached prepared statement. */
  stmt(sql: string): ReturnType<DatabaseSync['prepare']> {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  run(sql: string, ...params: SQLInputValue[]): void {
    this.stmt(sql).run(...params);
  }

  getMeta(key: string): string | null {
    return this.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
  }

  /**
   * Runs `fn` in one write transaction. IMMEDIATE takes the write lock first, so two processes catching up at
   * once (a `run` and a `serve`) take turns: each reads the cursor the other left.
   */
  transaction<T>(fn: () => T): T {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw toSearchError(err, 'starting a write');
    }
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        /* already rolled back by SQLite */
      }
      throw toSearchError(err, 'writing');
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
