import { summaryWithoutMessages, type MailboxRunSummary, type RunMailboxOptions } from '../ingest/pipeline-types.ts';
import { classifyError } from '../error-codes.ts';
import { describeHolder } from '../store/lease-record.ts';
import { DEFAULT_LEASE_TTL_MS, LeaseError } from '../store/types.ts';
import type { LeaseRecord, MailboxLeases } from '../store/types.ts';

export interface LeasedRunOptions {
  readonly signal?: AbortSignal;
  /** @default DEFAULT_LEASE_TTL_MS (renewed every third of it) */
  readonly ttlMs?: number;
  readonly log?: RunMailboxOptions['log'];
}

/** The summary of a mailbox left alone because another run holds it: not a failure (cron must not alert on it). */
export function leasedSummary(mailbox: string, holder: LeaseRecord): MailboxRunSummary {
  return summaryWithoutMessages(mailbox, { ok: true, durationMs: 0, error: null, leasedBy: holder });
}

/** What an operator reads for a skipped mailbox. */
export function leasedMessage(s: MailboxRunSummary): string {
  return `skipped: another run holds this mailbox's lease (${s.leasedBy === undefined ? '?' : describeHolder(s.leasedBy)}); not a failure, it runs again next time`;
}

/** The same, naming the mailbox. */
export function leasedLine(s: MailboxRunSummary): string {
  return `${s.mailbox}: ${leasedMessage(s)}`;
}

/**
 * Runs `run` holding the mailbox's lease, renewed every third of its time-to-live. Another holder: the mailbox is
 * skipped (a summary with `leasedBy`). The lease lost while running (this process stalled past its expiry and
 * another run took over): the run is aborted through its signal and reported failed with ELEASELOST, keeping
 * what it committed. Without `leases` (tests, stand-ins), `run` runs unguarded.
 */
export async function withMailboxLease(
  leases: MailboxLeases | undefined,
  mailbox: string,
  options: LeasedRunOptions,
  run: (signal: AbortSignal | undefined) => Promise<MailboxRunSummary>,
): Promise<MailboxRunSummary> {
  if (leases === undefined) return run(options.signal);
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const attempt = await leases.acquire(mailbox, { ttlMs });
  if (!attempt.acquired) {
    options.log?.('info', 'skipped: another run holds the lease', { mailbox, holder: describeHolder(attempt.holder) });
    return leasedSummary(mailbox, attempt.holder);
  }
  const { lease } = attempt;
  const lost = new AbortController();
  let lostError: LeaseError | null = null;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = lease.renew().catch((err: unknown) => {
        if (err instanceof LeaseError) {
          lostError ??= err;
          clearInterval(timer);
          lost.abort(err);
        } else {
          // A transient store error: the lease still has two thirds of its life; the next renewal tries again.
          options.log?.('warn', 'could not renew the mailbox lease; retrying', { mailbox, error: classifyError(err) });
        }
      });
    },
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  timer.unref?.();
  let summary: MailboxRunSummary;
  try {
    summary = await run(options.signal === undefined ? lost.signal : AbortSignal.any([options.signal, lost.signal]));
  } finally {
    clearInterval(timer);
    await renewing;
    if (lostError === null) {
      await lease.release().catch((err: unknown) => {
        options.log?.('warn', 'could not release the mailbox lease; it expires by itself', { mailbox, error: classifyError(err) });
      });
    }
  }
  if (lostError !== null) return { ...summary, ok: false, error: classifyError(lostError) };
  return summary;
}
