import { setTimeout as sleep } from 'node:timers/promises';
import { runAll, selectMailboxes } from '../../app/run-all.ts';
import type { MailboxRunSummary } from '../../ingest/pipeline-types.ts';
import { failureLine, summaryTable } from '../format.ts';
import { parseInterval } from '../interval.ts';
import { createProgress } from '../progress.ts';
import { openConfig, printJson, renderFields } from './shared.ts';

export interface RunOptions {
  readonly config: string;
  readonly mailbox?: string[];
  readonly every?: string;
  readonly json?: boolean;
  readonly acceptUidlReset?: boolean;
  readonly verbose?: boolean;
}

export async function runCommand(o: RunOptions): Promise<number> {
  const interval = o.every === undefined ? null : parseInterval(o.every);
  const { config, adapters } = await openConfig(o.config);
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
      const progress = createProgress();
      summaries = await runAll({
        config, adapters, mailboxIds: o.mailbox, acceptUidlReset: o.acceptUidlReset, signal: abort.signal,
        onProgress: o.json ? undefined : (e) => progress.update(e),
        log: (level, message, fields) => {
          if (level === 'warn' || level === 'error' || o.verbose) progress.log(`${String(fields?.mailbox ?? '')}: ${level}: ${message} ${renderFields(fields)}`.trimEnd());
        },
      });
      progress.stop();
      if (o.json) {
        printJson({ ok: summaries.every((s) => s.ok), finishedAt: new Date().toISOString(), mailboxes: summaries });
      } else {
        process.stdout.write(`${summaryTable(summaries)}\n`);
        for (const s of summaries) if (!s.ok) process.stderr.write(`${failureLine(s)}\n`);
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
