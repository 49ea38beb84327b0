import { selectMailboxes } from '../../app/select-mailboxes.ts';
import type { Config } from '../../config/index.ts';
import { consumerStatus, type ConsumerStatus } from '../../publish/local-consumer.ts';
import { eventLogPath } from '../../publish/local-publisher.ts';
import { table } from '../format.ts';
import { formatBytes } from '../../format-bytes.ts';
import { relativeTime, whenText } from '../time-format.ts';
import { openConfig, printJsonLine } from './shared.ts';
import { hasOAuth2, rawStoreTokenStatus, tokenHealth } from '../../oauth2/index.ts';

/** A table cell stays readable; the whole message is in --json and in `run`'s output. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Each local processor's place in the event log and what it failed on (none with SQS: see its queues). */
function processorStatus(config: Config): Promise<ConsumerStatus[]> {
  const store = config.store;
  if (store.type !== 'fs' || config.publish?.type !== 'local') return Promise.resolve([]);
  return Promise.all((config.publish.processors ?? []).map((p) => consumerStatus(store.dir, eventLogPath(store.dir), p.name)));
}

/** What the state holds per mailbox. Exit 1 when a mailbox's last run failed, so a monitor can alert on it. */
export async function statusCommand(o: { config: string; json?: boolean }): Promise<number> {
  const { config, adapters } = await openConfig(o.config);
  const rows = [];
  const tokenStatus = rawStoreTokenStatus(adapters.store);
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
      // The refresh token's health: when it was last used, and a warning well before it expires unused.
      oauth2: hasOAuth2(m) ? tokenHealth(m.oauth2, m.id, await tokenStatus.read(m.id)) : null,
    });
  }
  const ok = rows.every((r) => r.lastRun === null || r.lastRun.ok);
  const processors = await processorStatus(config);
  if (o.json) {
    printJsonLine({ type: 'status', ok, mailboxes: rows, processors });
  } else {
    const now = new Date();
    // The token column only where a mailbox signs in with OAuth 2.
    const tokens = rows.some((r) => r.oauth2 !== null);
    process.stdout.write(
      `${table(
        ['mailbox', 'ingested', 'kept on server', 'oversized', 'last run', 'result', ...(tokens ? ['token refreshed'] : []), 'last error'],
        rows.map((r) => [
          r.mailbox,
          r.ingested,
          r.onServer,
          r.oversized,
          r.lastRun === null ? 'never' : whenText(r.lastRun.finishedAt, now),
          r.lastRun === null ? '-' : r.lastRun.ok ? `ok (${r.lastRun.stored} stored, ${r.lastRun.deleted} deleted)` : 'FAILED',
          ...(tokens ? [r.oauth2 === null ? '-' : r.oauth2.lastRefreshAt === null ? 'never' : whenText(r.oauth2.lastRefreshAt, now)] : []),
          r.lastError === null
            ? '-'
            : `${r.lastError.code} ${relativeTime(new Date(r.lastError.at), now)}: ${clip(r.lastError.message, 120)}`,
        ]),
      )}\n`,
    );
    for (const r of rows) if (r.oauth2?.warning) process.stdout.write(`${r.mailbox}: warning: ${r.oauth2.warning}\n`);
    if (processors.length > 0) {
      process.stdout.write(
        `\n${table(
          ['processor', 'behind', 'position', 'retrying', 'given up', 'last failure'],
          processors.map((p) => [
            p.processor,
            p.behind,
            `${formatBytes(p.offset)} of ${formatBytes(p.logBytes)}`,
            p.retrying,
            p.givenUp,
            p.lastFailure === null
              ? '-'
              : `${relativeTime(new Date(p.lastFailure.at), now)} ${p.lastFailure.id ?? '(not a document)'}: ${clip(p.lastFailure.error, 120)}`,
          ]),
        )}\n`,
      );
    }
  }
  return ok ? 0 : 1;
}
