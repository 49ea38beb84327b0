import type { FailureClass } from '../coded-error.ts';
import type { Config, Retention } from '../config/types.ts';
import { classOfCode } from '../error-codes.ts';
import { consumerStatus } from '../publish/local-consumer.ts';
import { eventLogPath } from '../publish/local-publisher.ts';
import { dailyStats, mailboxTotals, type DayStat } from '../search/search.ts';
import type { SearchDb } from '../search/search-db.ts';
import type { MailboxState, StateStore } from '../store/types.ts';

export const CHART_DAYS = 30;

export interface MailboxHealth {
  readonly id: string;
  readonly enabled: boolean;
  readonly host: string;
  readonly retention: string;
  readonly lastRun: MailboxState['lastRun'] | null;
  readonly lastSuccess: string | null;
  readonly lastError: { readonly at: string; readonly code: string; readonly message: string; readonly class: FailureClass } | null;
  readonly ingested: number;
  readonly keptOnServer: number;
  readonly oversized: number;
  readonly archived: { readonly messages: number; readonly bytes: number; readonly lastIngestedAt: string | null };
  readonly perDay: readonly DayStat[];
  /** The state could not be read: why. */
  readonly stateError: string | null;
}

export interface ProcessorHealth {
  readonly name: string;
  readonly kind: string;
  /** Where its cursor is in the event log, and how many events wait behind it; null when it cannot be read. */
  readonly position: { readonly offset: number; readonly logBytes: number; readonly behind: number } | null;
  /** Dead letters still retried, and given up on (an operator's to look at). */
  readonly failures: { readonly retrying: number; readonly givenUp: number } | null;
  readonly lastFailure: { readonly at: string; readonly id: string | null; readonly error: string } | null;
}

export function retentionText(r: Retention): string {
  return typeof r === 'string' ? r : `delete after ${r.deleteAfterDays} days`;
}

/**
 * Reads the pipeline's own record of each mailbox (the state store, read only) and what the index holds. Fields
 * other versions of the state may carry (a last success, an error's class) are used when present.
 */
export async function mailboxHealth(config: Config, state: StateStore, index: SearchDb, now = new Date()): Promise<MailboxHealth[]> {
  const since = new Date(now.getTime() - (CHART_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const stats = dailyStats(index, since);
  const totals = new Map(mailboxTotals(index).map((t) => [t.mailbox, t]));
  const out: MailboxHealth[] = [];
  for (const m of config.mailboxes) {
    let s: MailboxState | null = null;
    let stateError: string | null = null;
    try {
      s = (await state.read(m.id)).state;
    } catch (err) {
      stateError = err instanceof Error ? err.message : String(err);
    }
    const entries = s === null ? [] : Object.values(s.uidls);
    const extra = s as (MailboxState & { lastSuccess?: { at?: string } | string | null }) | null;
    const lastSuccessField = typeof extra?.lastSuccess === 'string' ? extra.lastSuccess : (extra?.lastSuccess?.at ?? null);
    const lastError = s?.lastError ?? null;
    const errorClass = lastError as { class?: FailureClass; failureClass?: FailureClass } | null;
    const t = totals.get(m.id);
    out.push({
      id: m.id,
      enabled: m.enabled,
      host: `${m.host}:${m.port}`,
      retention: retentionText(m.retention),
      lastRun: s?.lastRun ?? null,
      lastSuccess: lastSuccessField ?? (s?.lastRun?.ok ? s.lastRun.finishedAt : null),
      lastError:
        lastError === null
          ? null
          : {
              ...lastError,
              class: errorClass?.class ?? errorClass?.failureClass ?? classOfCode(lastError.code),
            },
      ingested: entries.length,
      keptOnServer: entries.filter((e) => !e.deletedAt).length,
      oversized: entries.filter((e) => e.oversized).length,
      archived: { messages: t?.messages ?? 0, bytes: t?.bytes ?? 0, lastIngestedAt: t?.lastIngestedAt ?? null },
      perDay: stats.filter((d) => d.mailbox === m.id),
      stateError,
    });
  }
  return out;
}

/**
 * Each configured local processor with its position in the event log and its dead letters, as the processor's
 * consumer records them (lib/publish/local-consumer.ts). Read only; a processor whose files cannot be read is
 * shown without them.
 */
export async function processorHealth(config: Config): Promise<ProcessorHealth[]> {
  if (config.publish.type !== 'local' || config.store.type !== 'fs') return [];
  const dir = config.store.dir;
  const out: ProcessorHealth[] = [];
  for (const p of config.publish.processors ?? []) {
    try {
      const st = await consumerStatus(dir, eventLogPath(dir), p.name);
      out.push({
        name: p.name,
        kind: p.kind,
        position: { offset: st.offset, logBytes: st.logBytes, behind: st.behind },
        failures: { retrying: st.retrying, givenUp: st.givenUp },
        lastFailure: st.lastFailure,
      });
    } catch {
      out.push({ name: p.name, kind: p.kind, position: null, failures: null, lastFailure: null });
    }
  }
  return out;
}
