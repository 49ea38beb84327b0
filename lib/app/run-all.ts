import { setTimeout as sleep } from 'node:timers/promises';
import type { Config, MailboxConfig } from '../config/index.ts';
import { resolveSecret } from '../config/index.ts';
import { resolveCredentials, toMailboxJob } from './mailbox-job.ts';
import type { Adapters } from './adapters.ts';
import { summaryWithoutMessages, type MailboxRunSummary, type RunMailboxOptions } from '../ingest/pipeline-types.ts';
import { classifyError } from '../ingest/errors.ts';
import { runMailbox } from '../ingest/pipeline.ts';
import { withMailboxLease } from './mailbox-lease.ts';
import { rawStoreTokenStatus } from '../oauth2/index.ts';
import { oauth2Login } from './oauth2-login.ts';
import { selectMailboxes } from './select-mailboxes.ts';

export { selectMailboxes };

export interface RunAllOptions extends Pick<RunMailboxOptions, 'deadline' | 'cutoff' | 'signal' | 'onProgress' | 'log'> {
  readonly config: Config;
  readonly adapters: Adapters;
  /** Only these mailboxes. @default every enabled mailbox */
  readonly mailboxIds?: readonly string[];
  readonly acceptUidlReset?: boolean;
  /** Resolves a mailbox's password / token (tests, Lambda caches). @default resolveSecret from lib/config */
  readonly resolve?: typeof resolveSecret;
}

function failed(mailbox: string, err: unknown, t0: number): MailboxRunSummary {
  return summaryWithoutMessages(mailbox, { ok: false, durationMs: Date.now() - t0, error: classifyError(err) });
}

/** One run of one mailbox: its secrets, its job, the pipeline. Never throws: a failure is the summary's error. */
async function runOne(opts: RunAllOptions, m: MailboxConfig): Promise<MailboxRunSummary> {
  const t0 = Date.now();
  const resolve = opts.resolve ?? resolveSecret;
  try {
    const log: RunMailboxOptions['log'] =
      opts.log === undefined ? undefined : (level, message, fields) => opts.log!(level, message, { mailbox: m.id, ...fields });
    const login = oauth2Login(m, {
      resolve: (ref) => resolve(ref),
      status: rawStoreTokenStatus(opts.adapters.store),
      ...(log === undefined ? {} : { log }),
    });
    const job = await toMailboxJob(m, await resolveCredentials(m, (ref) => resolve(ref), login.tokens));
    return await withMailboxLease(opts.adapters.leases, m.id, { signal: opts.signal, log }, (signal) =>
      runMailbox({
        job: opts.acceptUidlReset ? { ...job, acceptUidlReset: true } : job,
        ...opts.adapters,
        deadline: opts.deadline,
        cutoff: opts.cutoff,
        signal,
        onProgress: opts.onProgress,
        log,
        ...(login.connect === undefined ? {} : { connect: login.connect }),
      }),
    );
  } catch (err) {
    return failed(m.id, err, t0);
  }
}

/** At most `width` runs at once; the others wait, first come first served. */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(width: number) {
    this.#free = width;
  }

  async use<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free++;
    }
  }
}

const width = (config: Config, mailboxes: number): number => Math.max(1, Math.min(config.concurrency ?? 4, mailboxes));

/** Runs the selected mailboxes, `config.concurrency` at a time, one POP3 session each. A failing mailbox never stops the others. */
export async function runAll(opts: RunAllOptions): Promise<MailboxRunSummary[]> {
  const mailboxes = selectMailboxes(opts.config, opts.mailboxIds);
  const slots = new Slots(width(opts.config, mailboxes.length));
  return Promise.all(mailboxes.map((m) => slots.use(() => runOne(opts, m))));
}

export interface RunEveryOptions extends RunAllOptions {
  readonly intervalMs: number;
  /** Each run's summary, as soon as that run is over. */
  readonly onSummary: (summary: MailboxRunSummary) => void;
  /** Ends the schedule: no run starts after it; runs under way finish (`signal` aborts them). */
  readonly stop: AbortSignal;
}

/**
 * Polls every selected mailbox on its own schedule, so one slow mailbox never delays the others: a mailbox runs
 * again `intervalMs` after its previous run started (at once when that run took longer; never two runs of one
 * mailbox at a time), and not before a LOGIN-DELAY refusal says it may. At most `config.concurrency` runs at once.
 * Resolves with each mailbox's last summary once `stop` has aborted and the runs under way are over.
 */
export async function runEvery(opts: RunEveryOptions): Promise<MailboxRunSummary[]> {
  const mailboxes = selectMailboxes(opts.config, opts.mailboxIds);
  const slots = new Slots(width(opts.config, mailboxes.length));
  const schedule = async (m: MailboxConfig): Promise<MailboxRunSummary | undefined> => {
    let last: MailboxRunSummary | undefined;
    while (!opts.stop.aborted) {
      const started = Date.now();
      const summary = await slots.use(async () => (opts.stop.aborted ? null : runOne(opts, m)));
      if (summary === null) break;
      last = summary;
      opts.onSummary(summary);
      const retryAfterMs = (last.error?.retryAfterSeconds ?? 0) * 1000;
      const due = Math.max(started + opts.intervalMs, Date.now() + retryAfterMs);
      await sleep(Math.max(0, due - Date.now()), undefined, { signal: opts.stop }).catch(() => undefined);
    }
    return last;
  };
  const results = await Promise.all(mailboxes.map(schedule));
  return results.filter((s): s is MailboxRunSummary => s !== undefined);
}
