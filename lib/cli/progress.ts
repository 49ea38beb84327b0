import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../ingest/pipeline-types.ts';
import { formatBytes } from '../format-bytes.ts';

export interface ProgressReporter {
  update(event: ProgressEvent): void;
  /** Writes a whole line (a log line) without breaking the bars. */
  write(line: string): void;
  stop(): void;
}

/**
 * A bar per mailbox on a terminal; otherwise (CI logs, pipes, cron mail, --log-format json) `plainLine` is called
 * for each mailbox's fetch progress, at most every 5 s, and once when it is complete.
 */
export function createProgress(o: { stream?: NodeJS.WriteStream; bars: boolean; plainLine: (e: ProgressEvent) => void }): ProgressReporter {
  const stream = o.stream ?? process.stderr;
  if (!o.bars || !stream.isTTY) {
    const lastLogged = new Map<string, number>();
    return {
      update(e) {
        if (e.phase !== 'fetch') return;
        const last = lastLogged.get(e.mailbox) ?? 0;
        if (e.done !== e.total && Date.now() - last < 5_000) return;
        lastLogged.set(e.mailbox, Date.now());
        o.plainLine(e);
      },
      write(line) {
        stream.write(`${line}\n`);
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      hideCursor: true,
      clearOnComplete: false,
      format: ' {mailbox} [{bar}] {value}/{total} {phase} {bytes}',
    },
    cliProgress.Presets.shades_grey,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    update(e) {
      let bar = bars.get(e.mailbox);
      if (bar === undefined) {
        bar = multi.create(Math.max(e.total, 1), 0, { mailbox: e.mailbox.padEnd(12), phase: e.phase, bytes: '' });
        bars.set(e.mailbox, bar);
      }
      if (e.total > 0) bar.setTotal(e.total);
      bar.update(e.done, { phase: e.phase, bytes: formatBytes(e.bytes) });
    },
    write(line) {
      multi.log(`${line}\n`);
    },
    stop() {
      multi.stop();
    },
  };
}
