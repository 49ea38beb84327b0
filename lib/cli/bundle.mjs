// Builds the mail-ingest CLI into one ESM bundle (plus lazily loaded chunks) with esbuild.
//
// `npm pack` (prepack) and `npm install` in a clone (prepare) run `node lib/cli/bundle.mjs`, which writes dist/cli/:
// the package ships that bundle and no TypeScript (Node refuses to strip types under node_modules), and it never
// writes into its own folder at run time (a global install belongs to root; the user running it cannot write there).
// In a clone the launcher (bin.mjs) also uses buildCli() to rebuild into the user's cache when sources change; each
// build records the stamp (sizes and mtimes) and the fingerprint (content hash) of the sources it was built from.
//
// Plain JavaScript on purpose: it runs before anything is built, under whatever Node runs npm's scripts.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODULE_ALIASES } from '../parse/shims/aliases.mjs';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** @typedef {{ files: Array<[string, number, number]>, dirs: Array<[string, number]> }} Stamp */

/**
 * What the bundle is built from, as a clone's user edits it: every .ts, .mjs and .json file under lib/ (bundle.mjs included: the build settings), package.json and
 * the lockfile, each with its size and mtime, and every folder under lib/ with its mtime (a folder's mtime changes
 * when a file is added, removed or renamed in it). Sorted by path, byte order (no locale collation: it is slow).
 * @param {string} [root]
 * @returns {Stamp}
 */
export function sourceStamp(root = ROOT) {
  /** @type {Array<[string, number, number]>} */
  const files = [];
  /** @type {Array<[string, number]>} */
  const dirs = [];
  /** @param {string} dir */
  const walk = (dir) => {
    dirs.push([path.relative(root, dir), statSync(dir).mtimeMs]);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mjs|json)$/.test(e.name)) {
        const st = statSync(p);
        files.push([path.relative(root, p), st.size, st.mtimeMs]);
      }
    }
  };
  walk(path.join(root, 'lib'));
  for (const f of ['package-lock.json', 'package.json']) {
    const st = statSync(path.join(root, f), { throwIfNoEntry: false });
    if (st !== undefined) files.push([f, st.size, st.mtimeMs]);
  }
  const byPath = (/** @type {[string, ...number[]]} */ a, /** @type {[string, ...number[]]} */ b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
  return { files: files.sort(byPath), dirs: dirs.sort(byPath) };
}

/**
 * True when every file and folder of a recorded stamp still has its size and mtime: the sources are the ones the
 * stamp was taken of (the same assumption make relies on), learnt with a stat each and no read. A new file changes
 * its folder's mtime; an edit changes the file's.
 * @param {Stamp | undefined} stamp
 * @param {string} [root]
 */
export function stampHolds(stamp, root = ROOT) {
  if (stamp === undefined || !Array.isArray(stamp.files) || !Array.isArray(stamp.dirs)) return false;
  for (const [rel, size, mtimeMs] of stamp.files) {
    const st = statSync(path.join(root, rel), { throwIfNoEntry: false });
    if (st === undefined || st.size !== size || st.mtimeMs !== mtimeMs) return false;
  }
  for (const [rel, mtimeMs] of stamp.dirs) {
    const st = statSync(path.join(root, rel), { throwIfNoEntry: false });
    if (st === undefined || st.mtimeMs !== mtimeMs) return false;
  }
  return true;
}

/**
 * Changes whenever the content of a source file, the lockfile or package.json changes, or one is added or removed;
 * not when only an mtime does (a checkout, a `touch`): that costs a read per file, not a rebuild.
 * @param {string} [root]
 * @param {{ files: Array<[string, number, number]> }} [stamp]
 */
export async function sourceFingerprint(root = ROOT, stamp = sourceStamp(root)) {
  // Imported here, not at the top: the launcher imports this file on every start, and most starts never hash.
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  for (const [rel] of stamp.files) {
    hash.update(`${rel}\0`);
    hash.update(
      createHash('sha256')
        .update(readFileSync(path.join(root, rel)))
        .digest(),
    );
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Records a new stamp for a build whose fingerprint still matches (only mtimes changed), so that the next start
 * takes the cheap path again. Written beside and renamed over: a reader sees the old record or the new one.
 * @param {string} dir
 * @param {string} fingerprint
 * @param {Stamp} stamp
 */
export function writeBuildInfo(dir, fingerprint, stamp) {
  const file = path.join(dir, 'build-info.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ fingerprint, stamp })}\n`);
  renameSync(tmp, file);
}

/**
 * `import http from 'node:http'` in an ES module makes Node evaluate every export of the built-in at link time,
 * lazy getters included: node:http's load undici (Node's fetch), node:util's the worker machinery (+14 MB and 40 ms
 * for those two). So the bundle's static imports of built-ins read `process.getBuiltinModule`'s object instead, only
 * the properties they import. Dynamic imports and require() stay as they are.
 * (node:module is imported by the caller, at build time: the launcher imports this file on every start.)
 * @param {readonly string[]} builtinModules
 * @returns {import('esbuild').Plugin}
 */
const lazyBuiltins = (builtinModules) => ({
  name: 'lazy-builtins',
  setup(build) {
    // A bare name (`fs`, `http`: what older packages write) is the same built-in as its node: form.
    const bare = new RegExp(`^(${builtinModules.join('|')})$`);
    build.onResolve({ filter: /^node:/ }, ({ path, kind }) =>
      kind === 'import-statement' ? { path, namespace: 'lazy-builtin' } : undefined,
    );
    build.onResolve({ filter: bare }, ({ path, kind }) =>
      kind === 'import-statement' ? { path: `node:${path}`, namespace: 'lazy-builtin' } : undefined,
    );
    // Only the exports some chunk imports are read (when the module loads): each is a call marked pure, which esbuild
    // drops when unused. (Copying every property, as a CommonJS import does, would run node:util's lazy getters.)
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, ({ path }) => {
      const names = Object.getOwnPropertyNames(process.getBuiltinModule(path)).filter(
        (n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default',
      );
      const exports = names.map((n) => `export const ${n} = /* @__PURE__ */ __builtinExport(${JSON.stringify(n)});`);
      return {
        contents: [
          `const __builtin = process.getBuiltinModule(${JSON.stringify(path)});`,
          'const __builtinExport = (name) => __builtin[name];',
          'export default __builtin;',
          ...exports,
        ].join('\n'),
        loader: 'js',
      };
    });
  },
});

/**
 * Bundles lib/cli/main.ts into `outDir` (main.mjs and its chunks), written beside it first and renamed into place,
 * so a reader never sees half a bundle. Everything is bundled, the AWS SDK included: the installed package needs no
 * dependency at run time, and code splitting keeps the SDK in chunks loaded only for an S3 store or SQS publishing.
 */
/**
 * @param {string} outDir
 * @param {{ root?: string, stamp?: Stamp, fingerprint?: string }} [options] the stamp and
 *   fingerprint of the sources, taken before the build: a file changed while it runs makes the next start rebuild
 */
export async function buildCli(outDir, { root = ROOT, stamp = sourceStamp(root), fingerprint } = {}) {
  fingerprint ??= await sourceFingerprint(root, stamp);
  const esbuild = await import('esbuild');
  const tmp = `${outDir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: path.join(root, 'lib', 'cli', 'main.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    alias: { ...MODULE_ALIASES },
    banner: { js: "import { createRequire as __miRequire } from 'node:module'; const require = __miRequire(import.meta.url);" },
    minifySyntax: true,
    minifyWhitespace: true,
    sourcemap: true,
    sourcesContent: false,
    plugins: [lazyBuiltins((await import('node:module')).builtinModules)],
    logLevel: 'silent',
  });
  writeFileSync(path.join(tmp, 'build-info.json'), `${JSON.stringify({ fingerprint, stamp })}\n`);
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
