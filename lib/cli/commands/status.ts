import { selectMailboxes } from '../../app/run-all.ts';
import { table } from '../format.ts';
import { openConfig, printJson } from './shared.ts';

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
  if (o.json) {
    printJson({ mailboxes: rows });
  } else {
    process.stdout.write(`${table(['mailbox', 'ingested', 'kept on server', 'oversized', 'last run', 'result', 'last error'], rows.map((r) => [
      r.mailbox, r.ingested, r.onServer, r.oversized, r.lastRun?.finishedAt ?? 'never',
      r.lastRun === null ? '-' : r.lastRun.ok ? `ok (${r.lastRun.stored} stored, ${r.lastRun.deleted} deleted)` : 'FAILED',
      r.lastError === null ? '-' : `${r.lastError.code}: ${r.lastError.message}`,
    ]))}\n`);
  }
  return 0;
}
