import { existsSync } from 'node:fs';
import type { Config } from '../config/types.ts';
import type { RawStore } from '../store/types.ts';
import { defaultIndexPath } from './index-path.ts';
import type { SearchDb as SearchDbType } from './search-db.ts';

/** Body text read at the end of a run; the rest follows at the next run or in `serve`. */
const BODY_BUDGET_MS = 10_000;

/**
 * Called by `mail-ingest run` after each round, off the pipeline's path: brings the search index up to date
 * with what was just archived, if there is an index (made by `serve`, `index` or `export`; a user who never
 * searches pays nothing). Never throws: the run's outcome is the mail, not the index.
 */
export async function updateIndexAfterRun(
  config: Config,
  store: RawStore,
  log: (level: 'info' | 'warn', message: string) => void,
): Promise<void> {
  const path = defaultIndexPath(config);
  if (!existsSync(path)) return;
  // Loaded only now: a run without an index never loads SQLite or the index code.
  const [{ catchUp }, { SearchDb }] = await Promise.all([import('./catch-up.ts'), import('./search-db.ts')]);
  let index: SearchDbType | null = null;
  try {
    // Short lock wait: a rebuild holding the index must not hold up the run; the next run catches up.
    index = SearchDb.open(path, { busyTimeoutMs: 2_000 });
    const r = await catchUp(index, config, store, { bodyDeadline: Date.now() + BODY_BUDGET_MS });
    log(
      'info',
      `search index: ${r.written} documents added or changed, ${r.documents} in all${r.pendingBodies > 0 ? `, body text of ${r.pendingBodies} still to read` : ''}`,
    );
  } catch (err) {
    log(
      'warn',
      `search index not updated (${(err as { code?: string }).code ?? 'error'}): ${err instanceof Error ? err.message : String(err)}; the next run or \`mail-ingest index\` catches up`,
    );
  } finally {
    index?.close();
  }
}
