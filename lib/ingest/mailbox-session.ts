import type { Pop3Client } from '../pop3/types.ts';
import type { ProgressEvent, RunMailboxOptions } from './pipeline-types.ts';
import type { RunDeadline } from './run-deadline.ts';
import type { StateTracker } from './state-tracker.ts';
import { connectPop3 } from '../pop3/index.ts';
import { classifyError, IngestError } from './errors.ts';
import { fetchMessages, LOOKAHEAD_MESSAGES, type FetchOutcome } from './fetch-loop.ts';
import { listMailbox } from './listing.ts';
import { detectUidlReset, planFetch } from './plan.ts';
import { applyRetention } from './retention.ts';
import { checkHeaders, looksPositional, type Suspect } from './uidl-reuse.ts';

export interface SessionContext {
  readonly opts: RunMailboxOptions;
  readonly tracker: StateTracker;
  readonly deadline: RunDeadline;
  readonly now: () => Date;
  readonly log: NonNullable<RunMailboxOptions['log']>;
  readonly progress: (phase: ProgressEvent['phase'], done: number, total: number, bytes?: number) => void;
  /** UIDLs that failed earlier in this run: a later session of the same run leaves them for the next run. */
  readonly exclude: ReadonlySet<string>;
}

export interface SessionResult {
  /** Messages on the server not yet ingested when the session listed them; null when it never got that far. */
  readonly newCount: number | null;
  /** New messages left for a later run by maxMessagesPerRun. */
  readonly deferred: number;
  readonly fetch: FetchOutcome | null;
  /** Messages whose DELE took effect (QUIT succeeded). */
  readonly deleted: number;
  readonly quitOk: boolean;
  /** What ended the session with an error, after what was stored had been committed. */
  readonly error: { readonly error: unknown } | null;
  /** The session ended early over a message too large (cut) and the server allows logging in again at once. */
  readonly reconnect: boolean;
}

/**
 * One POP3 session: connect, list, fetch what is new (oldest first) into the store, publish, commit the state,
 * apply retention, QUIT. The guarantees, in order of precedence:
 * - a DELE is sent only for a message whose bytes are durable and verified and whose state entry is committed;
 * - if any message retrieved in this session is not committed, the session ends without QUIT, so no DELE and no
 *   server-side expiry (EXPIRE 0) can take effect;
 * - a crash anywhere leaves the last committed state, from which the next run redoes at most the uncommitted
 *   messages: stored again under the same content-addressed key (no second copy), published again with the same id.
 * Never throws: a failure is returned in `error`, with what the session did before it.
 */
export async function runSession(ctx: SessionContext): Promise<SessionResult> {
  const { opts, tracker, deadline, log } = ctx;
  const { job } = opts;
  let client: Pop3Client | null = null;
  let newCount: number | null = null;
  let deferred = 0;
  let fetch: FetchOutcome | null = null;
  let deleted = 0;
  let quitOk = false;
  let reconnect = false;
  let error: SessionResult['error'] = null;
  try {
    ctx.progress('connect', 0, 0);
    const session = await (opts.connect ?? connectPop3)({
      window: LOOKAHEAD_MESSAGES,
      prefetchListing: true,
      ...job.connect,
      signal: deadline.signal,
    });
    client = session;
    ctx.progress('list', 0, 0);
    const listing = await listMailbox(session);
    if (!job.acceptUidlReset && detectUidlReset(listing, tracker.committed)) {
      throw new IngestError(
        'EUIDLRESET',
        'protocol',
        `none of the ${listing.length} UIDLs on the server is known, but the messages look like those already ingested: ` +
          'the server has probably renumbered its UIDLs. Refusing a mass re-ingest; to accept it, set acceptUidlReset (CLI: --accept-uidl-reset)',
      );
    }
    tracker.prune(new Set(listing.map((m) => m.uid)));
    let suspects: ReadonlyMap<number, Suspect> = new Map();
    if (looksPositional(listing, tracker.committed)) {
      const check = await checkHeaders(session, listing, tracker.committed);
      for (const { key, entry } of check.updates) tracker.add(key, entry);
      suspects = check.suspects;
      log('info', 'UIDLs look positional, so the server may reuse them: compared the header blocks of the known messages (TOP n 0)', {
        checked: check.checked,
        suspects: suspects.size,
      });
      if (check.checked === 0 && check.updates.length === 0 && !session.capabilities.has('TOP')) {
        log(
          'warn',
          'UIDLs look positional but the server offers no TOP: a new message reusing a UIDL with the same size cannot be told from the old one',
        );
      }
    }
    const suspectNumbers = new Set(suspects.keys());
    const plan = planFetch(listing, tracker.committed, job, suspectNumbers);
    newCount = plan.newCount;
    deferred = plan.deferred;
    const toFetch = [...plan.fetch, ...plan.oversized].filter((m) => !ctx.exclude.has(m.uid)).sort((a, b) => a.n - b.n);
    log('info', 'listed', { messages: listing.length, new: plan.newCount, fetching: toFetch.length, deferred: plan.deferred });

    fetch = await fetchMessages(
      {
        client: session,
        job,
        store: opts.store,
        publisher: opts.publisher,
        tracker,
        now: ctx.now,
        deadline: deadline.stopAt,
        signal: deadline.signal,
        faults: opts.faults,
        checkpointEvery: opts.checkpointEvery,
        log,
        suspects,
        progress: ctx.progress,
      },
      toFetch,
      new Set(plan.oversized.map((m) => m.n)),
    );
    if (fetch.fatal !== null) throw fetch.fatal.error;

    if (session.closed) {
      // RFC 2449 LOGIN-DELAY: a server that asks for a pause between logins would refuse a second one now.
      reconnect = fetch.cut !== null && (session.loginDelay ?? 0) === 0;
      log('info', 'the session ended early; what was stored is committed, the rest is fetched by the next session', { reconnect });
    } else if (fetch.unsafe) {
      log('warn', 'a retrieved message is not safely stored: ending the session without QUIT so that nothing is deleted');
      session.close();
    } else {
      ctx.progress('retention', 0, 0);
      const marked = await applyRetention(opts, session, tracker, listing, fetch, ctx.now(), log, suspectNumbers);
      await opts.faults?.['before-quit']?.({});
      await session.quit().then(
        () => {
          quitOk = true;
        },
        (err: unknown) => {
          if (marked.length > 0) throw err;
          log('warn', 'QUIT failed; nothing was marked for deletion', { error: classifyError(err) });
        },
      );
      if (quitOk && marked.length > 0) {
        deleted = marked.length;
        const at = ctx.now().toISOString();
        for (const { key, entry } of marked) tracker.add(key, { ...entry, deletedAt: at });
      }
    }
  } catch (err) {
    error = { error: err };
  } finally {
    if (client !== null && !client.closed) client.close();
  }
  return { newCount, deferred, fetch, deleted, quitOk, error, reconnect };
}
