#!/usr/bin/env node
// The mail-ingest command.
//
// Installed from the package, it runs the bundle in dist/cli/ built when the package was packed: the package holds
// no TypeScript, and nothing here writes into the package's folder (a global install belongs to root).
// In a clone (the TypeScript sources are present), it runs dist/cli/ if that was built from these very sources (by
// `npm install`), else rebuilds the bundle into the user's cache (~/.cache/mail-ingest/), else runs the sources.
// Bundled, the CLI starts in about 0.19 s / 88 MB instead of 0.33 s / 117 MB: type-stripping ~120 files is not free.
// `--version` takes 0.06 s / 53 MB (bare Node: 0.02 s / 43 MB): each command's modules load when it runs (main.ts),
// the freshness check is a stat per source, source maps are off, and built-ins are not ES-imported (bundle.mjs).
// Plain JavaScript, so that an old Node gets a clear message instead of a syntax error.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `mail-ingest: needs Node.js 24 or newer; this is ${process.version} (${process.execPath}). Install Node 24 and put it first on PATH.\n`,
  );
  process.exit(2);
}

// fsyncs run on libuv's thread pool, 4 threads by default; commits overlap and concurrent fsyncs share a journal
// commit. Why 16: lib/cli/threadpool.ts (the same setting for `node lib/cli/bin.ts`). Set before the pool starts.
process.env.UV_THREADPOOL_SIZE ??= '16';

const LIB = path.resolve(import.meta.dirname, '..');
const ROOT = path.dirname(LIB);
globalThis.__MAIL_INGEST_LIB__ = LIB;

const SHIPPED = path.join(ROOT, 'dist', 'cli');

/** @param {string} dir @returns {{ fingerprint?: string, stamp?: import('./bundle.mjs').Stamp } | null} */
function buildInfo(dir) {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'build-info.json'), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Per user and per clone: two clones never share a build, and no user writes where another one reads. The clone's
 * folder is named by a 64-bit FNV-1a hash of its path: node:crypto would cost every start 2 MB and a few ms.
 */
function userCacheDir() {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(ROOT)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'mail-ingest', h.toString(16).padStart(16, '0'));
}

/**
 * The bundle to run in a clone. Cheap first: a build whose recorded stamp (each source's size and mtime) still holds
 * is current, learnt with a stat per file. Otherwise the sources are hashed: a build of the same content is current
 * (its stamp is renewed, so the next start is cheap again), else the bundle is rebuilt into the user's cache.
 */
async function loadFromClone() {
  const { buildCli, sourceFingerprint, sourceStamp, stampHolds, writeBuildInfo } = await import('./bundle.mjs');
  const shipped = buildInfo(SHIPPED);
  if (stampHolds(shipped?.stamp, ROOT)) return path.join(SHIPPED, 'main.mjs');
  /** @type {string | undefined} */
  let parent;
  try {
    parent = userCacheDir();
    for (const name of readdirSync(parent)) {
      if (/\.(tmp|old)$/.test(name)) continue;
      if (stampHolds(buildInfo(path.join(parent, name))?.stamp, ROOT)) return path.join(parent, name, 'main.mjs');
    }
  } catch {
    /* no cache yet */
  }
  const stamp = sourceStamp(ROOT);
  const fingerprint = await sourceFingerprint(ROOT, stamp);
  /** @param {string} dir */
  const renew = (dir) => {
    try {
      writeBuildInfo(dir, fingerprint, stamp);
    } catch {
      /* a folder this user cannot write: the next start hashes again, and finds the same build */
    }
    return path.join(dir, 'main.mjs');
  };
  if (shipped?.fingerprint === fingerprint) return renew(SHIPPED);
  try {
    if (parent === undefined) return null;
    const dir = path.join(parent, fingerprint);
    if (buildInfo(dir)?.fingerprint === fingerprint) renew(dir);
    else await buildCli(dir, { root: ROOT, stamp, fingerprint });
    for (const old of readdirSync(parent)) {
      if (old !== fingerprint && !/\.(tmp|old)$/.test(old)) rmSync(path.join(parent, old), { recursive: true, force: true });
    }
    return path.join(dir, 'main.mjs');
  } catch {
    return null; // no esbuild, no writable home, a failed build: the sources work the same, a little slower
  }
}

async function load() {
  const fromSource = () => import('./main.ts');
  const clone = existsSync(path.join(LIB, 'cli', 'main.ts'));
  if (clone && process.env.MAIL_INGEST_FROM_SOURCE === '1') return fromSource();
  const entry = clone ? await loadFromClone() : path.join(SHIPPED, 'main.mjs');
  if (entry === null) return fromSource();
  if (!existsSync(entry)) {
    process.stderr.write(
      `mail-ingest: the package has no CLI bundle (${entry}); it is built when the package is packed: install from \`npm pack\`'s tarball or the registry.\n`,
    );
    process.exit(2);
  }
  // Source maps cost every start a read and an index of each chunk's map; the bundle's messages never show a stack.
  // MAIL_INGEST_DEBUG=1 (or NODE_OPTIONS=--enable-source-maps) maps a stack trace back to lib/'s TypeScript.
  if (process.env.MAIL_INGEST_DEBUG === '1') process.setSourceMapsEnabled(true);
  return import(pathToFileURL(entry).href);
}

// A reader that stops early (`mail-ingest status | head`) closes the pipe: that ends the output, it is no crash.
// Any other error writing the output still surfaces.
process.stdout.on('error', (err) => {
  if (/** @type {NodeJS.ErrnoException} */ (err).code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const cli = await load();
process.exitCode = await cli.main(process.argv);
