/**
 * The one place that says how every Lambda handler is bundled. The stack's NodejsFunctions use
 * `bundlingOptions`; tests and benchmarks that bundle the handlers themselves use `esbuildOptions`, which
 * expresses exactly the same settings for esbuild's JS API, so what runs locally is what runs in Lambda.
 */
import { OutputFormat, SourceMapMode, Charset, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { MODULE_ALIASES } from '../lib/parse/shims/aliases.mjs';

/** Lambda's Node.js 24 runtime (`nodejs24.x`). */
export const NODE_TARGET = 'node24';

/**
 * An ESM bundle still contains CommonJS dependencies that call `require` for Node built-ins; ESM has no
 * `require`, so the bundle gets one made from its own URL.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __mailIngestCreateRequire } from 'node:module'; const require = __mailIngestCreateRequire(import.meta.url);";

/**
 * Nothing is external: the AWS SDK v3 clients are bundled too, so the deployed code is exactly the code tested
 * here (the runtime's preinstalled SDK version drifts), and tree-shaking keeps only the commands we use.
 */
export const EXTERNAL_MODULES: readonly string[] = [];

export const bundlingOptions: BundlingOptions = {
  format: OutputFormat.ESM,
  target: NODE_TARGET,
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.EXTERNAL,
  // Source text in the map only inflates the asset; stack traces need names and positions, not sources.
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  charset: Charset.UTF8,
  externalModules: [...EXTERNAL_MODULES],
  esbuildArgs: Object.fromEntries(Object.entries(MODULE_ALIASES).map(([name, path]) => [`--alias:${name}`, path])),
  // Local esbuild only: synth must work offline and without Docker (CI has neither network nor Docker).
  forceDockerBundling: false,
};

/** Options for esbuild's `build()` equal to `bundlingOptions` (the handler export is `handler`). */
export function esbuildOptions(entry: string, outfile: string) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: NODE_TARGET,
    minify: true,
    sourcemap: 'external' as const,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    charset: 'utf8' as const,
    external: [...EXTERNAL_MODULES],
    alias: { ...MODULE_ALIASES },
  };
}

/** Extension of the bundled file for `format: ESM` (NodejsFunction writes `index.mjs`). */
export const BUNDLE_FILE = 'index.mjs';
