// npm run bench [-- --quick] [--runs N] [--rtts 0,50,150] [--workloads small,medium,large]
//   [--contenders mpop,mail-ingest,fetchmail,getmail6,node-pop3,openssl] [--timeout SECONDS] [--budget MINUTES] [--scale X]
// Compares mail-ingest with mpop (the lead: the fastest peer), fetchmail, getmail6 and node-pop3 against a throw-away
// Dovecot, through a delay proxy. The peers run as an unprivileged user; every delivered message is checked by sha256.
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { cpus, loadavg, totalmem, tmpdir, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dovecotSkipReason, startDovecot, toCrlf, type DovecotServer } from '../helpers/dovecot.ts';
import { startDelayProxy } from '../helpers/delay-proxy.ts';
import { WORKLOADS, attachmentMessage, type Workload } from './bench-workloads.ts';
import { measure, logTail } from './bench-measure.ts';
import { ensureBenchUser, chownTree, type BenchUser } from './bench-user.ts';
import { sha256 } from './bench-files.ts';
import { fmtSeconds } from './bench-stats.ts';
import { markdownReport, markdownTable, targets, targetsVsMpop } from './bench-report.ts';
import { svgChart } from './bench-chart.ts';
import type { BenchResults, Cell, LinkFloor, RunResult } from './bench-types.ts';
import type { Contender, Mailbox } from './contenders/contender.ts';
import { mailIngest } from './contenders/mail-ingest.ts';
import { mpop } from './contenders/mpop.ts';
import { fetchmail } from './contenders/fetchmail.ts';
import { getmail } from './contenders/getmail.ts';
import { nodePop3 } from './contenders/node-pop3.ts';
import { opensslFloor } from './contenders/openssl-floor.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    rtts: { type: 'string' },
    workloads: { type: 'string' },
    contenders: { type: 'string' },
    timeout: { type: 'string' },
    budget: { type: 'string' },
    scale: { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const env = process.env;
const quick = flags.quick || env.BENCH_QUICK === '1';
const opt = {
  runs: Number(flags.runs ?? env.BENCH_RUNS ?? (quick ? 2 : 3)),
  rtts: (flags.rtts ?? env.BENCH_RTTS ?? (quick ? '0,50' : '0,50,150')).split(',').map(Number),
  workloads: (flags.workloads ?? env.BENCH_WORKLOADS ?? 'small,medium,large').split(','),
  contenders: (flags.contenders ?? env.BENCH_CONTENDERS ?? 'mpop,mail-ingest,fetchmail,getmail6,node-pop3,openssl').split(','),
  timeoutMs: 1000 * Number(flags.timeout ?? env.BENCH_TIMEOUT ?? (quick ? 20 : 60)),
  budgetMs: 60_000 * Number(flags.budget ?? env.BENCH_BUDGET ?? (quick ? 8 : 30)),
  scale: Number(flags.scale ?? env.BENCH_SCALE ?? (quick ? 0.1 : 1)),
  out: flags.out ?? join(import.meta.dirname, 'results'),
};
const ALL: Contender[] = [mpop, mailIngest, fetchmail, getmail, nodePop3, opensslFloor];
const contenders = ALL.filter((c) => opt.contenders.includes(c.id));
const t0 = Date.now();
const log = (s: string) => process.stderr.write(`[bench ${fmtSeconds(Date.now() - t0).padStart(7)} s] ${s}\n`);
const overBudget = () => Date.now() - t0 > opt.budgetMs;

function version(cmd: string, args: string[], re: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    return re.exec(out)?.[1] ?? out.trim().split('\n')[0]!;
  } catch (e) {
    const out = String((e as { stdout?: Buffer }).stdout ?? '') + String((e as { stderr?: Buffer }).stderr ?? '');
    return re.exec(out)?.[1] ?? 'not installed';
  }
}

/** Multiset comparison of digests: every served message exactly once, nothing else. */
function verify(expected: Map<string, number>, got: string[]): { missing: number; unexpected: number } {
  const left = new Map(expected);
  let unexpected = 0;
  for (const d of got) {
    const n = left.get(d) ?? 0;
    if (n > 0) left.set(d, n - 1);
    else unexpected++;
  }
  let missing = 0;
  for (const n of left.values()) missing += n;
  return { missing, unexpected };
}

const tally = (ds: string[]) => ds.reduce((m, d) => m.set(d, (m.get(d) ?? 0) + 1), new Map<string, number>());

/** One login and STAT, so Dovecot builds its index before anything is timed. */
async function warmUp(server: DovecotServer, user: string, password: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host: server.host, port: server.tlsPort, ca: server.caPem, servername: 'localhost' });
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (/\+OK \d+ \d+\r\n/.test(buf) || /-ERR/.test(buf)) {
        s.end('QUIT\r\n');
        resolve();
      }
    });
    s.once('secureConnect', () => s.write(`USER ${user}\r\nPASS ${password}\r\nSTAT\r\n`));
    s.once('error', reject);
  });
}

interface Prepared {
  server: DovecotServer;
  workload: Workload;
  expected: { crlf: Map<string, number>; lf: Map<string, number> };
  bytes: number;
}

async function prepareWorkload(w: Workload): Promise<Prepared> {
  const server = await startDovecot({
    users: [
      { user: 'alice', password: 'secret-alice' },
      { user: 'bob', password: 'secret-bob' },
    ],
  });
  const crlf: string[] = [];
  const lf: string[] = [];
  let bytes = 0;
  const BATCH = 100;
  for (let i = 0; i < w.count; i += BATCH) {
    const msgs = Array.from({ length: Math.min(BATCH, w.count - i) }, (_, k) => w.make(i + k));
    for (const m of msgs) {
      const served = toCrlf(m);
      bytes += served.length;
      crlf.push(sha256(served));
      lf.push(sha256(m));
    }
    await server.seed('alice', msgs);
  }
  // bob holds one 32 MB message: a raw read of it gives the link's bandwidth for the computed floor.
  if (w.id === 'small') await server.seed('bob', [attachmentMessage(0, 32 * 1024 * 1024, 0x4000000)]);
  await warmUp(server, 'alice', 'secret-alice');
  await warmUp(server, 'bob', 'secret-bob');
  return { server, workload: w, expected: { crlf: tally(crlf), lf: tally(lf) }, bytes };
}

/**
 * Work folders of runs that wrote many files, removed once their workload is done rather than after each run: ext4
 * passes over every inode freed in the last few minutes when it allocates one (recently_deleted), so removing 2,000
 * files made the next contender's 2,000 creates scan past them all (a fifth of a run's CPU, measured with perf).
 */
const doneWork: string[] = [];
function removeDoneWork(): void {
  for (const dir of doneWork.splice(0)) rmSync(dir, { recursive: true, force: true });
}

async function runOnce(c: Contender, p: Prepared, mb: Mailbox, scratch: string, tag: string, user: BenchUser): Promise<RunResult> {
  const work = mkdtempSync(join(scratch, `${c.id}-`));
  chmodSync(work, 0o755);
  try {
    const launch = await c.prepare(mb, work);
    if (launch.unprivileged) chownTree(work, user);
    const logPrefix = join(scratch, `${tag}.${c.id}`);
    const m = await measure({
      command: launch.command,
      args: launch.args,
      env: launch.env,
      cwd: launch.cwd,
      timeoutMs: opt.timeoutMs,
      logPrefix,
      runAs: launch.unprivileged ? { uid: user.uid, gid: user.gid, home: join(work, 'home') } : undefined,
    });
    const total = c.id === 'openssl' ? 1 : p.workload.count;
    if (m.timedOut) {
      const delivered = Math.min(total, await c.count(work));
      return {
        status: 'timeout',
        wallMs: m.wallMs,
        peakRssBytes: m.peakRssBytes,
        cpuMs: m.cpuMs,
        delivered,
        estimatedMs: delivered > 0 ? (m.wallMs * total) / delivered : undefined,
      };
    }
    const got = await c.collect(work);
    const v = verify(got.form === 'crlf' ? p.expected.crlf : p.expected.lf, got.digests);
    const exit = m.exitCode === 0 ? '' : ` exit ${m.exitCode ?? `signal ${m.signal}`}`;
    if (v.missing || v.unexpected || got.problems.length) {
      const detail =
        `${v.missing} missing, ${v.unexpected} wrong/extra of ${total}${exit}` +
        (got.problems.length ? `; ${got.problems.slice(0, 2).join('; ')}` : '') +
        (v.missing === total || exit
          ? ` — ${logTail(logPrefix)
              .replace(/\s*\n\s*/g, ' / ')
              .slice(0, 300)}`
          : '');
      return { status: 'failed', wallMs: m.wallMs, peakRssBytes: m.peakRssBytes, cpuMs: m.cpuMs, delivered: got.digests.length, detail };
    }
    return {
      status: 'ok',
      wallMs: m.wallMs,
      peakRssBytes: m.peakRssBytes,
      cpuMs: m.cpuMs,
      delivered: got.digests.length,
      ...(exit ? { detail: exit.trim() } : {}),
    };
  } finally {
    if (p.workload.count > 100) doneWork.push(work);
    else rmSync(work, { recursive: true, force: true });
  }
}

/** 5 round trips (TCP, TLS 1.3, greeting, login with the listing pipelined, retrieval) plus bytes over bandwidth. */
async function linkFloor(p: Prepared, mb: Mailbox, rttMs: number, scratch: string, user: BenchUser): Promise<LinkFloor | undefined> {
  const bobBox = { ...mb, user: 'bob', password: 'secret-bob' };
  const r = await runOnce(
    opensslFloor,
    { ...p, expected: { crlf: new Map(), lf: new Map() } },
    bobBox,
    scratch,
    `floor-${rttMs}`,
    user,
  ).catch(() => undefined);
  if (!r) return undefined;
  const rawBytes = 32 * 1024 * 1024;
  // The raw read itself spends about 3 round trips before data flows (TCP, TLS, pipelined commands).
  const transferMs = Math.max(1, r.wallMs - 3 * rttMs);
  const bandwidth = (rawBytes / transferMs) * 1000;
  const roundTrips = 5;
  return {
    workload: p.workload.id,
    rttMs,
    roundTrips,
    bandwidthBytesPerSec: bandwidth,
    floorMs: roundTrips * rttMs + (p.bytes / bandwidth) * 1000,
  };
}

async function main(): Promise<void> {
  const skip = dovecotSkipReason();
  if (skip) throw new Error(`cannot benchmark: ${skip}`);
  const user = ensureBenchUser();
  const scratch = mkdtempSync(join(tmpdir(), 'mi-bench-'));
  chmodSync(scratch, 0o755);
  const res: BenchResults = {
    startedAt: new Date().toISOString(),
    quick,
    runs: opt.runs,
    rtts: opt.rtts,
    timeoutMs: opt.timeoutMs,
    machine: {
      cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
      memory: `${Math.round(totalmem() / 2 ** 30)} GB`,
      kernel: release(),
      node: process.version,
      dovecot: version('dovecot', ['--version'], /^(\S+)/),
      mpop: version('mpop', ['--version'], /mpop version (\S+)/),
      fetchmail: version('fetchmail', ['--version'], /fetchmail release ([0-9.]+)/),
      getmail6: version('getmail', ['--version'], /getmail (\S+)/),
      openssl: version('openssl', ['version'], /OpenSSL (\S+)/),
    },
    workloads: [],
    cells: [],
    floors: [],
    notes: [],
    load: { cores: cpus().length, samples: [loadavg()[0]!] },
  };
  // The machine may be shared: the load through the run goes into the report beside the times.
  const sampler = setInterval(() => res.load!.samples.push(loadavg()[0]!), 30_000);
  sampler.unref();
  for (const c of contenders) if (c.unavailable()) res.notes.push(c.unavailable()!);
  try {
    for (const wid of opt.workloads) {
      const make = WORKLOADS[wid];
      if (!make) {
        res.notes.push(`unknown workload ${wid}`);
        continue;
      }
      if (overBudget()) {
        res.notes.push(`time budget spent: workload ${wid} not run`);
        continue;
      }
      const w = make(opt.scale);
      log(`workload ${w.title}: seeding`);
      const p = await prepareWorkload(w);
      res.workloads.push({ id: w.id, title: w.title, count: w.count, bytes: p.bytes });
      // The CA must be readable by the unprivileged user; the test PKI lives in a root-only temp dir.
      const caFile = join(scratch, 'ca.pem');
      copyFileSync(p.server.caFile, caFile);
      chmodSync(caFile, 0o644);
      try {
        for (const rtt of opt.rtts) {
          const proxy =
            rtt > 0 ? await startDelayProxy({ targetHost: '127.0.0.1', targetPort: p.server.tlsPort, oneWayDelayMs: rtt / 2 }) : undefined;
          const mb: Mailbox = {
            host: '127.0.0.1',
            port: proxy?.port ?? p.server.tlsPort,
            caFile,
            servername: 'localhost',
            user: 'alice',
            password: 'secret-alice',
          };
          try {
            const active = contenders.filter((c) => !c.appliesTo || c.appliesTo(w.id));
            const cells = active.map(
              (c): Cell => ({
                workload: w.id,
                rttMs: rtt,
                contender: c.id,
                label: c.label,
                runs: [],
                unavailable: c.unavailable() ?? undefined,
              }),
            );
            res.cells.push(...cells);
            for (let run = 0; run < opt.runs; run++) {
              // Alternate: each run starts with a different contender.
              for (let k = 0; k < active.length; k++) {
                const i = (k + run) % active.length;
                const c = active[i]!;
                const cell = cells[i]!;
                if (cell.unavailable || cell.runs.some((r) => r && r.status !== 'ok')) continue;
                if (overBudget()) {
                  cell.note = 'time budget spent: fewer runs';
                  continue;
                }
                const r = await runOnce(c, p, mb, scratch, `${w.id}-${rtt}-${run}`, user);
                cell.runs[run] = r;
                log(
                  `${w.title} @ ${rtt} ms run ${run + 1}: ${c.id.padEnd(11)} ${r.status.padEnd(7)} ${fmtSeconds(r.wallMs)} s` +
                    ` cpu ${fmtSeconds(r.cpuMs)} s rss ${(r.peakRssBytes / 1048576).toFixed(0)} MB${r.estimatedMs ? ` (est. ${fmtSeconds(r.estimatedMs)} s)` : ''}${r.detail ? ` ${r.detail}` : ''}`,
                );
              }
            }
            if (w.id === 'small') {
              const f = await linkFloor(p, mb, rtt, scratch, user);
              if (f) res.floors.push(f);
            }
          } finally {
            await proxy?.close();
          }
        }
      } finally {
        await p.server.stop();
        removeDoneWork();
      }
    }
  } finally {
    clearInterval(sampler);
    res.load!.samples.push(loadavg()[0]!);
    // --keep: leave every run's stdout/stderr (<workload>-<rtt>-<run>.<contender>.out/.err) for inspection.
    if (flags.keep) log(`logs kept in ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
  mkdirSync(opt.out, { recursive: true });
  const base = quick ? 'quick' : 'latest';
  writeFileSync(join(opt.out, `${base}.json`), `${JSON.stringify(res, null, 2)}\n`);
  writeFileSync(join(opt.out, `${base}.svg`), svgChart(res));
  writeFileSync(join(opt.out, `${base}.md`), markdownReport(res, `${base}.svg`));
  process.stdout.write(
    `\n${markdownTable(res)}\n\n${targetsVsMpop(res).join('\n')}\n${targets(res).join('\n')}\n${res.notes.map((n) => `note: ${n}`).join('\n')}\n`,
  );
  log(`wrote ${join(opt.out, `${base}.md`)} and ${base}.svg`);
}

await main();
