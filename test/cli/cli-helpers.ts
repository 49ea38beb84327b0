import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';

/** The package's bin, as npx runs it in a clone: dist/cli/ if current, else a bundle in the user's cache, else the sources. */
export const BIN = path.resolve(import.meta.dirname, '../../lib/cli/bin.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** The child's whole environment. @default this process's */
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** Written to the child's stdin, which is then closed; without it the child has no stdin. */
  input?: string;
  /** Past this the child is killed and the promise rejects. @default no limit */
  timeoutMs?: number;
}

/** Runs `command` to its end with its output captured; `name` is how a timeout names it. */
export function runCommand(command: string, args: string[], o: RunOptions = {}, name = `${command} ${args.join(' ')}`): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: o.cwd,
      env: o.env,
      uid: o.uid,
      gid: o.gid,
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer =
      o.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`${name} timed out\n${stderr}`));
          }, o.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer !== null) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}

/** Runs the mail-ingest CLI in a fresh Node process, as a user would (no TTY: plain log lines). */
export function cli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; bin?: string; nodeArgs?: string[] } = {},
): Promise<CliResult> {
  return runCommand(
    process.execPath,
    [...(options.nodeArgs ?? []), options.bin ?? BIN, ...args],
    { cwd: options.cwd, env: { ...process.env, ...options.env }, timeoutMs: options.timeoutMs ?? 60_000 },
    `mail-ingest ${args.join(' ')}`,
  );
}

export interface DemoServe {
  /** The config `demo --serve` wrote (absolute path). */
  readonly config: string;
  readonly port: number;
  /** Everything it printed so far. */
  output(): string;
  /** Waits until its output (from `from` on) matches. */
  waitFor(pattern: RegExp, from?: number): Promise<RegExpExecArray>;
  /** One new message now (SIGUSR2), resolved when the server has announced it. */
  arrive(): Promise<void>;
  readonly child: ChildProcess;
  stop(): Promise<number | null>;
}

/** `mail-ingest demo --serve` in `cwd`, as a person starts it in one terminal; mail arrives only on arrive(). */
export async function startDemoServe(cwd: string): Promise<DemoServe> {
  const child = spawn(process.execPath, [BIN, 'demo', '--serve', '--mail-every', '1h'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const waitFor = async (pattern: RegExp, from = 0): Promise<RegExpExecArray> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const m = pattern.exec(out.slice(from));
      if (m !== null) return m;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`demo --serve never printed ${pattern}; it printed:\n${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const config = (await waitFor(/^Config: (.*)$/m))[1]!;
  const port = Number((await waitFor(/POP3S server on 127\.0\.0\.1:(\d+)/))[1]);
  return {
    config,
    port,
    child,
    waitFor,
    output: () => out,
    async arrive() {
      const from = out.length;
      child.kill('SIGUSR2');
      await waitFor(/new mail: /, from);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return closed;
    },
  };
}

/** A mailbox of a CLI config on a local test server: loopback, its certificate checked for "localhost", user alice. */
export function localMailbox(
  fields: { id: string; port: number; ca: string; password: unknown } & Record<string, unknown>,
): Record<string, unknown> {
  return { host: '127.0.0.1', servername: 'localhost', user: 'alice', ...fields };
}

/** Writes `<dir>/config.json`: the fs store in ./data (unless `more` names another), `more`, and these mailboxes. */
export async function writeCliConfig(dir: string, mailboxes: readonly object[], more: Record<string, unknown> = {}): Promise<string> {
  const file = path.join(dir, 'config.json');
  await writeFile(file, JSON.stringify({ store: { type: 'fs', dir: './data' }, ...more, mailboxes }));
  return file;
}
