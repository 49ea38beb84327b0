import type { MetadataDocument } from '../../document/metadata-schema.ts';
import { selectMailboxes } from '../../app/select-mailboxes.ts';
import type { Publisher } from '../../publish/types.ts';
import { formatDuration, table } from '../format.ts';
import { UsageError } from '../usage-error.ts';
import { loadConfig } from '../../config/index.ts';
import { createAdapters } from '../../app/adapters.ts';
import { printJsonLine } from './shared.ts';

const BATCH = 10;

function parseDay(text: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const d = m === null ? null : new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (d === null || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text)
    throw new UsageError(`--since: expected a day as YYYY-MM-DD, got ${JSON.stringify(text)}`);
  return d;
}

/**
 * Publishes stored metadata documents again, so a processor added later can be filled from the archive. The
 * documents are read back exactly as first published: the same ids, which consumers use to deduplicate.
 */
export async function replayCommand(o: {
  config: string;
  mailbox?: string;
  since?: string;
  target?: string;
  json?: boolean;
}): Promise<number> {
  const since = o.since === undefined ? undefined : parseDay(o.since);
  let config = await loadConfig(o.config);
  if (o.mailbox !== undefined) selectMailboxes(config, [o.mailbox]);
  if (o.target !== undefined) {
    if (config.publish?.type !== 'sqs')
      throw new UsageError('--target needs an sqs publish configuration (the local event log has a single target)');
    const targets = config.publish.targets.filter((t) => t.name === o.target);
    if (targets.length === 0)
      throw new UsageError(
        `--target: no target named ${JSON.stringify(o.target)} (have: ${config.publish.targets.map((t) => t.name).join(', ')})`,
      );
    config = { ...config, publish: { ...config.publish, targets } };
  }
  const adapters = await createAdapters(config);
  const publisher: Publisher = adapters.publisher;
  const t0 = Date.now();
  const perTarget: Record<string, number> = {};
  let replayed = 0;
  let batch: MetadataDocument[] = [];
  const tty = process.stderr.isTTY && !o.json;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const result = await publisher.publish(batch);
    for (const [k, v] of Object.entries(result.perTarget)) perTarget[k] = (perTarget[k] ?? 0) + v;
    replayed += batch.length;
    batch = [];
    if (tty) process.stderr.write(`\r replayed ${replayed} documents`);
  };
  // A document that cannot be read is named and passed over: the rest are still published, and the exit code says so.
  let skipped = 0;
  const onDamaged = (where: string, reason: string): void => {
    skipped++;
    if (tty) process.stderr.write('\n');
    process.stderr.write(
      `mail-ingest replay: skipped the damaged document at ${where} (${reason}); \`mail-ingest verify\` audits the archive\n`,
    );
  };
  try {
    for await (const doc of adapters.store.listMetadata({
      ...(o.mailbox ? { mailbox: o.mailbox } : {}),
      ...(since ? { since } : {}),
      onDamaged,
    })) {
      batch.push(doc);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
  } finally {
    if (tty) process.stderr.write('\n');
    await publisher.close?.();
  }
  const summary = { replayed, skipped, perTarget, durationMs: Date.now() - t0 };
  if (o.json) printJsonLine(summary);
  else
    process.stdout.write(
      `${table(
        ['target', 'documents'],
        Object.entries(perTarget).map(([k, v]) => [k, v]),
      )}\nreplayed ${replayed} documents in ${formatDuration(summary.durationMs)}${skipped > 0 ? `; skipped ${skipped} damaged (named above)` : ''}\n`,
    );
  return skipped > 0 ? 1 : 0;
}
