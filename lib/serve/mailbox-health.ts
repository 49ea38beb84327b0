import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FailureClass } from '../coded-error.ts';
import type { Config, Retention } from '../config/types.ts';
import { classOfCode } from '../error-codes.ts';
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
  /** What the processor recorded of its progress, when it records any (a cursor file); null otherwise. */
  readonly position: string | null;
  readonly failures: number | null;
  readonly updatedAt: string | null;
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
    const lastSuccessField = typeof extra?.lastSuccess === 'string' ? extra.lastSuccess : extra?.lastSuccess?.at ?? null;
    const lastError = s?.lastError ?? null;
    const errorClass = (lastError as { class?: FailureClass; failureClass?: FailureClass } | null);
    const t = totals.get(m.id);
    out.push({
      id: m.id,
      enabled: m.enabled,
      host: `${m.host}:${m.port}`,
      retention: retentionText(m.retention),
      lastRun: s?.lastRun ?? null,
      lastSuccess: lastSuccessField ?? (s?.lastRun?.ok ? s.lastRun.finishedAt : null),
      lastError: lastError === null ? null : {
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
 * Each configured local processor, with its position in the event log and its failures when the processor
 * consumes the log with a cursor of its own (`<store>/processors/<name>.cursor.json` holding `{ offset }`, and the
 * journal `<name>.dead-letters.jsonl` of `failed` / `done` records by offset); without those files it is shown
 * without them. Read only.
 */
export async function processorHealth(config: Config): Promise<ProcessorHealth[]> {
  if (config.publish.type !== 'local' || config.store.type !== 'fs') return [];
  const dir = join(config.store.dir, 'processors');
  let logBytes: number | null = null;
  try { logBytes = (await stat(join(config.store.dir, 'events.jsonl'))).size; } catch { /* no log yet */ }
  const out: ProcessorHealth[] = [];
  for (const p of config.publish.processors ?? []) {
    let offset: number | null = null;
    let updatedAt: string | null = null;
    try {
      const path = join(dir, `${p.name}.cursor.json`);
      const v = JSON.parse(await readFile(path, 'utf8')) as { offset?: unknown };
      if (typeof v.offset === 'number' && Number.isSafeInteger(v.offset)) offset = v.offset;
      updatedAt = (await stat(path)).mtime.toISOString();
    } catch { /* no cursor recorded */ }
    let failures: number | null = null;
    try {
      const live = new Set<number>();
      for (const line of (await readFile(join(dir, `${p.name}.dead-letters.jsonl`), 'utf8')).split('\n')) {
        try {
          const r = JSON.parse(line) as { op?: string; offset?: number };
          if (typeof r.offset !== 'number') continue;
          if (r.op === 'done') live.delete(r.offset);
          else if (r.op === 'failed') live.add(r.offset);
        } catch { /* a torn line */ }
      }
      failures = live.size;
    } catch {
      if (offset !== null) failures = 0;
    }
    out.push({
      name: p.name,
      kind: p.kind,
      position: offset === null ? null : logBytes === null ? `${offset} bytes` : `${offset} / ${logBytes} bytes`,
      failures,
      updatedAt,
    });
  }
  return out;
}
