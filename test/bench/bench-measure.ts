import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';

/**
 * Runs a command and reports wall time and peak RSS. A small Python parent forks, optionally drops to an
 * unprivileged user, execs the command in its own process group and collects it with wait4(): the kernel's
 * ru_maxrss there is the largest resident set of any process in the tree (the command or any descendant it
 * reaped), exact and without polling. Python is present wherever getmail6 is; no /usr/bin/time needed.
 */
const WRAPPER = String.raw`
import json, os, signal, sys, time
res_path, uid, gid, home, timeout_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
cmd = sys.argv[6:]
timed_out = False
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    if uid >= 0:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    if home:
        os.environ['HOME'] = home
    try:
        os.execvp(cmd[0], cmd)
    except OSError as e:
        sys.stderr.write('exec failed: %s\n' % e)
        os._exit(127)
def on_alarm(signum, frame):
    global timed_out
    timed_out = True
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, timeout_s)
_, status, ru = os.wait4(pid, 0)
t1 = time.monotonic()
signal.setitimer(signal.ITIMER_REAL, 0)
try:
    os.killpg(pid, signal.SIGKILL)
except ProcessLookupError:
    pass
with open(res_path, 'w') as f:
    json.dump({'wallMs': (t1 - t0) * 1000, 'maxRssKb': ru.ru_maxrss, 'cpuMs': (ru.ru_utime + ru.ru_stime) * 1000,
               'exitCode': os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
               'signal': os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
               'timedOut': timed_out}, f)
`;

export interface MeasureOptions {
  command: string;
  args: string[];
  /** Drop to this user (uid, gid, HOME) before exec. */
  runAs?: { uid: number; gid: number; home: string };
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** stdout and stderr are written to <logPrefix>.out / .err. */
  logPrefix: string;
}

export interface Measurement {
  wallMs: number;
  /** Largest resident set of any process of the run, in bytes. */
  peakRssBytes: number;
  /** User + system CPU time of the whole process tree. */
  cpuMs: number;
  exitCode: number | null;
  signal: number | null;
  timedOut: boolean;
}

export async function measure(o: MeasureOptions): Promise<Measurement> {
  const resPath = `${o.logPrefix}.measure.json`;
  const out = openSync(`${o.logPrefix}.out`, 'w');
  const err = openSync(`${o.logPrefix}.err`, 'w');
  const child = spawn(
    'python3',
    [
      '-c',
      WRAPPER,
      resPath,
      String(o.runAs?.uid ?? -1),
      String(o.runAs?.gid ?? -1),
      o.runAs?.home ?? '',
      String(o.timeoutMs / 1000),
      o.command,
      ...o.args,
    ],
    {
      stdio: ['ignore', out, err],
      env: { ...process.env, ...o.env },
      cwd: o.cwd,
      detached: true,
    },
  );
  closeSync(out);
  closeSync(err);
  // Backstop in case the wrapper itself hangs: kill its whole group well after its own alarm.
  const backstop = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, o.timeoutMs + 30_000);
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  clearTimeout(backstop);
  if (!existsSync(resPath)) {
    return { wallMs: o.timeoutMs + 30_000, peakRssBytes: 0, cpuMs: 0, exitCode: null, signal: 9, timedOut: true };
  }
  const r = JSON.parse(readFileSync(resPath, 'utf8')) as {
    wallMs: number;
    maxRssKb: number;
    cpuMs: number;
    exitCode: number | null;
    signal: number | null;
    timedOut: boolean;
  };
  return {
    wallMs: r.wallMs,
    peakRssBytes: r.maxRssKb * 1024,
    cpuMs: r.cpuMs,
    exitCode: r.exitCode,
    signal: r.signal,
    timedOut: r.timedOut,
  };
}

/** The most telling lines of a run's output: the first error line if there is one, else the last lines. */
export function logTail(logPrefix: string, lines = 3): string {
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
  const all = (read(`${logPrefix}.err`) + read(`${logPrefix}.out`)).trim().split('\n');
  const err = all.find((l) => /\b\w*Error\b|error:|fatal/i.test(l));
  return err ? err.trim() : all.slice(-lines).join('\n');
}
