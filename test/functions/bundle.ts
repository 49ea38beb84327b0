import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build, type BuildOptions } from 'esbuild';

export const ROOT = resolve(import.meta.dirname, '../..');

/** Handler entry points, as the stack wires them. */
export const HANDLERS = {
  dispatcher: 'functions/dispatcher.ts',
  poller: 'functions/poller.ts',
  'ticket-intake': 'functions/processors/ticket-intake.ts',
  'attachment-extraction': 'functions/processors/attachment-extraction.ts',
  'archive-index': 'functions/processors/archive-index.ts',
  'config-writer': 'functions/config-writer.ts',
} as const;
export type HandlerName = keyof typeof HANDLERS;

/**
 * Fallback esbuild settings, used only if cdk/bundling.ts is absent (it is the single source of truth):
 * ESM for Node 24, minified, source maps, `module` before `main` so ESM builds of dependencies are tree-shaken,
 * and a `require` shim for the CommonJS dependencies that call it. The AWS SDK is bundled, not taken from the
 * runtime: see test/bench/lambda-bench.ts for the measured trade-off.
 */
export const DEFAULT_ESBUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  sourcemap: true,
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  external: [],
  logLevel: 'silent',
  legalComments: 'none',
};

/**
 * The stack's esbuild options: cdk/bundling.ts's `esbuildOptions(entry, outfile)` (the same settings its
 * NodejsFunctions use), or the defaults above while that file does not exist.
 */
export async function esbuildOptions(entry: string, outfile: string): Promise<{ options: BuildOptions; source: string }> {
  const file = join(ROOT, 'cdk/bundling.ts');
  if (existsSync(file)) {
    const mod = (await import(file)) as { esbuildOptions?: (entry: string, outfile: string) => BuildOptions };
    if (typeof mod.esbuildOptions === 'function')
      return { options: { ...mod.esbuildOptions(entry, outfile), logLevel: 'silent' }, source: 'cdk/bundling.ts' };
  }
  return { options: { ...DEFAULT_ESBUILD_OPTIONS, entryPoints: [entry], outfile }, source: 'defaults (test/functions/bundle.ts)' };
}

export interface Bundle {
  readonly name: HandlerName;
  /** The bundled handler, `<outdir>/<name>/index.mjs` as NodejsFunction lays it out. */
  readonly file: string;
  readonly bytes: number;
  readonly mapBytes: number;
}

export async function bundleHandler(name: HandlerName, outdir: string, overrides: BuildOptions = {}): Promise<Bundle> {
  const dir = join(outdir, name);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'index.mjs');
  const { options } = await esbuildOptions(join(ROOT, HANDLERS[name]), file);
  await build({ ...options, ...overrides, absWorkingDir: ROOT });
  const bytes = (await stat(file)).size;
  const mapBytes = existsSync(`${file}.map`) ? (await stat(`${file}.map`)).size : 0;
  return { name, file, bytes, mapBytes };
}
