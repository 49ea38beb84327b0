/**
 * The one place that says how every Lambda handler is bundled. The stack's NodejsFunctions use
 * `bundlingOptions`; tests and benchmarks that bundle the handlers themselves use `esbuildOptions`, which
 * expresses exactly the same settings for esbuild's JS API, so what runs locally is what runs in Lambda.
 */
import { OutputFormat, SourceMapMode, Charset, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

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

/**
 * mailparser imports the ESM builds of libmime, libqp and libbase64 while @zone-eu/mailsplit requires their CJS
 * builds, so a bundle would carry both copies (~93 KiB). One copy serves both. Paths relative to the project root,
 * where esbuild runs. The CLI bundle (lib/cli/bundle.mjs) replaces the same modules (test/parse/shims.test.ts).
 */
export const MODULE_ALIASES: Readonly<Record<string, string>> = {
  libmime: './node_modules/libmime/dist/cjs/libmime.js',
  libqp: './node_modules/libqp/dist/cjs/libqp.js',
  libbase64: './node_modules/libbase64/dist/cjs/libbase64.js',
  // mailparser's HTML-to-text and text-to-HTML helpers, switched off wherever we parse (~240 KiB): see the shims.
  'html-to-text': './lib/parse/shims/html-to-text.ts',
  he: './lib/parse/shims/he.ts',
};

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
