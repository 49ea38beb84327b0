import { isIP } from 'node:net';
import { startRefresher } from '../../serve/refresher.ts';
import { startServer } from '../../serve/server.ts';
import { counts } from '../../search/catch-up.ts';
import { parseInterval } from '../interval.ts';
import { portOption, UsageError } from '../usage-error.ts';
import { openIndexFor, updateIndex } from './index.ts';
import { openConfig } from './shared.ts';
import { untilStopped } from '../until-stopped.ts';

export interface ServeCommandOptions {
  readonly config: string;
  readonly host?: string;
  readonly port?: string;
  readonly index?: string;
  readonly refresh?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The archive viewer. Catches the index up with the archive (documents first; body text in the background),
 * then serves until SIGINT or SIGTERM. It reads the archive and the state and writes only its index.
 */
export async function serveCommand(o: ServeCommandOptions): Promise<number> {
  const host = o.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host) && isIP(host) === 0)
    throw new UsageError(`--host: expected an IP address (or localhost), got ${JSON.stringify(host)}`);
  const port = portOption(o.port, 0) ?? 8025;
  const refreshMs = parseInterval(o.refresh ?? '30s');
  const { config, adapters } = await openConfig(o.config);
  const index = openIndexFor(config, o.index);
  const log = (message: string): void => {
    process.stderr.write(`mail-ingest serve: ${message}\n`);
  };
  try {
    // Documents before the first page is shown (the log's cursor, or listing only what is new); body text
    // follows in the background. If the archive cannot be read now, serve what the index has and retry.
    await updateIndex(index, config, adapters.store, { quiet: !process.stderr.isTTY, skipBodies: true }).catch((err: unknown) => {
      log(`warn: index catch-up failed, serving the index as it is: ${err instanceof Error ? err.message : String(err)}`);
    });
    const running = await startServer({
      config,
      store: adapters.store,
      state: adapters.state,
      index,
      host,
      port,
      log: (level, message) => log(`${level}: ${message}`),
    });
    const refresher = startRefresher(index, config, adapters.store, { everyMs: refreshMs, log });
    const c = counts(index);
    if (!LOOPBACK.has(host)) log(`listening on ${host}: reachable from the network; every request still needs the token`);
    process.stdout.write(`mail-ingest serve: ${c.documents} messages indexed (${index.path})\nOpen ${running.openUrl}\n`);
    await untilStopped();
    await refresher.stop();
    await running.close();
  } finally {
    index.close();
    await adapters.publisher.close?.();
  }
  return 0;
}
