#!/usr/bin/env node
// The mail-ingest command.
//
// The CLI is TypeScript that Node 24 runs directly, but type-stripping ~120 files costs ~0.15 s and ~25 MB of memory
// at every start. So on first use (and again whenever a source file or the lockfile changes) the CLI is bundled by
// esbuild into node_modules/.cache/mail-ingest/<fingerprint>/ and run from there; without esbuild it runs from the
// TypeScript sources (as `node lib/cli/bin.ts` always does). No separate build step either way.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Every fs call (write, fsync, link) runs on libuv's threadpool, 4 threads by default; with commits overlapping,
// durable storage of small messages is bound by it. Must be set before the pool first starts.
process.env.UV_THREADPOOL_SIZE ??= '64';

const LIB = path.resolve(import.meta.dirname, '..');
const ROOT = path.dirname(LIB);
globalThis.__MAIL_INGEST_LIB__ = LIB;

function fingerprint() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) { const st = statSync(p); hash.update(`${p}\0${st.size}\0${st.mtimeMs}\n`); }
    }
  };
  walk(LIB);
  for (const f of ['package-lock.json', 'package.json']) {
    try { const st = statSync(path.join(ROOT, f)); hash.update(`${f}\0${st.size}\0${st.mtimeMs}\n`); } catch { /* absent */ }
  }
  return hash.digest('hex').slice(0, 16);
}

async function build(dir) {
  const esbuild = await import('esbuild');
  const tmp = `${dir}.${process.pid}.tmp`;
  const alias = (name) => `./node_modules/${name}/dist/cjs/${name}.js`;
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: path.join(LIB, 'cli', 'main.ts') },
    bundle: true,
    splitting: true, // the AWS SDK stays behind a dynamic import: loaded only for an S3 store or SQS publishing
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    external: ['@aws-sdk/*', '@smithy/*', 'esbuild'],
    alias: { libmime: alias('libmime'), libqp: alias('libqp'), libbase64: alias('libbase64') },
    banner: { js: "import { createRequire as __miRequire } from 'node:module'; const require = __miRequire(import.meta.url);" },
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'silent',
  });
  const parent = path.dirname(dir);
  mkdirSync(parent, { recursive: true });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process built the same fingerprint first
  }
  for (const old of readdirSync(parent)) {
    if (path.join(parent, old) !== dir && !old.endsWith('.tmp')) rmSync(path.join(parent, old), { recursive: true, force: true });
  }
}

async function loadBundled() {
  if (process.env.MAIL_INGEST_FROM_SOURCE === '1') return null;
  try {
    const dir = path.join(ROOT, 'node_modules', '.cache', 'mail-ingest', fingerprint());
    const entry = path.join(dir, 'main.mjs');
    if (!existsSync(entry)) await build(dir);
    process.setSourceMapsEnabled(true);
    return await import(pathToFileURL(entry).href);
  } catch {
    return null; // no esbuild, a read-only tree, a failed build: the sources work the same
  }
}

const cli = (await loadBundled()) ?? (await import('./main.ts'));
process.exitCode = await cli.main(process.argv);
