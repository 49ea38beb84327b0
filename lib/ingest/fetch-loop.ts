import { Readable } from 'node:stream';
import type { MessageStream, Pop3Client } from '../pop3/types.ts';
import type { IngestedEntry, RawStore } from '../store/types.ts';
import type { Publisher } from '../publish/types.ts';
import type { FaultHooks, FaultPoint, MailboxJob, ProgressEvent } from './pipeline-types.ts';
import type { ListedMessage } from './plan.ts';
import type { StateTracker } from './state-tracker.ts';
import { buildDocument } from '../document/document.ts';
import { Pop3Error } from '../pop3/errors.ts';
import { StoreError } from '../store/types.ts';
import { Checkpointer } from './checkpointer.ts';
import { CommitPool } from './commit-pool.ts';
import { classifyError, MessageOverLimitError } from './errors.ts';
import { loadParser } from './load-parser.ts';
import { headerPart } from './message-headers.ts';
import { duplicateKey } from './plan.ts';
import { receiveMessage, type ReceivedMessage } from './receive-message.ts';
import { ReceiveWindow, type Requested } from './receive-window.ts';
import type { Suspect } from './uidl-reuse.ts';

export { LOOKAHEAD_MESSAGES } from './receive-window.ts';

export interface FetchContext {
  readonly client: Pop3Client;
  readonly job: MailboxJob;
  readonly store: RawStore;
  readonly publisher: Publisher;
  readonly tracker: StateTracker;
  readonly now: () => Date;
  /** Epoch ms: no message is requested from then on. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  readonly checkpointEvery?: number;
  /** Messages whose known UIDL may now name another message (uidl-reuse.ts), by message number. */
  readonly suspects?: ReadonlyMap<number, Suspect>;
  readonly faults?: FaultHooks;
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  readonly progress: (phase: ProgressEvent['phase'], done: number, total: number, bytes: number) => void;
}

/** What one session's fetch did, counted where it happened. */
export interface FetchTally {
  readonly stored: number;
  readonly oversized: number;
  readonly failed: number;
  readonly bytes: number;
  readonly published: number;
  /** Messages of the plan not received: never requested (deadline, abort) or left in the window (a session cut short). */
  readonly notFetched: number;
}

export interface FetchOutcome {
  /** Message number -> state key, for messages this session retrieved and committed. */
  readonly committed: ReadonlyMap<number, string>;
  /** Some message was RETR'd but is not committed: the session must end without QUIT (EXPIRE 0 servers). */
  readonly unsafe: boolean;
  /** The first per-message failure, kept for the summary. */
  readonly firstFailure: ReturnType<typeof classifyError> | null;
  readonly tally: FetchTally;
  /** The error that ended the session early, after what was stored had been committed (when it could be). */
  readonly fatal: { readonly error: unknown } | null;
  /**
   * A message proved larger than maxMessageBytes while it was received: its headers are archived and flagged
   * oversized, and the connection was dropped to stop the body (the only way to cut a POP3 response short).
   */
  readonly cut: ListedMessage | null;
  /** UIDLs of the messages that failed: left on the server for the next run. */
  readonly failedUids: readonly string[];
}

/** How a message is archived: in full, or as its header block standing in for one over maxMessageBytes. */
interface Receipt {
  readonly message: ListedMessage;
  /** It was RETR'd: until committed it makes a QUIT unsafe. */
  readonly retrieved: boolean;
  /** For a stand-in: the size it has on the server (LIST's, or the bytes it was seen to send). */
  readonly oversizedSize: number | null;
}

/** Errors that end the session; anything else is one message's failure, retried next run. */
function isSessionFatal(err: unknown, client: Pop3Client): boolean {
  // A -ERR to one RETR (ECOMMAND, or [SYS/TEMP]) leaves the session usable; anything that broke it closed it.
  if (err instanceof StoreError || err instanceof Pop3Error) return client.closed;
  return true;
}

/** Failures after which what is already stored is still worth committing: the stored bytes themselves are fine. */
function isSalvageable(err: unknown): boolean {
  return err instanceof Pop3Error || err instanceof StoreError;
}

/**
 * Fetches `messages` (oldest first) over one session: a receive window of pipelined RETRs, a pool of commits
 * overlapping with receiving, and checkpoints that publish and commit what is durable. Never throws: a failure
 * that ends the session is returned as `fatal`, after the messages already stored have been committed.
 */
export async function fetchMessages(
  ctx: FetchContext,
  messages: readonly ListedMessage[],
  oversized: ReadonlySet<number>,
): Promise<FetchOutcome> {
  const { client, tracker } = ctx;
  const maxBytes = ctx.job.maxMessageBytes;
  const tally = { stored: 0, oversized: 0, failed: 0, bytes: 0 };
  let firstFailure: FetchOutcome['firstFailure'] = null;
  const failedUids: string[] = [];
  const stopRequesting = (): boolean => ctx.signal?.aborted === true || (ctx.deadline !== undefined && Date.now() >= ctx.deadline);
  const window = new ReceiveWindow(client, messages, oversized, stopRequesting);
  const pool = new CommitPool();
  const checkpointer = new Checkpointer({
    publisher: ctx.publisher,
    tracker,
    log: ctx.log,
    ...(ctx.faults === undefined ? {} : { faults: ctx.faults }),
    ...(ctx.checkpointEvery === undefined ? {} : { every: ctx.checkpointEvery }),
  });
  const fault = async (point: FaultPoint, uidl?: string): Promise<void> => {
    await ctx.faults?.[point]?.({ uidl });
  };
  const failMessage = (message: ListedMessage, err: unknown): void => {
    tally.failed++;
    failedUids.push(message.uid);
    firstFailure ??= classifyError(err);
    ctx.log('error', 'message not stored; it stays on the server and is retried next run', { n: message.n, error: classifyError(err) });
  };

  /** Commit, verify, write the metadata: runs in the pool, concurrently with receiving the next messages. */
  const commitOne = async ({ message, retrieved, oversizedSize }: Receipt, received: ReceivedMessage, ingestedAt: Date): Promise<void> => {
    const top = oversizedSize !== null;
    try {
      const { ref, parsed } = await received.commit();
      await fault('after-store', message.uid);
      await fault('after-verify', message.uid);
      const key = message.duplicate ? duplicateKey(message.uid, ref.sha256) : message.uid;
      const suspect = ctx.suspects?.get(message.n);
      const headerSha256 = suspect?.headerSha256 ?? received.headerSha256;
      const same = suspect === undefined ? undefined : sameMessage(suspect, ref.sha256);
      if (same !== undefined) {
        // Not a new message after all: the one ingested before (perhaps under the UIDL it had before the server
        // renumbered), with the fingerprint TOP gives, so the next check matches.
        tracker.add(key, { ...same, listedSize: message.size, deletedAt: null, headerSha256 });
        checkpointer.add(message.n, key, null, retrieved);
        return;
      }
      if (message.duplicate && Object.hasOwn(tracker.committed.uidls, key)) {
        checkpointer.add(message.n, key, null, retrieved); // the same copy under a shared UIDL, ingested before
        return;
      }
      const doc = buildDocument({ mailbox: ctx.job.id, uidl: message.uid, ingestedAt, ref, parsed, oversized: top });
      await ctx.store.putMetadata(doc);
      tracker.add(key, {
        id: doc.id,
        sha256: ref.sha256,
        key: ref.key,
        size: oversizedSize ?? ref.size,
        listedSize: message.size,
        ingestedAt: doc.ingestedAt,
        deletedAt: null,
        headerSha256,
        ...(top ? { oversized: true } : {}),
      });
      if (suspect !== undefined)
        ctx.log('warn', 'a known UIDL names another message now (the server reuses UIDLs): archived as new', { n: message.n, id: doc.id });
      checkpointer.add(message.n, key, doc, retrieved);
      if (top) tally.oversized++;
      else tally.stored++;
      tally.bytes += ref.size;
      if (parsed.parseError !== null)
        ctx.log('warn', 'message archived but not fully parsed', { id: doc.id, parseError: parsed.parseError });
    } catch (err) {
      if (isSessionFatal(err, client)) throw err;
      failMessage(message, err);
    }
  };

  /** The entry of a suspect's bytes if they were ingested before: under its UIDL, or under another one. */
  const sameMessage = (suspect: Suspect, sha256: string): IngestedEntry | undefined => {
    if (suspect.previous.sha256 === sha256) return suspect.previous;
    return Object.values(tracker.committed.uidls).find((e) => e.sha256 === sha256);
  };

  const checkpoint = async (): Promise<void> => {
    await pool.settle();
    await ctx.store.flush(); // the documents and directory entries of this checkpoint, durable before the state says so
    await checkpointer.run();
  };

  /** The session died: what is already stored is still published and committed, so the next run does not fetch it again. */
  const salvage = async (cause: unknown): Promise<void> => {
    if (!isSalvageable(cause)) return;
    try {
      pool.clearFailure();
      await checkpoint();
    } catch (err) {
      ctx.log('warn', 'could not commit the messages stored before the session failed; they will be fetched again', {
        error: classifyError(err),
      });
    }
  };

  /**
   * The message passed maxMessageBytes on the wire: the connection is dropped (an unread body, never-ending
   * perhaps, cannot be skipped any other way), and its header block is archived in its place, flagged oversized,
   * so no run fetches it again until the limit is raised past what it sent. Nothing past the limit was stored.
   */
  const archiveHeadersOf = async (req: Requested, over: MessageOverLimitError, ingestedAt: Date): Promise<void> => {
    client.close();
    const { message } = req;
    ctx.log(
      'warn',
      'message larger than maxMessageBytes although LIST said less: its headers are archived and it is flagged oversized; ' +
        'the connection was dropped to stop it, so this session ends here',
      { n: message.n, listedSize: message.size, error: classifyError(over) },
    );
    const headers = headerPart(over.head);
    let received: ReceivedMessage;
    try {
      received = await receiveMessage(Readable.from([headers]), {
        store: ctx.store,
        mailbox: ctx.job.id,
        uidl: message.uid,
        now: ingestedAt,
        sizeHint: headers.length,
        maxBytes: Number.MAX_SAFE_INTEGER,
      });
    } catch (err) {
      failMessage(message, err);
      return;
    }
    pool.add(received.size, () =>
      commitOne({ message, retrieved: !req.top, oversizedSize: Math.max(over.received, message.size) }, received, ingestedAt),
    );
  };

  let fatal: FetchOutcome['fatal'] = null;
  let cut: ListedMessage | null = null;
  let done = 0;
  let receiving = 0; // the message taken from the window and not yet handed on: unfetched if the session dies now
  window.fill();
  // The parser's code loads while the first answers are on their way (a round trip on a long link): once the
  // requests are written, as loading it holds the thread.
  if (messages.length > 0) setImmediate(() => loadParser().catch(() => undefined));
  try {
    for (let req = window.take(); req !== undefined; req = window.take()) {
      receiving = 1;
      const { message, top, response } = req;
      const ingestedAt = ctx.now();
      let received: ReceivedMessage;
      let body: MessageStream['stream'] | null = null;
      try {
        const reply = await response;
        body = reply.stream;
        received = await receiveMessage(body, {
          store: ctx.store,
          mailbox: ctx.job.id,
          uidl: message.uid,
          now: ingestedAt,
          maxBytes,
          // TOP's "+OK" size, when given, is the whole message's, and the whole message is known to be too large.
          ...(top ? {} : { sizeHint: message.size, announcedSize: reply.announcedSize }),
        });
      } catch (err) {
        if (err instanceof MessageOverLimitError) {
          await archiveHeadersOf(req, err, ingestedAt);
          receiving = 0;
          cut = message;
          break;
        }
        if (isSessionFatal(err, client)) throw err;
        // Whatever failed, the body must not stay unread: it would hold back every pipelined response behind it.
        body?.destroy();
        failMessage(message, err);
        receiving = 0;
        continue;
      }
      try {
        await fault('after-retr', message.uid);
      } catch (err) {
        await received.abort();
        throw err;
      }
      pool.add(received.size, () =>
        commitOne({ message, retrieved: !top, oversizedSize: top ? message.size : null }, received, ingestedAt),
      );
      receiving = 0;
      await pool.waitForRoom();
      done++;
      ctx.progress('fetch', done, messages.length, tally.bytes);
      if (checkpointer.due(pool.size)) await checkpoint();
    }
    await checkpoint();
  } catch (err) {
    await pool.drain();
    await salvage(err);
    fatal = { error: err };
  }
  return {
    committed: checkpointer.committed,
    unsafe: window.retrieved > checkpointer.retrievedCommitted,
    firstFailure,
    tally: { ...tally, published: checkpointer.published, notFetched: window.notRequested + window.pending + receiving },
    fatal,
    cut,
    failedUids,
  };
}
