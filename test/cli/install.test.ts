import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, chownSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand, type CliResult, type RunOptions } from './cli-helpers.ts';

/**
 * The package as a user gets it: `npm pack` (which builds the bundle), `npm install -g` of the tarball into a
 * prefix, then the command run by an unprivileged user who cannot write into the installed package.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const TEST_USER = 'mail-ingest-test';

function skipReason(): string | null {
  let reason: string | null = null;
  if (process.getuid?.() !== 0) reason = 'installing for another user needs root (useradd, and running as that user)';
  else if (process.platform !== 'linux') reason = 'the install test is written for Linux (useradd)';
  if (reason !== null && process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  return reason;
}
const skip = skipReason();

/** A command run to its end, as the user it runs as (the package must work with nobody's help). */
function run(command: string, args: string[], o: Omit<RunOptions, 'input'> = {}): Promise<CliResult> {
  return runCommand(command, args, { ...o, timeoutMs: o.timeoutMs ?? 120_000 });
}

/** Every file of a tree with its size and mtime: what the package folder must still be after the user ran it. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => {
      const p = path.join(e.parentPath, e.name);
      const st = statSync(p);
      return `${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`;
    })
    .sort();
}

describe('npm pack, npm install -g, run as an unprivileged user', { skip: skip ?? false }, () => {
  let t: string;
  let prefix: string;
  let uid: number;
  let gid: number;
  let userEnv: NodeJS.ProcessEnv;
  // npm runs under the Node running the tests (24): npm's own shebang is `env node`.
  const toolEnv = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}` };

  before(async () => {
    t = mkdtempSync(path.join(tmpdir(), 'mail-ingest-install-'));
    chmodSync(t, 0o755);
    const pack = await run('npm', ['pack', '--pack-destination', t, '--json'], { cwd: ROOT, env: toolEnv });
    assert.equal(pack.code, 0, pack.stderr);
    const [{ filename }] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [{ filename: string }];
    prefix = path.join(t, 'prefix');
    // --offline: the package needs nothing from a registry (its one optional dependency, Node itself, is skipped
    // when not cached); tests use loopback only.
    const install = await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', path.join(t, filename)],
      { env: toolEnv },
    );
    assert.equal(install.code, 0, install.stderr);

    try {
      execFileSync('id', ['-u', TEST_USER], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER]);
    }
    uid = Number(execFileSync('id', ['-u', TEST_USER]).toString().trim());
    gid = Number(execFileSync('id', ['-g', TEST_USER]).toString().trim());
    const home = path.join(t, 'home');
    mkdirSync(path.join(home, 'work'), { recursive: true });
    for (const d of [home, path.join(home, 'work')]) chownSync(d, uid, gid);
    // The user's own Node 24 first on PATH (the bin's shebang is `#!/usr/bin/env node`); nothing of the clone.
    userEnv = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, LANG: 'C.UTF-8' };
  });
  after(() => {
    if (t) rmSync(t, { recursive: true, force: true });
  });

  it('ships the bundle and no TypeScript, and declares what a registry needs', () => {
    const pkgDir = path.join(prefix, 'lib', 'node_modules', 'mail-ingest');
    const files = readdirSync(pkgDir, { recursive: true }).map(String);
    assert.ok(files.includes(path.join('dist', 'cli', 'main.mjs')), 'the bundle is in the package');
    assert.deepEqual(
      files.filter((f) => f.endsWith('.ts')),
      [],
      'no TypeScript: Node does not strip types under node_modules',
    );
    const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
    assert.equal(pkg.private, undefined);
    assert.equal(pkg.engines.node, '>=24');
    assert.equal(pkg.dependencies, undefined, 'everything the CLI runs is in the bundle');
    assert.ok(existsSync(path.join(prefix, 'bin', 'mail-ingest')));
  });

  it('--version and the demo run for a user who cannot write into the package, which stays unchanged', async () => {
    const pkgDir = path.join(prefix, 'lib', 'node_modules', 'mail-ingest');
    const before = snapshot(pkgDir);
    const bin = path.join(prefix, 'bin', 'mail-ingest');
    const cwd = path.join(userEnv.HOME!, 'work');

    const version = await run(bin, ['--version'], { cwd, env: userEnv, uid, gid });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);

    const demo = await run(bin, ['demo'], { cwd, env: userEnv, uid, gid });
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /8 messages ingested/);
    assert.ok(statSync(path.join(cwd, 'demo-data', 'events.jsonl')).uid === uid, "the demo writes in the user's folder");

    assert.deepEqual(snapshot(pkgDir), before, 'nothing written into the installed package');
  });

  it('an older Node gets a clear message, not a syntax error', { skip: oldNodeSkip() }, async () => {
    const r = await run(path.join(prefix, 'bin', 'mail-ingest'), ['--version'], { env: { ...userEnv, PATH: '/usr/bin:/bin' }, uid, gid });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs Node\.js 24 or newer; this is v\d+/);
  });
});

function oldNodeSkip(): string | false {
  try {
    const v = execFileSync('/usr/bin/env', ['node', '--version'], { env: { PATH: '/usr/bin:/bin' } })
      .toString()
      .trim();
    return Number(v.slice(1).split('.')[0]) < 24 ? false : `the system Node (${v}) is not older than 24`;
  } catch {
    return 'no system Node in /usr/bin or /bin';
  }
}
