import type { MessageStream, Pop3Client } from '../pop3/types.ts';
import type { RawStore } from '../store/types.ts';
import type { Publisher } from '../publish/types.ts';
import type { MetadataDocument } from './metadata-schema.ts';
import type { FaultPoint, MailboxJob, ProgressEvent } from './pipeline-types.ts';
import type { ListedMessage } from './plan.ts';
import type { StateTracker } from './state-tracker.ts';
import { buildDocument } from './document.ts';
import { classifyError } from './errors.ts';
import { duplicateKey } from './plan.ts';
import { storeMessage } from './store-message.ts';

/** Messages requested ahead of the one being stored: enough to fill a long link, bounded in count and bytes. */
const LOOKAHEAD_MESSAGES = 64;
const LOOKAHEAD_BYTES = 8 * 1024 * 1024;
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

function isSessionFatal(err: unknown, client: Pop3Client): boolean {
  const name = (err as { name?: string }).name;
  const code = (err as { code?: string }).code;
  return client.closed || (name === 'Pop3Error' && code !== 'ECOMMAND') || name === 'PublishError' || name === 'IngestError';
}

export async function fetchMessages(ctx: FetchContext, messages: readonly ListedMessage[], oversized: ReadonlySet<number>): Promise<FetchOutcome> {
  const { client, tracker, counters } = ctx;
  const committed = new Map<number, string>();
  const pending: { docs: MetadataDocument[]; numbers: Array<[number, string]> } = { docs: [], numbers: [] };
  let retrieved = 0; // RETR'd messages not yet committed
  let firstFailure: FetchOutcome['firstFailure'] = null;
  let lastCheckpoint = Date.now();
  let next = 0;
  let done = 0;
  const window: Requested[] = [];
  let windowBytes = 0;
  const fault = async (point: FaultPoint, uidl?: string): Promise<void> => { await ctx.faults?.[point]?.({ uidl }); };
  const stopFetching = (): boolean => ctx.signal?.aborted === true || (ctx.deadline !== undefined && Date.now() >= ctx.deadline);

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
      if (!top) retrieved++;
    }
  };

  const checkpoint = async (): Promise<void> => {
    if (pending.docs.length > 0) {
      const result = await ctx.publisher.publish(pending.docs);
      counters.published += pending.docs.length;
      ctx.log('debug', 'published', { count: pending.docs.length, perTarget: result.perTarget });
      await fault('after-publish');
    }
    await tracker.commit();
    await fault('after-state-commit');
    for (const [n, key] of pending.numbers) committed.set(n, key);
    retrieved -= pending.numbers.filter(([n]) => !oversized.has(n)).length;
    pending.docs = [];
    pending.numbers = [];
    lastCheckpoint = Date.now();
  };

  /** The session died: what is already stored is still published and committed, so the next run does not fetch it again. */
  const salvage = async (cause: unknown): Promise<void> => {
    const name = (cause as { name?: string }).name;
    if (name === 'PublishError' || name === 'IngestError' || pending.numbers.length === 0) return;
    try {
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
      try {
        const { stream } = await response;
        const ingestedAt = ctx.now();
        const { ref, parsed } = await storeMessage(stream, {
          store: ctx.store, mailbox: ctx.job.id, now: ingestedAt,
          afterReceive: () => fault('after-retr', message.uid),
        });
        await fault('after-store', message.uid);
        await fault('after-verify', message.uid);
        const key = message.duplicate ? duplicateKey(message.uid, ref.sha256) : message.uid;
        if (message.duplicate && Object.hasOwn(tracker.committed.uidls, key)) {
          // The same copy under a shared UIDL, ingested before: nothing new to publish.
          pending.numbers.push([message.n, key]);
        } else {
          const doc = buildDocument({ mailbox: ctx.job.id, uidl: message.uid, ingestedAt, ref, parsed, oversized: top });
          await ctx.store.putMetadata(doc);
          pending.docs.push(doc);
          pending.numbers.push([message.n, key]);
          tracker.add(key, {
            id: doc.id, sha256: ref.sha256, key: ref.key, size: top ? message.size : ref.size,
            ingestedAt: doc.ingestedAt, deletedAt: null, ...(top ? { oversized: true } : {}),
          });
          if (top) counters.oversized++; else counters.stored++;
          counters.bytes += ref.size;
          if (parsed.parseError !== null) ctx.log('warn', 'message archived but not fully parsed', { uidlKey: doc.id, parseError: parsed.parseError });
        }
      } catch (err) {
        if (isSessionFatal(err, client)) {
          await salvage(err);
          throw err;
        }
        counters.failed++;
        firstFailure ??= classifyError(err);
        ctx.log('error', 'message not stored; it stays on the server and is retried next run', { n: message.n, error: classifyError(err) });
      }
      done++;
      ctx.progress('fetch', done, messages.length);
      if (pending.numbers.length >= (ctx.checkpointEvery ?? CHECKPOINT_MESSAGES) || Date.now() - lastCheckpoint >= CHECKPOINT_MS) await checkpoint();
    }
    await checkpoint();
  } finally {
    counters.skipped += messages.length - next;
    // Still-outstanding requests after a fatal error: their rejections are already handled above.
  }
  return { committed, unsafe: retrieved > 0, firstFailure };
}
