import type { Pop3Client } from '../pop3/types.ts';
import type { MailboxRunSummary, ProgressEvent, RunMailboxOptions } from './pipeline-types.ts';
import { connectPop3 } from '../pop3/index.ts';
import { classifyError, IngestError } from './errors.ts';
import { fetchMessages, LOOKAHEAD_MESSAGES, type FetchOutcome } from './fetch-loop.ts';
import { listMailbox, type ListedMessage } from './listing.ts';
import { detectUidlReset, planFetch, retentionCandidates } from './plan.ts';
import { StateTracker } from './state-tracker.ts';

/**
 * One run over one mailbox: connect, list, fetch what is new (oldest first) into the store, publish, commit the
 * state, apply retention, QUIT. The guarantees, in order of precedence:
 * - a DELE is sent only for a message whose bytes are durable and verified and whose state entry is committed;
 * - if any message retrieved in this session is not committed, the session ends without QUIT, so no DELE and no
 *   server-side expiry (EXPIRE 0) can take effect;
 * - a crash anywhere leaves the last committed state, from which the next run redoes at most the uncommitted
 *   messages: stored again under the same content-addressed key (no second copy), published again with the same id.
 */
export async function runMailbox(opts: RunMailboxOptions): Promise<MailboxRunSummary> {
  const { job } = opts;
  const startedAt = new Date();
  const t0 = Date.now();
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => undefined);
  const counters = { new: 0, stored: 0, published: 0, deleted: 0, skipped: 0, oversized: 0, failed: 0, bytes: 0 };
  const progress = (phase: ProgressEvent['phase'], done: number, total: number, bytes = counters.bytes): void => {
    opts.onProgress?.({ mailbox: job.id, phase, done, total, bytes });
  };
  const tracker = new StateTracker(opts.state, job.id);
  let client: Pop3Client | null = null;
  let quitOk = false;
  let error: MailboxRunSummary['error'] = null;
  let outcome: FetchOutcome | null = null;

  try {
    await tracker.load();
    progress('connect', 0, 0);
    const session = await (opts.connect ?? connectPop3)({
      window: LOOKAHEAD_MESSAGES, ...job.connect, ...(opts.signal ? { signal: opts.signal } : {}),
    });
    client = session;
    progress('list', 0, 0);
    const listing = await listMailbox(session);
    if (!job.acceptUidlReset && detectUidlReset(listing, tracker.committed)) {
      throw new IngestError('EUIDLRESET', 'protocol',
        `none of the ${listing.length} UIDLs on the server is known, but the messages look like those already ingested: ` +
        'the server has probably renumbered its UIDLs. Refusing a mass re-ingest; to accept it, set acceptUidlReset (CLI: --accept-uidl-reset)');
    }
    tracker.prune(new Set(listing.map((m) => m.uid)));
    const plan = planFetch(listing, tracker.committed, job);
    counters.new = plan.newCount;
    counters.skipped = plan.deferred;
    const toFetch = [...plan.fetch, ...plan.oversized].sort((a, b) => a.n - b.n);
    log('info', 'listed', { messages: listing.length, new: plan.newCount, fetching: toFetch.length, deferred: plan.deferred });

    outcome = await fetchMessages({
      client: session, job, store: opts.store, publisher: opts.publisher, tracker, now,
      deadline: opts.deadline, signal: opts.signal, faults: opts.faults, checkpointEvery: opts.checkpointEvery, log, progress,
    }, toFetch, new Set(plan.oversized.map((m) => m.n)));
    const { tally } = outcome;
    Object.assign(counters, {
      stored: tally.stored, oversized: tally.oversized, failed: tally.failed, bytes: tally.bytes, published: tally.published,
      skipped: counters.skipped + tally.notFetched,
    });
    if (outcome.fatal !== null) throw outcome.fatal.error;
    if (outcome.firstFailure !== null) error = outcome.firstFailure;

    if (session.closed) {
      log('info', 'the session ended early; what was stored is committed, the rest is fetched next run');
    } else if (outcome.unsafe) {
      log('warn', 'a retrieved message is not safely stored: ending the session without QUIT so that nothing is deleted');
      session.close();
    } else {
      progress('retention', 0, 0);
      const deleted = await applyRetention(opts, session, tracker, listing, outcome, now(), log);
      await opts.faults?.['before-quit']?.({});
      await session.quit().then(() => { quitOk = true; }, (err: unknown) => {
        if (deleted.length > 0) throw err;
        log('warn', 'QUIT failed; nothing was marked for deletion', { error: classifyError(err) });
      });
      if (quitOk && deleted.length > 0) {
        counters.deleted = deleted.length;
        const at = now().toISOString();
        for (const { key, entry } of deleted) tracker.add(key, { ...entry, deletedAt: at });
      }
    }
  } catch (err) {
    error = classifyError(err);
    log('error', 'mailbox run failed', { error });
    tracker.discardPending();
  } finally {
    if (client !== null && !client.closed) client.close();
  }

  const ok = error === null && counters.failed === 0;
  const finishedAt = new Date();
  try {
    await tracker.commit({
      lastRun: { startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), ok, stored: counters.stored, deleted: counters.deleted, failed: counters.failed },
      lastError: error === null ? null : { at: finishedAt.toISOString(), code: error.code, message: error.message },
    });
  } catch (err) {
    // The entries that matter are committed already; this write only records the run.
    log('warn', 'could not record the run in the state', { error: classifyError(err) });
    error ??= classifyError(err);
  }
  progress('done', counters.stored, counters.stored);
  return {
    mailbox: job.id, ok: error === null && counters.failed === 0,
    new: counters.new, stored: counters.stored, published: counters.published, deleted: counters.deleted,
    skipped: counters.skipped, oversized: counters.oversized, failed: counters.failed, bytes: counters.bytes,
    durationMs: Date.now() - t0, quitOk, error,
  };
}

async function applyRetention(
  opts: RunMailboxOptions, client: Pop3Client, tracker: StateTracker,
  listing: readonly ListedMessage[], outcome: FetchOutcome, at: Date,
  log: NonNullable<RunMailboxOptions['log']>,
): Promise<ReturnType<typeof retentionCandidates>> {
  const candidates = retentionCandidates(listing, tracker.committed, opts.job, at, outcome.committed);
  const confirmed: ReturnType<typeof retentionCandidates> = [];
  for (const c of candidates) {
    // Stored by an earlier run: make sure the archive still holds it before the server copy goes.
    if (!outcome.committed.has(c.message.n) && !(await opts.store.exists(c.entry.key))) {
      log('error', 'archived copy is missing: not deleting; the message will be ingested again', { key: c.entry.key });
      tracker.drop(c.key);
      continue;
    }
    confirmed.push(c);
  }
  if (tracker.pendingCount > 0) await tracker.commit();
  const results = await Promise.allSettled(confirmed.map((c) => client.dele(c.message.n)));
  const marked = confirmed.filter((_, i) => results[i].status === 'fulfilled');
  const failedDele = results.find((r) => r.status === 'rejected');
  if (failedDele !== undefined) log('warn', 'DELE refused for some messages', { refused: confirmed.length - marked.length, error: classifyError((failedDele as PromiseRejectedResult).reason) });
  await opts.faults?.['after-dele']?.({});
  return marked;
}
