import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { EXPORT_FORMATS, writeExport, type ExportFormat } from '../../export/export.ts';
import { manifestCsv, manifestJson } from '../../export/manifest.ts';
import { fsyncDir, hashFile } from '../../fs/atomic.ts';
import { parseSearchQuery } from '../../search/search-query.ts';
import { formatDuration, table } from '../format.ts';
import { formatBytes } from '../../format-bytes.ts';
import { createProgress } from '../progress.ts';
import { UsageError } from '../usage-error.ts';
import { openIndexFor, updateIndex } from './index.ts';
import { openConfig, printJsonLine } from './shared.ts';

export interface ExportCommandOptions {
  readonly config: string;
  readonly out: string;
  readonly format: string;
  readonly mailbox?: string;
  readonly since?: string;
  readonly until?: string;
  readonly query?: string;
  readonly index?: string;
  readonly json?: boolean;
}

/**
 * Exports what a search selects to one file (written beside, then renamed into place: a crash leaves no half
 * file under the name), plus `<out>.manifest.json` and `<out>.manifest.csv`; prints the export file's sha256,
 * read back from the disk.
 */
export async function exportCommand(o: ExportCommandOptions): Promise<number> {
  if (!EXPORT_FORMATS.includes(o.format as ExportFormat))
    throw new UsageError(`--format: expected ${EXPORT_FORMATS.join(' or ')}, got ${JSON.stringify(o.format)}`);
  const format = o.format as ExportFormat;
  const params = new URLSearchParams();
  if (o.query !== undefined) params.set('q', o.query);
  if (o.mailbox !== undefined) params.set('mailbox', o.mailbox);
  if (o.since !== undefined) params.set('since', o.since);
  if (o.until !== undefined) params.set('until', o.until);
  let query: ReturnType<typeof parseSearchQuery>;
  try {
    query = parseSearchQuery(params);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\bq:/, '--query:').replace(/\b(mailbox|since|until):/g, '--$1:'));
  }
  const out = resolve(o.out);
  if (
    await stat(out).then(
      () => true,
      () => false,
    )
  )
    throw new UsageError(`--out: ${out} exists; choose another name or remove it first`);
  const { config, adapters } = await openConfig(o.config);
  if (query.mailbox !== undefined && !config.mailboxes.some((m) => m.id === query.mailbox))
    throw new UsageError(`--mailbox: no mailbox ${JSON.stringify(query.mailbox)} in the configuration`);
  const index = openIndexFor(config, o.index);
  const partial = `${out}.${process.pid}.partial`;
  const t0 = Date.now();
  try {
    await updateIndex(index, config, adapters.store, { quiet: o.json });
    const file = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
    const progress = o.json
      ? null
      : createProgress({
          bars: true,
          plainLine: (e) => process.stderr.write(`export: ${e.done}/${e.total} messages, ${formatBytes(e.bytes)}\n`),
        });
    let result: Awaited<ReturnType<typeof writeExport>>;
    try {
      result = await writeExport({
        index,
        store: adapters.store,
        query,
        format,
        out: file,
        onProgress: (p) => progress?.update({ mailbox: 'export', phase: 'fetch', done: p.done, total: p.total, bytes: p.bytes }),
      });
      file.end();
      await finished(file);
    } catch (err) {
      file.destroy();
      await rm(partial, { force: true });
      throw err;
    } finally {
      progress?.stop();
    }
    // Durable before it takes its name: the rename is what makes the export visible.
    const fh = await open(partial, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(partial, out);
    await fsyncDir(dirname(out));
    const meta = { format, exportedAt: new Date().toISOString(), query, file: out };
    await writeFile(`${out}.manifest.json`, manifestJson(result.entries, meta), { mode: 0o600 });
    await writeFile(`${out}.manifest.csv`, manifestCsv(result.entries), { mode: 0o600 });
    const digest = await hashFile(out);
    const summary = {
      out,
      format,
      messages: result.messages,
      messageBytes: result.bytes,
      fileBytes: digest.size,
      sha256: digest.sha256,
      durationMs: Date.now() - t0,
      manifest: [`${out}.manifest.json`, `${out}.manifest.csv`],
    };
    if (o.json) printJsonLine({ type: 'export', ...summary });
    else {
      process.stdout.write(
        `${table(['file', 'format', 'messages', 'size', 'time'], [[out, format, result.messages, formatBytes(digest.size), formatDuration(summary.durationMs)]])}\n`,
      );
      process.stdout.write(`${digest.sha256}  ${out}\n`);
    }
  } finally {
    await rm(partial, { force: true });
    index.close();
    await adapters.publisher.close?.();
  }
  return 0;
}
