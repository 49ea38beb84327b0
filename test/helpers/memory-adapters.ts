/**
 * In-memory RawStore, StateStore and Publisher for pipeline unit tests. They keep the contracts of
 * lib/store/types.ts and lib/publish/types.ts faithfully (staged bytes invisible until commit, verification,
 * never-overwrite, compare-and-set) and add fault injection and inspection.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';
import { PublishError } from '../../lib/publish/types.ts';
import type { Publisher, PublishResult } from '../../lib/publish/types.ts';
import { parseRawKey } from '../../lib/store/keys.ts';
import { emptyState } from '../../lib/store/state-format.ts';
import { StoreError } from '../../lib/store/types.ts';
import type {
  CommitResult,
  MailboxState,
  MetadataQuery,
  PutObjectOptions,
  PutObjectResult,
  RawStore,
  StagedRaw,
  StateStore,
  VersionedState,
} from '../../lib/store/types.ts';

export type FaultOp =
  | 'stage'
  | 'write'
  | 'commit'
  | 'abort'
  | 'exists'
  | 'getRaw'
  | 'putMetadata'
  | 'flush'
  | 'getMetadata'
  | 'putObject'
  | 'stateRead'
  | 'stateWrite'
  | 'publish';

export interface FaultOptions {
  /**
   * Apply the operation's effect first, then throw: the ambiguous failure of a network store (the object or
   * state was written, or the batch sent, but the caller sees an error). Meaningful for commit, putMetadata,
   * putObject, stateWrite and publish. @default false
   */
  readonly afterEffect?: boolean;
}

interface Fault {
  readonly error: Error;
  readonly afterEffect: boolean;
}

/** Faults queued per operation; each `failNext` fails exactly one future call of that operation. */
export class FaultQueue {
  readonly #queues = new Map<FaultOp, Fault[]>();

  add(op: FaultOp, error: Error | undefined, options: FaultOptions | undefined, defaultError: () => Error): void {
    const q = this.#queues.get(op) ?? [];
    q.push({ error: error ?? defaultError(), afterEffect: options?.afterEffect ?? false });
    this.#queues.set(op, q);
  }

  take(op: FaultOp): Fault | undefined {
    const q = this.#queues.get(op);
    const fault = q?.shift();
    if (q !== undefined && q.length === 0) this.#queues.delete(op);
    return fault;
  }

  pending(op?: FaultOp): number {
    if (op !== undefined) return this.#queues.get(op)?.length ?? 0;
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  clear(): void {
    this.#queues.clear();
  }
}

function sha256Hex(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

const injectedStoreError = (op: FaultOp) => () => new StoreError('EIO', `injected ${op} failure`);

export interface MemoryRawStoreOptions {
  readonly kind?: 'fs' | 's3';
  readonly location?: string;
  /** Set as `bucket` on commit results (an s3-like store). */
  readonly bucket?: string;
  /** @default '' */
  readonly keyPrefix?: string;
}

/**
 * `objects` holds every committed object by key: raw messages (.eml) and putObject blobs. `documents` holds the
 * flushed metadata documents (as the JSON a real store would hold), one per id, the first one put standing.
 */
export class MemoryRawStore implements RawStore {
  readonly kind: 'fs' | 's3';
  readonly location: string;
  readonly bucket: string | undefined;
  readonly keyPrefix: string;
  readonly objects = new Map<string, Buffer>();
  /** Flushed metadata documents by id, as JSON, in the order stored. */
  readonly documents = new Map<string, string>();
  /** Documents put since the last flush. */
  readonly pendingDocuments: MetadataDocument[] = [];
  readonly faults = new FaultQueue();
  /** Every call, in order, for assertions on the sequence of operations. */
  readonly calls: Array<{ readonly op: FaultOp; readonly key?: string }> = [];
  /** Staged writes neither committed nor aborted. */
  readonly openStages = new Set<string>();
  /** Bytes written to the largest single staged write so far, committed or not (what a store was asked to hold). */
  largestStagedWrite = 0;
  /** When set, the next commit stores these bytes instead of the staged ones (silent corruption on the way to disk). */
  #corruptNext: Buffer | null = null;

  constructor(options: MemoryRawStoreOptions = {}) {
    this.kind = options.kind ?? 'fs';
    this.location = options.location ?? 'memory';
    this.bucket = options.bucket;
    this.keyPrefix = options.keyPrefix ?? '';
  }

  failNext(op: FaultOp, error?: Error, options?: FaultOptions): this {
    this.faults.add(op, error, options, injectedStoreError(op));
    return this;
  }

  /** The next commit persists `bytes` instead of what was staged, so its verification must fail (EVERIFY). */
  corruptNextCommit(bytes: Buffer = Buffer.from('corrupted')): this {
    this.#corruptNext = bytes;
    return this;
  }

  /** Raw message keys (.eml) currently stored. */
  rawKeys(): string[] {
    return [...this.objects.keys()].filter((k) => k.endsWith('.eml')).sort();
  }

  /** Metadata documents currently stored, by raw key (the first stored for each). */
  metadata(): Map<string, MetadataDocument> {
    const out = new Map<string, MetadataDocument>();
    for (const json of this.documents.values()) {
      const doc = JSON.parse(json) as MetadataDocument;
      if (!out.has(doc.raw.key)) out.set(doc.raw.key, doc);
    }
    return out;
  }

  #check(op: FaultOp, key?: string): void {
    this.calls.push(key === undefined ? { op } : { op, key });
    const fault = this.faults.take(op);
    if (fault !== undefined) throw fault.error;
  }

  async stage(mailbox: string): Promise<StagedRaw> {
    this.#check('stage');
    const id = `${mailbox}/${randomUUID()}`;
    this.openStages.add(id);
    const chunks: Buffer[] = [];
    let done = false;
    let written = 0;
    const writable = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        const fault = this.faults.take('write');
        if (fault !== undefined) return cb(fault.error);
        chunks.push(Buffer.from(chunk));
        written += chunk.length;
        this.largestStagedWrite = Math.max(this.largestStagedWrite, written);
        cb();
      },
    });
    const commit = async (key: string, expected: { sha256: string; size: number }): Promise<CommitResult> => {
      this.calls.push({ op: 'commit', key });
      if (done) throw new StoreError('EIO', 'staged write already committed or aborted');
      // As with the fs store, a commit consumes the staged bytes whether it succeeds or not; abort() is then a no-op.
      done = true;
      this.openStages.delete(id);
      const fault = this.faults.take('commit');
      if (fault !== undefined && !fault.afterEffect) throw fault.error;
      if (!writable.writableFinished) throw new StoreError('EIO', 'commit before the staged writable finished');
      let bytes: Buffer = Buffer.concat(chunks);
      if (this.#corruptNext !== null) {
        bytes = this.#corruptNext;
        this.#corruptNext = null;
      }
      const actual = { sha256: sha256Hex(bytes), size: bytes.length };
      if (actual.sha256 !== expected.sha256 || actual.size !== expected.size) {
        throw new StoreError(
          'EVERIFY',
          `stored bytes do not match: expected ${expected.size} bytes ${expected.sha256}, got ${actual.size} bytes ${actual.sha256}`,
        );
      }
      const existing = this.objects.get(key);
      let existed = false;
      if (existing !== undefined) {
        if (sha256Hex(existing) !== actual.sha256) {
          throw new StoreError('ECONFLICT', `a different object is already stored at ${key}`);
        }
        existed = true;
      } else {
        this.objects.set(key, bytes);
      }
      if (fault !== undefined) throw fault.error;
      return { key, size: actual.size, sha256: actual.sha256, existed, ...(this.bucket === undefined ? {} : { bucket: this.bucket }) };
    };
    const abort = async (): Promise<void> => {
      this.calls.push({ op: 'abort' });
      done = true;
      chunks.length = 0;
      this.openStages.delete(id);
      const fault = this.faults.take('abort');
      if (fault !== undefined) throw fault.error;
    };
    return { writable, commit, abort };
  }

  async exists(key: string): Promise<boolean> {
    this.#check('exists', key);
    return this.objects.has(key);
  }

  async getRaw(key: string): Promise<Readable> {
    this.#check('getRaw', key);
    const body = this.objects.get(key);
    if (body === undefined) throw new StoreError('ENOTFOUND', `no object at ${key}`);
    return Readable.from([body]);
  }

  async putMetadata(doc: MetadataDocument): Promise<void> {
    this.calls.push({ op: 'putMetadata', key: doc.raw.key });
    const fault = this.faults.take('putMetadata');
    if (fault !== undefined && !fault.afterEffect) throw fault.error;
    this.pendingDocuments.push(JSON.parse(JSON.stringify(doc)) as MetadataDocument);
    if (fault !== undefined) throw fault.error;
  }

  async flush(): Promise<void> {
    this.calls.push({ op: 'flush' });
    const fault = this.faults.take('flush');
    if (fault !== undefined && !fault.afterEffect) throw fault.error;
    for (const doc of this.pendingDocuments.splice(0)) if (!this.documents.has(doc.id)) this.documents.set(doc.id, JSON.stringify(doc));
    if (fault !== undefined) throw fault.error;
  }

  async getMetadata(rawKey: string, id?: string): Promise<MetadataDocument | null> {
    this.#check('getMetadata', rawKey);
    for (const json of this.documents.values()) {
      const doc = JSON.parse(json) as MetadataDocument;
      if (doc.raw.key === rawKey && (id === undefined || doc.id === id)) return doc;
    }
    return null;
  }

  async *listMetadata(query: MetadataQuery = {}): AsyncIterable<MetadataDocument> {
    const since =
      query.since === undefined ? null : Date.UTC(query.since.getUTCFullYear(), query.since.getUTCMonth(), query.since.getUTCDate());
    const entries = [...this.documents.values()]
      .map((json) => JSON.parse(json) as MetadataDocument)
      .map((doc, order) => ({ parsed: parseRawKey(doc.raw.key)!, doc, order }))
      .filter(
        (e) =>
          e.parsed !== null &&
          e.parsed.prefix === this.keyPrefix &&
          (query.mailbox === undefined || e.parsed.mailbox === query.mailbox) &&
          (since === null || e.parsed.date.getTime() >= since),
      )
      // The fs layout walks mailbox, then date partitions, then documents in the order stored: the same order here.
      .sort(
        (a, b) =>
          (a.parsed.mailbox < b.parsed.mailbox ? -1 : a.parsed.mailbox > b.parsed.mailbox ? 1 : 0) ||
          a.parsed.date.getTime() - b.parsed.date.getTime() ||
          a.order - b.order,
      );
    for (const e of entries) yield e.doc;
  }

  async putObject(key: string, body: Buffer | string, _contentType?: string, options: PutObjectOptions = {}): Promise<PutObjectResult> {
    this.calls.push({ op: 'putObject', key });
    const fault = this.faults.take('putObject');
    if (fault !== undefined && !fault.afterEffect) throw fault.error;
    const where = this.bucket === undefined ? { key } : { key, bucket: this.bucket };
    const existing = this.objects.get(key);
    if (options.ifAbsent === true && existing !== undefined) return { ...where, existing: Buffer.from(existing) };
    this.objects.set(key, Buffer.isBuffer(body) ? Buffer.from(body) : Buffer.from(body, 'utf8'));
    if (fault !== undefined) throw fault.error;
    return where;
  }

  async getObject(key: string): Promise<Buffer | null> {
    const body = this.objects.get(key);
    return body === undefined ? null : Buffer.from(body);
  }
}

/**
 * Per-mailbox state held as the serialized JSON a real store would hold (so callers never share object
 * identity with it). Versions are opaque strings that change on every write.
 */
export class MemoryStateStore implements StateStore {
  readonly faults = new FaultQueue();
  /** Successful writes (including afterEffect faults, which did write). */
  stateWrites = 0;
  /** Writes rejected with ECONFLICT. */
  conflicts = 0;
  readonly #states = new Map<string, { json: string; version: string }>();
  #counter = 0;

  failNext(op: 'stateRead' | 'stateWrite', error?: Error, options?: FaultOptions): this {
    this.faults.add(op, error, options, injectedStoreError(op));
    return this;
  }

  /** The current state (a copy), or undefined when none was written. */
  get(mailbox: string): MailboxState | undefined {
    const s = this.#states.get(mailbox);
    return s === undefined ? undefined : (JSON.parse(s.json) as MailboxState);
  }

  version(mailbox: string): string | null {
    return this.#states.get(mailbox)?.version ?? null;
  }

  /** Another writer replaces the state underneath (bumps the version), to provoke ECONFLICT. */
  set(mailbox: string, state: MailboxState): string {
    const version = `v${++this.#counter}`;
    this.#states.set(mailbox, { json: JSON.stringify(state), version });
    return version;
  }

  async read(mailbox: string): Promise<VersionedState> {
    const fault = this.faults.take('stateRead');
    if (fault !== undefined) throw fault.error;
    const s = this.#states.get(mailbox);
    if (s === undefined) return { state: emptyState(mailbox), version: null };
    return { state: JSON.parse(s.json) as MailboxState, version: s.version };
  }

  async write(mailbox: string, state: MailboxState, expectedVersion: string | null): Promise<string> {
    const fault = this.faults.take('stateWrite');
    if (fault !== undefined && !fault.afterEffect) throw fault.error;
    const current = this.#states.get(mailbox)?.version ?? null;
    if (current !== expectedVersion) {
      this.conflicts++;
      throw new StoreError(
        'ECONFLICT',
        `state of ${mailbox} changed: expected version ${String(expectedVersion)}, found ${String(current)}`,
      );
    }
    const version = this.set(mailbox, state);
    this.stateWrites++;
    if (fault !== undefined) throw fault.error;
    return version;
  }
}

/** Records every accepted document; `published` in order, `batches` as passed to publish(). */
export class MemoryPublisher implements Publisher {
  readonly faults = new FaultQueue();
  readonly published: MetadataDocument[] = [];
  readonly batches: MetadataDocument[][] = [];
  /** publish() calls, including failed ones. */
  calls = 0;
  closed = false;

  failNext(op: 'publish' = 'publish', error?: Error, options?: FaultOptions): this {
    this.faults.add(op, error, options, () => new PublishError('injected publish failure', []));
    return this;
  }

  /** Ids published, in order (with repeats). */
  ids(): string[] {
    return this.published.map((d) => d.id);
  }

  async publish(docs: readonly MetadataDocument[]): Promise<PublishResult> {
    this.calls++;
    const fault = this.faults.take('publish');
    const ids = docs.map((d) => d.id);
    const failure = (e: Error) =>
      e instanceof PublishError && e.failedIds.length === 0 && ids.length > 0
        ? new PublishError(e.message, ids, { cause: e.cause, retryable: e.retryable })
        : e;
    if (fault !== undefined && !fault.afterEffect) throw failure(fault.error);
    const copies = docs.map((d) => structuredClone(d));
    this.published.push(...copies);
    this.batches.push(copies);
    if (fault !== undefined) throw failure(fault.error);
    return { published: docs.length, perTarget: { memory: docs.length } };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A valid, empty metadata document (schema v1) with `overrides` applied: for tests of stores and publishers. */
export function fakeMetadataDocument(overrides: Partial<MetadataDocument> = {}): MetadataDocument {
  const id = overrides.id ?? 'doc-1';
  return {
    schemaVersion: 1,
    id,
    mailbox: 'support',
    uidl: `uidl-${id}`,
    ingestedAt: '2025-01-02T03:04:05.000Z',
    raw: { key: `raw/support/2025/01/02/${'0'.repeat(64)}.eml`, size: 0, sha256: '0'.repeat(64) },
    messageId: null,
    inReplyTo: null,
    references: [],
    date: null,
    subject: null,
    from: [],
    to: [],
    cc: [],
    replyTo: [],
    attachments: [],
    snippet: '',
    flags: { autoReply: false, bounce: false, list: false, bulk: false, spam: false, oversized: false },
    headers: { listId: null, authenticationResults: [], spamFlag: null, spamStatus: null, autoSubmitted: null, returnPath: null },
    parseError: null,
    ...overrides,
  };
}
