/**
 * One measured run of the whole pipeline in a fresh process, so that peak RSS is the pipeline's own.
 * argv: <config file>. Prints JSON: summaries, wall time, peak RSS, and S3/SQS requests by command.
 */
import '../../lib/cli/threadpool.ts';
import { loadConfig } from '../../lib/config/index.ts';
import { createAdapters } from '../../lib/app/adapters.ts';
import { runAll } from '../../lib/app/run-all.ts';

const configFile = process.argv[2];
if (configFile === undefined) throw new Error('usage: ingest-child.ts CONFIG');
const config = await loadConfig(configFile);
const requests: Record<string, number> = {};
function counted<T extends { middlewareStack: { add: (...a: never[]) => void } }>(client: T): T {
  (client.middlewareStack as unknown as { add: (fn: unknown, o: unknown) => void }).add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const name = context.commandName ?? 'unknown';
      requests[name] = (requests[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'benchRequestCounter' },
  );
  return client;
}
const s = config.store;
const p = config.publish;
// The AWS SDK is loaded only for the S3/SQS runs, as the CLI does: the fs runs measure the embedded default alone.
const adapters = await createAdapters(config, {
  ...(s.type === 's3'
    ? {
        s3: counted(
          (await import('../../lib/store/s3-client.ts')).createS3Client({
            region: s.region,
            endpoint: s.endpoint,
            forcePathStyle: s.forcePathStyle,
          }),
        ),
      }
    : {}),
  ...(p?.type === 'sqs'
    ? { sqs: counted((await import('../../lib/publish/sqs-client.ts')).createSqsClient({ region: p.region, endpoint: p.endpoint })) }
    : {}),
});
const t0 = performance.now();
const summaries = await runAll({ config, adapters });
const ms = performance.now() - t0;
await adapters.publisher.close?.();
// Peak RSS of this process alone. Not getrusage's ru_maxrss: Linux carries it over from the parent across fork and
// execve, so a child of a benchmark holding a 200 MB message would "start" at 200 MB. VmHWM belongs to this address space.
const hwm = /VmHWM:\s+(\d+) kB/.exec(await (await import('node:fs/promises')).readFile('/proc/self/status', 'utf8'));
const maxRssBytes = hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ summaries, ms, maxRssBytes, requests }));
