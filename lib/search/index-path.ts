import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/types.ts';

/**
 * Where the index lives unless `--index` says otherwise: beside the fs store's event log (`<dir>/search.sqlite`),
 * or, for an S3 archive, in the user's cache folder under a name derived from the bucket, prefix and endpoint.
 */
export function defaultIndexPath(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  const s = config.store;
  if (s.type === 'fs') return join(s.dir, 'search.sqlite');
  const cache = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  const name = createHash('sha256')
    .update(`${s.endpoint ?? ''}\0${s.bucket}\0${s.prefix}`)
    .digest('hex')
    .slice(0, 16);
  return join(cache, 'mail-ingest', `search-${s.bucket}-${name}.sqlite`);
}
