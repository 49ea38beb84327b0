import { setTimeout as sleep } from 'node:timers/promises';
import { runAll, runEvery, selectMailboxes } from '../../app/run-all.ts';
import { updateIndexAfterRun } from '../../search/after-run.ts';
import type { MailboxRunSummary } from '../../ingest/pipeline-types.ts';
import type { Publisher } from '../../publish/types.ts';
import { summaryError, summaryTable } from '../format.ts';
import { leasedMessage } from '../../app/mailbox-lease.ts';
import { parseInterval } from '../interval.ts';
import { createConsole, createLog, parseLogFormat, pipelineLog, type CliLog, type LogFormat } from '../log.ts';
import { openConfig, printJsonLine } from './shared.ts';

export interface RunOptions {
  readonly config: string;
  readonly mailbox?: string[];
  readonly every?: string;
  readonly json?: boolean;
  readonly acceptUidlReset?: boolean;
  readonly verbose?: boolean;
  readonly logFormat?: string;
}

/** The record of finished runs: a table or one JSON line on stdout, and each failure once on stderr. */
function report(o: RunOptions, log: CliLog, summaries: readonly MailboxRunSummary[], startedAt: Date): void {
  if (o.json) {
    // One JSON object per line and per run (JSON Lines): `--every ... --json >> runs.jsonl` stays parseable.
    printJsonLine({
      type: 'run',
      ok: summaries.every((s) => s.ok),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      mailboxes: summaries,
    });
  } else {
    process.stdout.write(`${summaryTable(summaries)}\n`);
  }
  for (const s of summaries) {
    if (!s.ok && !log.reported(s.mailbox, summaryError(s))) log.failure(s.mailbox, summaryError(s));
    else if (s.leasedBy !== undefined) log.line('info', leasedMessage(s), { mailbox: s.mailbox });
  }
}

/**
 * One log per mailbox run: a failure is printed once per run (the pipeline's line or the summary's), and the next
 * run of the same mailbox prints its own.
 */
function logsPerRun(format: LogFormat): { of(mailbox: string): CliLog; done(mailbox: string): void } {
  const logs = new Map<string, CliLog>();
  return {
    of(mailbox) {
      const log = logs.get(mailbox) ?? createLog({ format });
      logs.set(mailbox, log);
      return log;
    },
    done(mailbox) {
      logs.delete(mailbox);
    },
  };
}

/** The local processors catch up with the event log and retry their dead letters once per interval. */
async function drainEvery(publisher: Publisher, intervalMs: number, stop: AbortSignal, log: CliLog): Promise<void> {
  while (!stop.aborted) {
    await publisher
      .drain?.()
      .catch((err: unknown) => log.line('warn', 'the local processors could not catch up with the event log', { error: String(err) }));
    await sleep(intervalMs, undefined, { signal: stop }).catch(() => undefined);
  }
}

export async function runCommand(o: RunOptions): Promise<number> {
  const interval = o.every === undefined ? null : parseInterval(o.every);
  const format = parseLogFormat(o.logFormat);
  // Local processors never fail a run: what they fail on is a warning in the log, a dead letter on disk, a line
  // in `status`. Their reports go to the console of the run in progress.
  let processorLog: CliLog = createLog({ format });
  const { config, adapters } = await openConfig(o.config, { log: (level, message, fields) => processorLog.line(level, message, fields) });
  selectMailboxes(config, o.mailbox);
  // First signal: finish the runs under way, then stop. Second: abort the sessions (committed work stays committed).
  const abort = new AbortController();
  let stopping = false;
  const stop = new AbortController();
  const onSignal = (): void => {
    if (stopping) abort.abort();
    stopping = true;
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const common = { config, adapters, mailboxIds: o.mailbox, acceptUidlReset: o.acceptUidlReset, signal: abort.signal };
  try {
    if (interval === null) {
      const startedAt = new Date();
      // With --json, stdout is the record of the run; stderr carries only warnings and failures.
      const { log, progress } = createConsole(format, { progress: !o.json });
      processorLog = log;
      await adapters.publisher.drain?.();
      const summaries = await runAll({ ...common, onProgress: (e) => progress.update(e), log: pipelineLog(log, o.verbose === true) });
      await updateIndexAfterRun(config, adapters.store, (level, message) => {
        if (level === 'warn' || o.verbose) log.line(level, message);
      });
      progress.stop();
      report(o, log, summaries, startedAt);
      return summaries.every((s) => s.ok) ? 0 : 1;
    }
    // Each mailbox on its own schedule, so a slow one never delays the others; each run is reported as it ends
    // (no progress bars: runs of different mailboxes overlap).
    const logs = logsPerRun(format);
    const draining = drainEvery(adapters.publisher, interval, stop.signal, processorLog);
    // The search index catches up after each mailbox's run, one catch-up at a time.
    let indexing: Promise<void> = Promise.resolve();
    const last = await runEvery({
      ...common,
      intervalMs: interval,
      stop: stop.signal,
      log: (level, message, fields) => pipelineLog(logs.of(String(fields?.mailbox ?? '')), o.verbose === true)(level, message, fields),
      onSummary: (s) => {
        report(o, logs.of(s.mailbox), [s], new Date(Date.now() - s.durationMs));
        logs.done(s.mailbox);
        indexing = indexing.then(() =>
          updateIndexAfterRun(config, adapters.store, (level, message) => {
            if (level === 'warn' || o.verbose) processorLog.line(level, message);
          }),
        );
      },
    });
    await draining;
    await indexing;
    return last.every((s) => s.ok) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await adapters.publisher.close?.();
  }
}
