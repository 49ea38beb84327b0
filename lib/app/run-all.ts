import type { Config, MailboxConfig } from '../config/index.ts';
import { ConfigError, resolveSecret } from '../config/index.ts';
import { resolveCredentials, toMailboxJob } from './mailbox-job.ts';
import type { Adapters } from './adapters.ts';
import type { MailboxRunSummary, RunMailboxOptions } from '../ingest/pipeline-types.ts';
import { classifyError } from '../ingest/errors.ts';
import { runMailbox } from '../ingest/pipeline.ts';
import { withMailboxLease } from './mailbox-lease.ts';
import { rawStoreTokenStatus } from '../oauth2/index.ts';
import { oauth2Login } from './oauth2-login.ts';

export interface RunAllOptions extends Pick<RunMailboxOptions, 'deadline' | 'signal' | 'onProgress' | 'log'> {
  readonly config: Config;
  readonly adapters: Adapters;
  /** Only these mailboxes. @default every enabled mailbox */
  readonly mailboxIds?: readonly string[];
  readonly acceptUidlReset?: boolean;
  /** Resolves a mailbox's password / token (tests, Lambda caches). @default resolveSecret from lib/config */
  readonly resolve?: typeof resolveSecret;
}

function failed(mailbox: string, err: unknown, t0: number): MailboxRunSummary {
  return {
    mailbox, ok: false, new: 0, stored: 0, published: 0, deleted: 0, skipped: 0, oversized: 0, failed: 0, bytes: 0,
    durationMs: Date.now() - t0, quitOk: false, error: classifyError(err),
  };
}

export function selectMailboxes(config: Config, ids?: readonly string[]): MailboxConfig[] {
  if (ids === undefined || ids.length === 0) return config.mailboxes.filter((m) => m.enabled !== false);
  const unknown = ids.filter((id) => !config.mailboxes.some((m) => m.id === id));
  if (unknown.length > 0) throw new ConfigError([{ path: '--mailbox', message: `unknown mailbox id(s): ${unknown.join(', ')}; the config has ${config.mailboxes.map((m) => m.id).join(', ')}` }]);
  return config.mailboxes.filter((m) => ids.includes(m.id));
}

/** Runs the selected mailboxes, `config.concurrency` at a time, one POP3 session each. A failing mailbox never stops the others. */
export async function runAll(opts: RunAllOptions): Promise<MailboxRunSummary[]> {
  const mailboxes = selectMailboxes(opts.config, opts.mailboxIds);
  const resolve = opts.resolve ?? resolveSecret;
  const results: MailboxRunSummary[] = new Array(mailboxes.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < mailboxes.length) {
      const i = next++;
      const m = mailboxes[i];
      const t0 = Date.now();
      try {
        const log: RunMailboxOptions['log'] = opts.log === undefined ? undefined : (level, message, fields) => opts.log!(level, message, { mailbox: m.id, ...fields });
        const login = oauth2Login(m, { resolve: (ref) => resolve(ref), status: rawStoreTokenStatus(opts.adapters.store), ...(log === undefined ? {} : { log }) });
        const job = await toMailboxJob(m, await resolveCredentials(m, (ref) => resolve(ref), login.tokens), opts.config.defaults);
        results[i] = await withMailboxLease(opts.adapters.leases, m.id, { signal: opts.signal, log }, (signal) => runMailbox({
          job: opts.acceptUidlReset ? { ...job, acceptUidlReset: true } : job,
          ...opts.adapters, deadline: opts.deadline, signal, onProgress: opts.onProgress, log,
          ...(login.connect === undefined ? {} : { connect: login.connect }),
        }));
      } catch (err) {
        results[i] = failed(m.id, err, t0);
      }
    }
  };
  const width = Math.max(1, Math.min(opts.config.concurrency ?? 4, mailboxes.length));
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}
