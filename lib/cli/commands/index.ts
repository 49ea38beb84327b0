import { resolve } from 'node:path';
import type { Config } from '../../config/index.ts';
import { catchUp, rebuild, type CatchUpSummary } from '../../search/catch-up.ts';
import { defaultIndexPath } from '../../search/index-path.ts';
import { SearchDb } from '../../search/search-db.ts';
import type { RawStore } from '../../store/types.ts';
import { table } from '../format.ts';
import { createProgress } from '../progress.ts';
import { openConfig, printJsonLine } from './shared.ts';

export interface IndexOptions {
  readonly config: string;
  readonly rebuild?: boolean;
  readonly index?: string;
  readonly json?: boolean;
}

/** The index file a command uses: `--index`, or the default beside the store (or in the cache, for S3). */
export function openIndexFor(config: Config, file?: string): SearchDb {
  return SearchDb.open(file === undefined ? defaultIndexPath(config) : resolve(file));
}

/**
 * Brings the index fully up to date (every document and every body), with a progress line on a terminal. The
 * export and the index command use it; `serve` reads the bodies in the background instead.
 */
export async function updateIndex(
  index: SearchDb,
  config: Config,
  store: RawStore,
  options: { readonly rebuild?: boolean; readonly quiet?: boolean; readonly skipBodies?: boolean } = {},
): Promise<CatchUpSummary> {
  const progress = options.quiet
    ? null
    : createProgress({
        bars: true,
        plainLine: (e) => process.stderr.write(`${e.mailbox}: ${e.done} read\n`),
      });
  const onProgress = (phase: 'documents' | 'bodies', done: number): void => {
    progress?.update({
      mailbox: phase === 'documents' ? 'index: documents' : 'index: body text',
      phase: 'fetch',
      done,
      total: done,
      bytes: 0,
    });
  };
  try {
    return options.rebuild
      ? await rebuild(index, config, store, { onProgress, skipBodies: options.skipBodies })
      : await catchUp(index, config, store, { onProgress, skipBodies: options.skipBodies });
  } finally {
    progress?.stop();
  }
}

export async function indexCommand(o: IndexOptions): Promise<number> {
  const { config, adapters } = await openConfig(o.config);
  const index = openIndexFor(config, o.index);
  try {
    const t0 = Date.now();
    const r = await updateIndex(index, config, adapters.store, { rebuild: o.rebuild, quiet: o.json });
    const summary = { index: index.path, rebuilt: o.rebuild === true, ...r, durationMs: Date.now() - t0 };
    if (o.json) printJsonLine({ type: 'index', ...summary });
    else {
      process.stdout.write(
        `${table(['index', 'documents', 'added or changed', 'bodies read', 'skipped'], [[index.path, r.documents, r.written, r.bodies, r.skipped]])}\n`,
      );
      if (r.skipped > 0)
        process.stderr.write(
          `mail-ingest index: ${r.skipped} document(s) could not be read and were skipped (corrupt or removed metadata files)\n`,
        );
    }
  } finally {
    index.close();
    await adapters.publisher.close?.();
  }
  return 0;
}
