// Modules the bundles replace, for the CLI (lib/cli/bundle.mjs) and the Lambda functions (cdk/bundling.ts) alike.
// Plain JavaScript: the CLI's build script imports it under whatever Node runs npm's scripts.

/**
 * mailparser imports the ESM builds of libmime, libqp and libbase64 while @zone-eu/mailsplit requires their CJS
 * builds, so a bundle would carry both copies (~93 KiB): one copy serves both (libbase64's with a faster streaming
 * decoder, shims/libbase64.ts). mailparser's HTML-to-text and
 * text-to-HTML helpers, switched off wherever we parse, are stood in for by the shims beside this file (~240 KiB
 * less to load with the parser). Paths relative to the project root, where esbuild runs.
 * @type {Readonly<Record<string, string>>}
 */
export const MODULE_ALIASES = Object.freeze({
  libmime: './node_modules/libmime/dist/cjs/libmime.js',
  libqp: './node_modules/libqp/dist/cjs/libqp.js',
  libbase64: './lib/parse/shims/libbase64.ts',
  'html-to-text': './lib/parse/shims/html-to-text.ts',
  he: './lib/parse/shims/he.ts',
});
