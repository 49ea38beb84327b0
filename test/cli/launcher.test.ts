import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli, type CliResult } from './cli-helpers.ts';

/**
 * The launcher (lib/cli/bin.mjs) in a clone: it runs a bundle built from the very sources beside it, rebuilt into
 * the user's cache when they change. A copy of the clone (lib/, package.json, the lockfile, node_modules linked) in
 * a temporary folder, with its own cache, so that the edits here touch nobody's sources or builds.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the launcher in a clone: is the bundle current?', () => {
  let t: string;
  let clone: string;
  let cache: string;

  // A variable set to undefined is left out of the child's environment: the clone's launcher decides for itself.
  const launch = (args: string[], nodeArgs: string[] = []): Promise<CliResult> =>
    cli(args, {
      bin: path.join(clone, 'lib', 'cli', 'bin.mjs'),
      nodeArgs,
      env: { XDG_CACHE_HOME: cache, MAIL_INGEST_FROM_SOURCE: undefined },
    });

  /** The builds in the clone's cache folder: name -> build-info.json's mtime. */
  const builds = (): Map<string, number> => {
    const base = path.join(cache, 'mail-ingest');
    const [parent] = readdirSync(base);
    assert.ok(parent !== undefined, 'the cache has a folder for the clone');
    const dir = path.join(base, parent);
    return new Map(readdirSync(dir).map((name) => [name, statSync(path.join(dir, name, 'build-info.json')).mtimeMs]));
  };

  const later = (file: string, seconds: number): void => {
    const at = new Date(Date.now() + seconds * 1000);
    utimesSync(file, at, at);
  };

  /**
   * A --require hook recording what the process loaded, written when it exits: Node's list of built-ins (`list`) and
   * the URL of every ES module it resolved (`modules`, through a resolve hook that changes nothing).
   */
  const loadRecorder = (): { hook: string; list: string; modules: string } => {
    const hook = path.join(t, 'loaded.cjs');
    const list = path.join(t, 'loaded.txt');
    const modules = path.join(t, 'modules.txt');
    writeFileSync(
      hook,
      [
        "const fs = require('node:fs');",
        'const urls = [];',
        "require('node:module').registerHooks({ resolve(s, c, next) { const r = next(s, c); urls.push(r.url); return r; } });",
        `process.on('exit', () => { fs.writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')); fs.writeFileSync(${JSON.stringify(modules)}, urls.join('\\n')); });`,
      ].join('\n'),
    );
    return { hook, list, modules };
  };

  before(() => {
    t = mkdtempSync(path.join(tmpdir(), 'mail-ingest-launcher-'));
    clone = path.join(t, 'clone');
    cache = path.join(t, 'cache');
    cpSync(path.join(ROOT, 'lib'), path.join(clone, 'lib'), { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) cpSync(path.join(ROOT, f), path.join(clone, f));
    symlinkSync(realpathSync(path.join(ROOT, 'node_modules')), path.join(clone, 'node_modules'));
  });
  after(() => {
    if (t) rmSync(t, { recursive: true, force: true });
  });

  it('builds into the cache once; the next starts take the build without hashing or rebuilding', async () => {
    const first = await launch(['--version']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
    const built = builds();
    assert.equal(built.size, 1);
    const [name] = built.keys();
    const info = JSON.parse(
      readFileSync(path.join(cache, 'mail-ingest', readdirSync(path.join(cache, 'mail-ingest'))[0]!, name!, 'build-info.json'), 'utf8'),
    );
    assert.equal(info.fingerprint, name, 'the build is named by its fingerprint');
    assert.ok(
      info.stamp.files.some(([rel]: [string]) => rel === path.join('lib', 'cli', 'main.ts')),
      'the stamp lists the sources with their sizes and mtimes',
    );

    const second = await launch(['--version']);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(builds(), built, 'the same build, its record not even rewritten: the stamp held');
  });

  it('a touched file with the same content: hashed once, not rebuilt, and cheap again after', async () => {
    const before = builds();
    later(path.join(clone, 'lib', 'cli', 'help.ts'), 10);
    assert.equal((await launch(['--version'])).code, 0);
    const renewed = builds();
    assert.deepEqual([...renewed.keys()], [...before.keys()], 'the same build (the content hash matched)');
    const [name] = before.keys();
    assert.notEqual(renewed.get(name!), before.get(name!), 'its stamp renewed');

    assert.equal((await launch(['--version'])).code, 0);
    assert.deepEqual(builds(), renewed, 'the renewed stamp holds: no hashing, no rewrite');
  });

  it('a changed source is rebuilt, and the build runs it; the old build is removed', async () => {
    const before = builds();
    const main = path.join(clone, 'lib', 'cli', 'main.ts');
    const source = readFileSync(main, 'utf8');
    assert.ok(source.includes("'print the version'"));
    writeFileSync(main, source.replace("'print the version'", "'print the version (edited)'"));
    const help = await launch(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /print the version \(edited\)/, 'the edit is in the bundle that ran');
    const after = builds();
    assert.equal(after.size, 1);
    assert.notDeepEqual([...after.keys()], [...before.keys()], 'a new build, the old one gone');
  });

  it('a new source file is noticed by its folder, without an edit to any file the stamp lists', async () => {
    const before = builds();
    writeFileSync(path.join(clone, 'lib', 'cli', 'new-module.ts'), 'export const added = 1;\n');
    assert.equal((await launch(['--version'])).code, 0);
    assert.notDeepEqual([...builds().keys()], [...before.keys()], 'rebuilt: the fingerprint covers the new file');
  });

  it("--version and --help load no command's modules: not Node's HTTP client (undici), TLS, worker threads, zlib, source maps", async () => {
    const { hook, list } = loadRecorder();
    for (const args of [['--version'], ['--help'], ['run', '--help']]) {
      const r = await launch(args, ['--require', hook]);
      assert.equal(r.code, 0, r.stderr);
      const loaded = readFileSync(list, 'utf8').split('\n');
      for (const heavy of [
        'internal/deps/undici/undici',
        'http',
        'tls',
        'worker_threads',
        'zlib',
        'internal/source_map/source_map_cache_map',
      ]) {
        assert.ok(!loaded.includes(`NativeModule ${heavy}`), `${args.join(' ')} loads ${heavy}`);
      }
    }
  });

  it('status loads neither the mail parser nor the pipeline, nor undici or worker threads', async () => {
    const { hook, list, modules } = loadRecorder();
    const config = path.join(t, 'status-config.json');
    const mailbox = { id: 'support', host: '127.0.0.1', port: 995, tls: 'implicit', user: 'support', password: { env: 'UNSET_PASSWORD' } };
    writeFileSync(config, JSON.stringify({ store: { type: 'fs', dir: path.join(t, 'archive') }, mailboxes: [mailbox] }));
    const r = await launch(['status', '--config', config], ['--require', hook]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /support/);
    const loaded = readFileSync(list, 'utf8').split('\n');
    for (const heavy of ['internal/deps/undici/undici', 'worker_threads', 'http2', 'zlib']) {
      assert.ok(!loaded.includes(`NativeModule ${heavy}`), `status loads ${heavy}`);
    }
    // The bundle's chunks keep each bundled package file's path as the key of its module wrapper.
    const chunks = readFileSync(modules, 'utf8')
      .split('\n')
      .filter((u) => u.startsWith('file:'));
    assert.ok(
      chunks.some((u) => /\/status-[^/]+\.mjs$/.test(u)),
      'the status chunk ran',
    );
    for (const u of chunks) {
      const code = readFileSync(new URL(u), 'utf8');
      for (const pkg of ['mailparser', 'iconv-lite', '@aws-sdk']) {
        assert.ok(!code.includes(`node_modules/${pkg}/`), `status loads ${pkg} (in ${path.basename(u)})`);
      }
    }
  });

  it("the clone's own dist/cli (npm install's build) is run while it is current, and no cache build is made", async () => {
    const built = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(clone, 'lib', 'cli', 'bundle.mjs')], { cwd: clone, stdio: 'ignore' });
      child.on('error', reject);
      child.on('close', resolve);
    });
    assert.equal(built, 0);
    rmSync(path.join(cache, 'mail-ingest'), { recursive: true, force: true });
    const run = await launch(['--version']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readdirSync(cache), [], 'nothing built into the cache');
  });
});
