import type { MessageStream, Pop3Client } from '../pop3/types.ts';
import type { RawStore } from '../store/types.ts';
import type { Publisher } from '../publish/types.ts';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import type { FaultPoint, MailboxJob, ProgressEvent } from './pipeline-types.ts';
import type { ListedMessage } from './plan.ts';
import type { StateTracker } from './state-tracker.ts';
import { buildDocument } from '../document/document.ts';
import { classifyError } from './errors.ts';
import { duplicateKey } from './plan.ts';
import { receiveMessage, type ReceivedMessage } from './receive-message.ts';

/**
 * Messages requested ahead of the one being received: enough to fill a long link (at 150 ms RTT, 256 small
 * messages in flight keep the line busy), bounded in count and bytes.
 */
export const LOOKAHEAD_MESSAGES = 256;
const LOOKAHEAD_BYTES = 8 * 1024 * 1024;
/** Commits (fsync, upload, verify) running while later messages are received, bounded in count and bytes. */
const COMMITS_IN_FLIGHT = 32;
const COMMIT_BYTES_IN_FLIGHT = 32 * 1024 * 1024;
/** A checkpoint publishes the documents gathered so far and then commits the state that covers them. */
const CHECKPOINT_MESSAGES = 100;
const CHECKPOINT_MS = 2_000;

export interface FetchCounters {
  stored: number; published: number; oversized: number; failed: number; bytes: number; skipped: number;
}

export interface FetchContext {
  readonly client: Pop3Client;
  readonly job: MailboxJob;
  readonly store: RawStore;
  readonly publisher: Publisher;
  readonly tracker: StateTracker;
  readonly counters: FetchCounters;
  readonly now: () => Date;
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  readonly checkpointEvery?: number;
  readonly faults?: Partial<Record<FaultPoint, (info: { uidl?: string }) => void | Promise<void>>>;
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  readonly progress: (phase: ProgressEvent['phase'], done: number, total: number) => void;
}

export interface FetchOutcome {
  /** Message number -> state key, for messages this session retrieved and committed. */
  readonly committed: Map<number, string>;
  /** Some message was RETR'd but is not committed: the session must end without QUIT (EXPIRE 0 servers). */
  readonly unsafe: boolean;
  /** The first per-message failure, kept for the summary. */
  readonly firstFailure: ReturnType<typeof classifyError> | null;
}

interface Requested { readonly message: ListedMessage; readonly top: boolean; readonly response: Promise<MessageStream> }

/** Errors that end the session; anything else is one message's failure, retried next run. */
function isSessionFatal(err: unknown, client: Pop3Client): boolean {
  const name = (err as { name?: string }).name;
  if (name === 'StoreError') return client.closed;
  // A -ERR to one RETR (ECOMMAND, or [SYS/TEMP]) leaves the session usable; anything that broke it closed it.
  if (name === 'Pop3Error') return client.closed;
  return true;
}

export async function fetchMessages(ctx: FetchContext, messages: readonly ListedMessage[], oversized: ReadonlySet<number>): Promise<FetchOutcome> {
  const { client, tracker, counters } = ctx;
  const committed = new Map<number, string>();
  // Documents with their message numbers: commits finish in any order, but each checkpoint publishes in the
  // mailbox's order (oldest first), which is what consumers such as ticket threading expect.
  let pending: { docs: Array<[number, MetadataDocument]>; numbers: Array<[number, string]> } = { docs: [], numbers: [] };
  let unsafe = 0; // RETR'd messages not yet committed
  let firstFailure: FetchOutcome['firstFailure'] = null;
  let fatal: unknown = null;
  let lastCheckpoint = Date.now();
  let next = 0;
  let done = 0;
  const window: Requested[] = [];
  let windowBytes = 0;
  const inflight = new Set<Promise<void>>();
  let inflightBytes = 0;
  const fault = async (point: FaultPoint, uidl?: string): Promise<void> => { await ctx.faults?.[point]?.({ uidl }); };
  const stopFetching = (): boolean => ctx.signal?.aborted === true || (ctx.deadline !== undefined && Date.now() >= ctx.deadline);
  const failMessage = (message: ListedMessage, err: unknown): void => {
    counters.failed++;
    firstFailure ??= classifyError(err);
    ctx.log('error', 'message not stored; it stays on the server and is retried next run', { n: message.n, error: classifyError(err) });
  };

  const fill = (): void => {
    while (next < messages.length && window.length < LOOKAHEAD_MESSAGES && (window.length === 0 || windowBytes < LOOKAHEAD_BYTES) && !stopFetching()) {
      const message = messages[next++];
      const top = oversized.has(message.n);
      const response = top ? client.top(message.n, 0) : client.retr(message.n);
      // Awaited in turn below. Meanwhile neither a rejection nor an error on a stream nobody reads yet (the
      // connection dropping while it waits in the window) may crash the process; pipeline() still sees the error.
      response.then((m) => { m.stream.on('error', () => undefined); }, () => undefined);
      window.push({ message, top, response });
      windowBytes += top ? 0 : message.size;
      if (!top) unsafe++;
    }
  };

  /** Commit, verify, write the metadata: runs concurrently with receiving the next messages. */
  const finish = async (message: ListedMessage, top: boolean, received: ReceivedMessage, ingestedAt: Date): Promise<void> => {
    try {
      const { ref, parsed } = await received.commit();
      await fault('after-store', message.uid);
      await fault('after-verify', message.uid);
      const key = message.duplicate ? duplicateKey(message.uid, ref.sha256) : message.uid;
      if (message.duplicate && Object.hasOwn(tracker.committed.uidls, key)) {
        pending.numbers.push([message.n, key]); // the same copy under a shared UIDL, ingested before
        return;
      }
      const doc = buildDocument({ mailbox: ctx.job.id, uidl: message.uid, ingestedAt, ref, parsed, oversized: top });
      await ctx.store.putMetadata(doc);
      pending.docs.push([message.n, doc]);
      pending.numbers.push([message.n, key]);
      tracker.add(key, {
        id: doc.id, sha256: ref.sha256, key: ref.key, size: top ? message.size : ref.size, listedSize: message.size,
        ingestedAt: doc.ingestedAt, deletedAt: null, ...(top ? { oversized: true } : {}),
      });
      if (top) counters.oversized++; else counters.stored++;
      counters.bytes += ref.size;
      if (parsed.parseError !== null) ctx.log('warn', 'message archived but not fully parsed', { id: doc.id, parseError: parsed.parseError });
    } catch (err) {
      if (isSessionFatal(err, client)) fatal ??= err;
      else failMessage(message, err);
    }
  };

  const settle = async (): Promise<void> => {
    await Promise.all(inflight);
    if (fatal !== null) throw fatal;
  };

  const checkpoint = async (): Promise<void> => {
    await settle();
    const batch = pending;
    pending = { docs: [], numbers: [] };
    if (batch.docs.length > 0) {
      const result = await ctx.publisher.publish(batch.docs.sort((a, b) => a[0] - b[0]).map(([, doc]) => doc));
      counters.published += batch.docs.length;
      ctx.log('debug', 'published', { count: batch.docs.length, perTarget: result.perTarget });
      await fault('after-publish');
    }
    await tracker.commit();
    await fault('after-state-commit');
    for (const [n, key] of batch.numbers) committed.set(n, key);
    unsafe -= batch.numbers.filter(([n]) => !oversized.has(n)).length;
    lastCheckpoint = Date.now();
  };

  /** The session died: what is already stored is still published and committed, so the next run does not fetch it again. */
  const salvage = async (cause: unknown): Promise<void> => {
    const name = (cause as { name?: string }).name;
    if (name !== 'Pop3Error' && name !== 'StoreError') return;
    try {
      fatal = null;
      await checkpoint();
    } catch (err) {
      ctx.log('warn', 'could not commit the messages stored before the session failed; they will be fetched again', { error: classifyError(err) });
    }
  };

  fill();
  try {
    while (window.length > 0) {
      const { message, top, response } = window.shift()!;
      windowBytes -= top ? 0 : message.size;
      fill();
      const ingestedAt = ctx.now();
      let received: ReceivedMessage;
      let body: MessageStream['stream'] | null = null;
      try {
        body = (await response).stream;
        received = await receiveMessage(body, { store: ctx.store, mailbox: ctx.job.id, uidl: message.uid, now: ingestedAt, sizeHint: top ? undefined : message.size });
      } catch (err) {
        if (isSessionFatal(err, client)) throw err;
        // Whatever failed, the body must not stay unread: it would hold back every pipelined response behind it.
        body?.destroy();
        failMessage(message, err);
        continue;
      }
      try {
        await fault('after-retr', message.uid);
      } catch (err) {
        await received.abort();
        throw err;
      }
      const bytes = received.size;
      const task = finish(message, top, received, ingestedAt).finally(() => { inflight.delete(task); inflightBytes -= bytes; });
      inflight.add(task);
      inflightBytes += bytes;
      while (inflight.size >= COMMITS_IN_FLIGHT || (inflight.size > 1 && inflightBytes >= COMMIT_BYTES_IN_FLIGHT)) await Promise.race(inflight);
      if (fatal !== null) throw fatal;
      done++;
      ctx.progress('fetch', done, messages.length);
      if (pending.numbers.length + inflight.size >= (ctx.checkpointEvery ?? CHECKPOINT_MESSAGES) || Date.now() - lastCheckpoint >= CHECKPOINT_MS) await checkpoint();
    }
    await checkpoint();
  } catch (err) {
    await Promise.all(inflight);
    await salvage(err);
    throw err;
  } finally {
    counters.skipped += messages.length - next;
  }
  return { committed, unsafe: unsafe > 0, firstFailure };
}
