import type { Pop3Client, Pop3ConnectOptions } from '../pop3/types.ts';
import type { LeaseRecord, RawStore, StateStore } from '../store/types.ts';
import type { Publisher } from '../publish/types.ts';

import type { Retention } from '../config/types.ts';

export type { Retention };

/**
 * One mailbox as the pipeline sees it: the validated config with the password already resolved. Every field is
 * decided: the defaults were applied once, when the config was normalised (lib/config/parse-config.ts).
 */
export interface MailboxJob {
  readonly id: string;
  readonly connect: Omit<Pop3ConnectOptions, 'signal'>;
  readonly retention: Retention;
  /** Larger messages are not fetched: their headers are stored via TOP and they are reported. */
  readonly maxMessageBytes: number;
  /** Delete oversized messages too when retention deletes. */
  readonly deleteOversized: boolean;
  /** Absent: unlimited. */
  readonly maxMessagesPerRun?: number;
  /** Proceed even when every UIDL on the server is unknown to a non-empty state (a UIDL reset). */
  readonly acceptUidlReset: boolean;
  /**
   * The run ends by then, however slow the server: requests stop early enough to drain, and at the limit the
   * connection is dropped (what is stored is committed).
   */
  readonly maxSessionSeconds: number;
}

export type { FailureClass } from '../coded-error.ts';
import type { FailureClass } from '../coded-error.ts';

export interface MailboxRunSummary {
  readonly mailbox: string;
  readonly ok: boolean;
  /** Messages on the server not yet ingested when the run began. */
  readonly new: number;
  readonly stored: number;
  readonly published: number;
  readonly deleted: number;
  /** New messages left for a later run (deadline, maxMessagesPerRun, oversized). */
  readonly skipped: number;
  readonly oversized: number;
  readonly failed: number;
  readonly bytes: number;
  readonly durationMs: number;
  /** True when QUIT succeeded, so DELE marks took effect. */
  readonly quitOk: boolean;
  readonly error: RunError | null;
  /** Set when the mailbox was not run because another run holds its lease (lib/app/mailbox-lease.ts): not a failure. */
  readonly leasedBy?: LeaseRecord;
}

/** The summary of a run that handled no message: failed before it began, or left to the run holding the lease. */
export function summaryWithoutMessages(
  mailbox: string,
  outcome: { readonly ok: boolean; readonly durationMs: number; readonly error: RunError | null; readonly leasedBy?: LeaseRecord },
): MailboxRunSummary {
  const { ok, durationMs, error, leasedBy } = outcome;
  return {
    mailbox,
    ok,
    new: 0,
    stored: 0,
    published: 0,
    deleted: 0,
    skipped: 0,
    oversized: 0,
    failed: 0,
    bytes: 0,
    durationMs,
    quitOk: false,
    error,
    ...(leasedBy === undefined ? {} : { leasedBy }),
  };
}

/** Why a run failed: where to look (`class`), a stable code, what happened. */
export interface RunError {
  readonly class: FailureClass;
  readonly code: string;
  readonly message: string;
  /** The server refused the login as too soon (RFC 2449 [LOGIN-DELAY]): when it will accept the next one. */
  readonly retryAfterSeconds?: number;
}

export interface ProgressEvent {
  readonly mailbox: string;
  readonly phase: 'connect' | 'list' | 'fetch' | 'retention' | 'done';
  readonly done: number;
  readonly total: number;
  readonly bytes: number;
}

/** Fault-injection points for tests: a hook may throw (or kill the process) to simulate a crash at that step. */
export type FaultPoint =
  | 'after-retr'
  | 'after-store'
  | 'after-verify'
  | 'after-publish'
  | 'after-state-commit'
  | 'after-dele'
  | 'before-quit';

export type FaultHooks = Partial<Record<FaultPoint, (info: { uidl?: string }) => void | Promise<void>>>;

export interface RunMailboxOptions {
  readonly job: MailboxJob;
  readonly store: RawStore;
  readonly state: StateStore;
  readonly publisher: Publisher;
  /** Epoch ms: no message is requested from then on; the session drains, commits and QUITs. */
  readonly deadline?: number;
  /**
   * Epoch ms by which the run must be over, however slow the server: if the session is still going then, the
   * connection is dropped (what is stored is committed; nothing is deleted). `job.maxSessionSeconds` sets both this
   * and `deadline` (a tenth of the time before, 1 to 30 s); the earliest of each counts.
   */
  readonly cutoff?: number;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  readonly onProgress?: (event: ProgressEvent) => void;
  readonly log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** Replaces the POP3 connect (tests). */
  readonly connect?: (options: Pop3ConnectOptions) => Promise<Pop3Client>;
  /** Publish and commit the state after this many messages (and at least every 2 s). @default 100 */
  readonly checkpointEvery?: number;
  readonly faults?: FaultHooks;
}
