// Builds the mail-ingest CLI into one ESM bundle (plus lazily loaded chunks) with esbuild.
//
// `npm pack` (prepack) and `npm install` in a clone (prepare) run `node lib/cli/bundle.mjs`, which writes dist/cli/:
// the package ships that bundle and no TypeScript (Node refuses to strip types under node_modules), and it never
// writes into its own folder at run time (a global install belongs to root; the user running it cannot write there).
// In a clone the launcher (bin.mjs) also uses buildCli() to rebuild into the user's cache when sources change.
//
// Plain JavaScript on purpose: it runs before anything is built, under whatever Node runs npm's scripts.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Changes whenever a source file, the lockfile or package.json changes (by size and mtime: a stat per file). */
export function sourceFingerprint(root = ROOT) {
  const hash = createHash('sha256');
  /** @param {string} dir */
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|json)$/.test(e.name)) {
        const st = statSync(p);
        hash.update(`${path.relative(root, p)}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  walk(path.join(root, 'lib'));
  for (const f of ['package-lock.json', 'package.json']) {
    try {
      const st = statSync(path.join(root, f));
      hash.update(`${f}\0${st.size}\0${st.mtimeMs}\n`);
    } catch {
      /* absent */
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Bundles lib/cli/main.ts into `outDir` (main.mjs and its chunks), written beside it first and renamed into place,
 * so a reader never sees half a bundle. Everything is bundled, the AWS SDK included: the installed package needs no
 * dependency at run time, and code splitting keeps the SDK in chunks loaded only for an S3 store or SQS publishing.
 */
/**
 * @param {string} outDir
 * @param {{ root?: string, fingerprint?: string }} [options]
 */
export async function buildCli(outDir, { root = ROOT, fingerprint = sourceFingerprint(root) } = {}) {
  const esbuild = await import('esbuild');
  const tmp = `${outDir}.${process.pid}.tmp`;
  /** @param {string} name */
  const alias = (name) => `./node_modules/${name}/dist/cjs/${name}.js`;
  rmSync(tmp, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    // The parse worker (lib/ingest/parse-pool.ts) is a second entry: it runs in its own thread, beside the chunks.
    entryPoints: { main: path.join(root, 'lib', 'cli', 'main.ts'), 'parse-worker': path.join(root, 'lib', 'ingest', 'parse-worker.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    // mailparser imports the ESM builds of these while its splitter requires the CJS ones: one copy serves both.
    alias: { libmime: alias('libmime'), libqp: alias('libqp'), libbase64: alias('libbase64') },
    banner: { js: "import { createRequire as __miRequire } from 'node:module'; const require = __miRequire(import.meta.url);" },
    minifySyntax: true,
    minifyWhitespace: true,
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'silent',
  });
  writeFileSync(path.join(tmp, 'build-info.json'), `${JSON.stringify({ fingerprint })}\n`);
  mkdirSync(path.dirname(outDir), { recursive: true });
  // The old build is moved aside, not deleted first: a CLI starting meanwhile finds one build or the other. Chunk
  // names are content hashes, so a process still running the old build loads the same chunks from the new one.
  const old = `${outDir}.${process.pid}.old`;
  try {
    renameSync(outDir, old);
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'ENOENT') throw err;
  }
  try {
    renameSync(tmp, outDir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const code = /** @type {NodeJS.ErrnoException} */ (err).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err; // else another process put the same build there
  } finally {
    rmSync(old, { recursive: true, force: true });
  }
  return outDir;
}

// Run as a script (not imported by the launcher); not import.meta.main, which older Node lacks.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // npm also lists `prepare` for an install from a tarball (and runs it when scripts are allowed): an installed
  // package has its bundle and no sources, so there is nothing to do.
  if (!existsSync(path.join(ROOT, 'lib', 'cli', 'main.ts'))) process.exit(0);
  const out = path.join(ROOT, 'dist', 'cli');
  const t0 = Date.now();
  await buildCli(out);
  const bytes = readdirSync(out).reduce((n, f) => n + statSync(path.join(out, f)).size, 0);
  process.stdout.write(
    `mail-ingest: bundled the CLI into ${path.relative(process.cwd(), out) || out} (${(bytes / 1048576).toFixed(1)} MiB with source maps, ${Date.now() - t0} ms)\n`,
  );
}
