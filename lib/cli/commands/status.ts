import { selectMailboxes } from '../../app/run-all.ts';
import { table } from '../format.ts';
import { relativeTime, whenText } from '../time-format.ts';
import { openConfig, printJsonLine } from './shared.ts';

/** A table cell stays readable; the whole message is in --json and in `run`'s output. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** What the state holds per mailbox. Exit 1 when a mailbox's last run failed, so a monitor can alert on it. */
export async function statusCommand(o: { config: string; json?: boolean }): Promise<number> {
  const { config, adapters } = await openConfig(o.config);
  const rows = [];
  for (const m of selectMailboxes(config)) {
    const { state } = await adapters.state.read(m.id);
    const entries = Object.values(state.uidls);
    rows.push({
      mailbox: m.id,
      ingested: entries.length,
      onServer: entries.filter((e) => !e.deletedAt).length,
      oversized: entries.filter((e) => e.oversized).length,
      lastRun: state.lastRun ?? null,
      lastError: state.lastError ?? null,
    });
  }
  const ok = rows.every((r) => r.lastRun === null || r.lastRun.ok);
  if (o.json) {
    printJsonLine({ type: 'status', ok, mailboxes: rows });
  } else {
    const now = new Date();
    process.stdout.write(`${table(['mailbox', 'ingested', 'kept on server', 'oversized', 'last run', 'result', 'last error'], rows.map((r) => [
      r.mailbox, r.ingested, r.onServer, r.oversized, r.lastRun === null ? 'never' : whenText(r.lastRun.finishedAt, now),
      r.lastRun === null ? '-' : r.lastRun.ok ? `ok (${r.lastRun.stored} stored, ${r.lastRun.deleted} deleted)` : 'FAILED',
      r.lastError === null ? '-' : `${r.lastError.code} ${relativeTime(new Date(r.lastError.at), now)}: ${clip(r.lastError.message, 120)}`,
    ]))}\n`);
  }
  return ok ? 0 : 1;
}
