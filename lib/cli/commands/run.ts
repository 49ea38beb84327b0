import { setTimeout as sleep } from 'node:timers/promises';
import { runAll, selectMailboxes } from '../../app/run-all.ts';
import type { MailboxRunSummary } from '../../ingest/pipeline-types.ts';
import { summaryError, summaryTable } from '../format.ts';
import { leasedMessage } from '../../app/mailbox-lease.ts';
import { parseInterval } from '../interval.ts';
import { createConsole, createLog, parseLogFormat, pipelineLog, type CliLog } from '../log.ts';
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

export async function runCommand(o: RunOptions): Promise<number> {
  const interval = o.every === undefined ? null : parseInterval(o.every);
  const format = parseLogFormat(o.logFormat);
  // Local processors never fail a run: what they fail on is a warning in the log, a dead letter on disk, a line
  // in `status`. Their reports go to the console of the run in progress.
  let processorLog: CliLog = createLog({ format });
  const { config, adapters } = await openConfig(o.config, { log: (level, message, fields) => processorLog.line(level, message, fields) });
  selectMailboxes(config, o.mailbox);
  // First signal: finish the current run, then stop. Second: abort the sessions (committed work stays committed).
  const abort = new AbortController();
  let stopping = false;
  const wake = new AbortController();
  const onSignal = (): void => {
    if (stopping) abort.abort();
    stopping = true;
    wake.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let summaries: MailboxRunSummary[] = [];
  try {
    do {
      const startedAt = new Date();
      // With --json, stdout is the record of the run; stderr carries only warnings and failures.
      const { log, progress } = createConsole(format, { progress: !o.json });
      processorLog = log;
      await adapters.publisher.drain?.();
      summaries = await runAll({
        config, adapters, mailboxIds: o.mailbox, acceptUidlReset: o.acceptUidlReset, signal: abort.signal,
        onProgress: (e) => progress.update(e),
        log: pipelineLog(log, o.verbose === true),
      });
      progress.stop();
      if (o.json) {
        // One JSON object per line and per run (JSON Lines): `--every ... --json >> runs.jsonl` stays parseable.
        printJsonLine({ type: 'run', ok: summaries.every((s) => s.ok), startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), mailboxes: summaries });
      } else {
        process.stdout.write(`${summaryTable(summaries)}\n`);
      }
      for (const s of summaries) {
        if (!s.ok && !log.reported(s.mailbox, summaryError(s))) log.failure(s.mailbox, summaryError(s));
        else if (s.leasedBy !== undefined) log.line('info', leasedMessage(s), { mailbox: s.mailbox });
      }
      if (interval === null || stopping) break;
      await sleep(interval, undefined, { signal: wake.signal }).catch(() => undefined);
    } while (!stopping);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await adapters.publisher.close?.();
  }
  return summaries.every((s) => s.ok) ? 0 : 1;
}
