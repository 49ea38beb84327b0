import type { MailboxRunSummary, ProgressEvent, RunMailboxOptions } from './pipeline-types.ts';
import { Pop3Error } from '../pop3/errors.ts';
import { classifyError, IngestError } from './errors.ts';
import { runSession, type SessionResult } from './mailbox-session.ts';
import { RunDeadline } from './run-deadline.ts';
import { StateTracker } from './state-tracker.ts';
import { keepHeapSmall } from './heap-growth.ts';

/**
 * Sessions one run may open. A second one follows only a session cut short over a message too large (the connection
 * had to be dropped to stop it), so that the rest of the mailbox is not left for the next run.
 */
const MAX_SESSIONS_PER_RUN = 3;

/** The run's counts, added up over its sessions. */
class RunCounts {
  new: number | null = null;
  stored = 0;
  published = 0;
  deleted = 0;
  skipped = 0;
  oversized = 0;
  failed = 0;
  bytes = 0;
  quitOk = false;
  firstFailure: MailboxRunSummary['error'] = null;

  add(s: SessionResult): void {
    this.new ??= s.newCount;
    if (s.newCount !== null) this.skipped = s.deferred;
    this.deleted += s.deleted;
    this.quitOk = s.quitOk;
    if (s.fetch === null) return;
    const t = s.fetch.tally;
    this.stored += t.stored;
    this.published += t.published;
    this.oversized += t.oversized;
    this.failed += t.failed;
    this.bytes += t.bytes;
    this.skipped += t.notFetched;
    this.firstFailure ??= s.fetch.firstFailure;
  }
}

/** The connection was dropped because the run's deadline passed (not because the server or the user ended it). */
function cutByDeadline(deadline: RunDeadline, err: unknown): boolean {
  return deadline.reached && err instanceof Pop3Error && err.code === 'ECLOSED';
}

/**
 * One run over one mailbox: one POP3 session (see runSession for its guarantees), and another when a message too
 * large had to be cut off, all within the run's time (`deadline`, `cutoff`, `job.maxSessionSeconds`). At the cutoff
 * the connection is dropped: what is stored is committed, the rest is left for the next run, and the run counts
 * as a failure (EDEADLINE) only when it stored nothing at all.
 */
export async function runMailbox(opts: RunMailboxOptions): Promise<MailboxRunSummary> {
  keepHeapSmall();
  const { job } = opts;
  const startedAt = new Date();
  const t0 = Date.now();
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => undefined);
  const counts = new RunCounts();
  const progress = (phase: ProgressEvent['phase'], done: number, total: number, bytes?: number): void => {
    opts.onProgress?.({ mailbox: job.id, phase, done, total, bytes: counts.bytes + (bytes ?? 0) });
  };
  const deadline = new RunDeadline(
    {
      ...(opts.deadline === undefined ? {} : { stopAt: opts.deadline }),
      ...(opts.cutoff === undefined ? {} : { cutoff: opts.cutoff }),
      ...(job.maxSessionSeconds === undefined ? {} : { maxSessionSeconds: job.maxSessionSeconds }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    },
    t0,
  );
  const tracker = new StateTracker(opts.state, job.id);
  let error: MailboxRunSummary['error'] = null;

  try {
    await tracker.load();
    const failedThisRun = new Set<string>();
    for (let n = 1; ; n++) {
      const session = await runSession({ opts, tracker, deadline, now, log, progress, exclude: failedThisRun });
      counts.add(session);
      for (const uid of session.fetch?.failedUids ?? []) failedThisRun.add(uid);
      if (session.error !== null) throw session.error.error;
      if (!session.reconnect || n >= MAX_SESSIONS_PER_RUN || !deadline.open) break;
      log('info', 'connecting again for the rest of the mailbox', { session: n + 1 });
    }
    if (counts.firstFailure !== null) error = counts.firstFailure;
  } catch (err) {
    if (cutByDeadline(deadline, err)) {
      const seconds = Math.round(((deadline.hardAt ?? t0) - t0) / 1000);
      log(
        'warn',
        `the run's deadline (${seconds} s) passed: the connection was dropped; what was stored is committed, the rest is fetched next run`,
      );
      if (counts.stored + counts.oversized === 0 && counts.new !== 0) {
        error = classifyError(
          new IngestError(
            'EDEADLINE',
            'network',
            `the run's deadline (${seconds} s, maxSessionSeconds or the time left) passed before any message was stored; the server is too slow for it: ` +
              'raise maxSessionSeconds, or check the link to the server',
            { retryable: true },
          ),
        );
      } else {
        error = counts.firstFailure;
      }
    } else {
      error = classifyError(err);
      log('error', 'mailbox run failed', { error });
    }
    tracker.discardPending();
  } finally {
    deadline.dispose();
  }

  const ok = error === null && counts.failed === 0;
  const finishedAt = new Date();
  try {
    await tracker.commit({
      lastRun: {
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        ok,
        stored: counts.stored,
        deleted: counts.deleted,
        failed: counts.failed,
      },
      lastError: error === null ? null : { at: finishedAt.toISOString(), code: error.code, message: error.message },
    });
  } catch (err) {
    // The entries that matter are committed already; this write only records the run.
    log('warn', 'could not record the run in the state', { error: classifyError(err) });
    error ??= classifyError(err);
  }
  progress('done', counts.stored, counts.stored);
  return {
    mailbox: job.id,
    ok: error === null && counts.failed === 0,
    new: counts.new ?? 0,
    stored: counts.stored,
    published: counts.published,
    deleted: counts.deleted,
    skipped: counts.skipped,
    oversized: counts.oversized,
    failed: counts.failed,
    bytes: counts.bytes,
    durationMs: Date.now() - t0,
    quitOk: counts.quitOk,
    error,
  };
}
