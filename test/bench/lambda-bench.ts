/**
 * npm run bench:lambda — the size of each bundled Lambda handler and its cold-load time.
 *
 * Bundles every handler with the stack's esbuild settings (cdk/bundling.ts), then, for each bundle, starts a fresh
 * `node` process N times and measures how long `import()` of the bundle takes (module evaluation included: Powertools,
 * clients, config source; no network). Reported: minified size, gzip size (≈ the deployment zip), source map size,
 * and the median / min / max import time. Variants:
 *   stack         the settings as they are (the SDK bundled);
 *   sdk-external  @aws-sdk/* and @smithy/* left to the runtime's copy, to show what bundling the SDK costs;
 *   proposed      the stack's settings plus two size fixes not yet applied everywhere: `import * as z from 'zod'`
 *                 (a namespace import lets esbuild drop zod's locales and JSON-schema code, ~290 KiB) and one
 *                 copy of libmime/libqp/libbase64 (mailparser imports their ESM build, @zone-eu/mailsplit
 *                 requires their CJS build, so both end up in the bundle, ~90 KiB).
 *
 *   node test/bench/lambda-bench.ts [--runs 10] [--json]
 *
 * Targets (issue 5): poller bundle < 1.5 MB minified; cold load < 250 ms.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { BuildOptions, Plugin } from 'esbuild';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleHandler, esbuildOptions, HANDLERS, ROOT, type HandlerName } from '../functions/bundle.ts';

const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1]) > 0 && args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 10;
const AS_JSON = args.includes('--json');
const POLLER_LIMIT = 1.5 * 1024 * 1024;
const COLD_LIMIT_MS = 250;

/** Inside the repo so that a bundle with the SDK external resolves it from node_modules, as Lambda's runtime would. */
const OUT = join(ROOT, 'node_modules/.cache/lambda-bench');

/** What each handler reads at cold start; values are never used (no invocation happens). */
const ENV: Record<string, string> = {
  CONFIG_BUCKET: 'bench',
  CONFIG_KEY: 'config.json',
  POLL_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/poll.fifo',
  ARCHIVE_BUCKET: 'bench',
  OUTPUT_PREFIX: 'out/',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'MailIngest',
  LOG_LEVEL: 'INFO',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'x',
  AWS_SECRET_ACCESS_KEY: 'x',
};

const PROBE = `
const t0 = performance.now();
const m = await import(process.argv[1]);
const t1 = performance.now();
if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(2); }
process.stdout.write(JSON.stringify({ importMs: t1 - t0, processMs: t1 }));
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

type Variant = 'stack' | 'sdk-external' | 'proposed';

/** What `proposed` changes in source files that still `import { z } from 'zod'` (done here at bundle time). */
const zodNamespaceImport: Plugin = {
  name: 'zod-namespace-import',
  setup(b) {
    b.onLoad({ filter: /[\\/](lib|functions)[\\/].*\.ts$/ }, async (a) => ({
      contents: (await readFile(a.path, 'utf8')).replace(/import \{ z \} from 'zod';/g, "import * as z from 'zod';"),
      loader: 'ts',
    }));
  },
};

const VARIANTS: Record<Variant, BuildOptions> = {
  stack: {},
  'sdk-external': { external: ['@aws-sdk/*', '@smithy/*'] },
  proposed: {
    plugins: [zodNamespaceImport],
    alias: {
      libmime: './node_modules/libmime/dist/cjs/libmime.js',
      libqp: './node_modules/libqp/dist/cjs/libqp.js',
      libbase64: './node_modules/libbase64/dist/cjs/libbase64.js',
    },
  },
};

interface Row {
  handler: HandlerName;
  variant: Variant;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  importMsMedian: number;
  importMsMin: number;
  importMsMax: number;
  /** From process start to the import finished: Node's own start-up included. */
  processMsMedian: number;
}

function coldLoad(file: string): { importMs: number[]; processMs: number[] } {
  const importMs: number[] = [];
  const processMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, file], {
      env: { PATH: process.env.PATH ?? '', ...ENV },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`loading ${file} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
    const m = JSON.parse(r.stdout) as { importMs: number; processMs: number };
    importMs.push(m.importMs);
    processMs.push(m.processMs);
  }
  return { importMs, processMs };
}

async function measure(handler: HandlerName, variant: Variant): Promise<Row> {
  const b = await bundleHandler(handler, join(OUT, variant), VARIANTS[variant]);
  const { importMs, processMs } = coldLoad(b.file);
  return {
    handler,
    variant,
    bytes: b.bytes,
    gzipBytes: gzipSync(readFileSync(b.file)).length,
    mapBytes: b.mapBytes,
    importMsMedian: median(importMs),
    importMsMin: Math.min(...importMs),
    importMsMax: Math.max(...importMs),
    processMsMedian: median(processMs),
  };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (n: number) => `${n.toFixed(1)} ms`;

rmSync(OUT, { recursive: true, force: true });
const { source } = await esbuildOptions(join(ROOT, HANDLERS.poller), join(OUT, 'probe.mjs'));
const rows: Row[] = [];
for (const variant of Object.keys(VARIANTS) as Variant[]) {
  for (const handler of Object.keys(HANDLERS) as HandlerName[]) rows.push(await measure(handler, variant));
}

if (AS_JSON) {
  process.stdout.write(`${JSON.stringify({ node: process.version, runs: RUNS, esbuild: source, rows }, null, 2)}\n`);
} else {
  console.log(
    `Lambda bundles (esbuild settings: ${source}; Node ${process.version}; cold load = import() in a fresh process, ${RUNS} runs)`,
  );
  console.log('');
  console.log(
    [
      'handler'.padEnd(22),
      'variant'.padEnd(13),
      'minified'.padStart(11),
      'gzip'.padStart(10),
      'map'.padStart(11),
      'import median'.padStart(14),
      'min'.padStart(9),
      'max'.padStart(9),
      'process'.padStart(10),
    ].join(' '),
  );
  for (const r of rows) {
    console.log(
      [
        r.handler.padEnd(22),
        r.variant.padEnd(13),
        kb(r.bytes).padStart(11),
        kb(r.gzipBytes).padStart(10),
        kb(r.mapBytes).padStart(11),
        ms(r.importMsMedian).padStart(14),
        ms(r.importMsMin).padStart(9),
        ms(r.importMsMax).padStart(9),
        ms(r.processMsMedian).padStart(10),
      ].join(' '),
    );
  }
  console.log('');
  for (const variant of ['stack', 'proposed'] as const) {
    const poller = rows.find((r) => r.handler === 'poller' && r.variant === variant)!;
    const worst = Math.max(...rows.filter((r) => r.variant === variant).map((r) => r.importMsMedian));
    console.log(
      `${variant}: poller bundle ${kb(poller.bytes)} (target < ${kb(POLLER_LIMIT)}): ${poller.bytes < POLLER_LIMIT ? 'OK' : 'OVER'}; ` +
        `slowest cold load ${ms(worst)} (target < ${COLD_LIMIT_MS} ms): ${worst < COLD_LIMIT_MS ? 'OK' : 'OVER'}`,
    );
  }
  const load = (await import('node:os')).loadavg()[0]!;
  console.log(
    `(1-minute load average at the end: ${load.toFixed(1)} on ${(await import('node:os')).availableParallelism()} cores: timings on a busy machine run high)`,
  );
}
rmSync(OUT, { recursive: true, force: true });
