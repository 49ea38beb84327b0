/**
 * npm run bench:ingest [-- --quick] [-- --only fs|s3]
 * The whole pipeline (POP3S from a local Dovecot, store, parse, publish) on 2,000 messages of about 5 KB and on one
 * 200 MB message, into the fs store with the local event log (the real `mail-ingest run`, wall time including its
 * start-up), and into S3 + SQS on a local fauxqs. Each measured run is a fresh process (peak RSS is its own) into
 * an empty store. Prints messages/s, MB/s, peak RSS, for S3/SQS requests per message, and, where strace is
 * installed, system calls per message (one more run under `strace -f -c`, not timed). A script that prints figures,
 * not a test.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDovecot } from '../helpers/dovecot.ts';
import { startLocalAws, type LocalAws } from '../helpers/fauxqs.ts';
import { mail } from '../e2e/e2e-helpers.ts';

const quick = process.argv.includes('--quick');
const only = process.argv.includes('--only') ? (process.argv[process.argv.indexOf('--only') + 1] ?? null) : null;
const RUNS = quick ? 1 : 3;
const CHILD = path.join(import.meta.dirname, 'ingest-child.ts');
const CLI = path.resolve(import.meta.dirname, '../../lib/cli/bin.mjs');
const HWM = path.join(import.meta.dirname, 'report-hwm.mjs');
const STRACE = ['/usr/bin/strace', '/bin/strace'].find((p) => existsSync(p)) ?? null;
/** The calls shown by name; the total counts every call of every thread. */
const SHOWN_CALLS = ['fsync', 'fdatasync', 'openat', 'link', 'unlink', 'rename', 'write', 'writev', 'read', 'futex', 'epoll_pwait'];

/** Runs a child to completion without blocking this process: fauxqs, serving the S3 runs, lives here. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/**
 * Time and peak RSS are the real CLI's (the bundled bin a user gets). For S3 + SQS one more run, in a child that
 * instruments the SDK clients, counts the requests per message.
 */
async function measure(
  _storeType: string,
  file: string,
  dir: string,
  countRequests: boolean,
): Promise<{
  summaries: Array<{ ok: boolean; stored: number; bytes: number }>;
  ms: number;
  maxRssBytes: number;
  requests: Record<string, number>;
}> {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', MAIL_INGEST_HWM_FILE: path.join(dir, 'hwm') };
  if (countRequests) {
    const child = await run([CHILD, file], env);
    if (child.status !== 0) throw new Error(`run failed (${child.status}): ${child.stderr}`);
    return JSON.parse(child.stdout);
  }
  // Untimed: the CLI's bundle is built (the launcher rebuilds it whenever a source changed).
  execFileSync(process.execPath, [CLI, '--help'], { stdio: 'ignore' });
  const t0 = performance.now();
  const child = await run(['--import', HWM, CLI, 'run', '--config', file, '--json'], env);
  const ms = performance.now() - t0;
  if (child.status !== 0) throw new Error(`run failed (${child.status}): ${child.stderr}`);
  return {
    summaries: JSON.parse(child.stdout).mailboxes,
    ms,
    maxRssBytes: Number(readFileSync(path.join(dir, 'hwm'), 'utf8')),
    requests: {},
  };
}

/** System calls of one CLI run, from `strace -f -c` (every thread): calls by name. */
async function countSyscalls(file: string, dir: string): Promise<Record<string, number> | null> {
  if (STRACE === null) return null;
  const out = path.join(dir, 'strace.txt');
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  const child = await new Promise<number | null>((resolve, reject) => {
    const c = spawn(STRACE, ['-f', '-c', '-o', out, process.execPath, CLI, 'run', '--config', file, '--json'], { env, stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', resolve);
  });
  if (child !== 0 || !existsSync(out)) return null; // e.g. ptrace not permitted in this container
  const calls: Record<string, number> = {};
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (m && m[2] !== 'total') calls[m[2]!] = Number(m[1]);
  }
  return calls;
}

function perMessageCalls(calls: Record<string, number> | null, messages: number): string {
  if (calls === null) return STRACE === null ? 'strace not installed' : 'strace failed';
  const total = Object.values(calls).reduce((a, b) => a + b, 0);
  const f = (n: number) => (n / messages).toFixed(n / messages >= 10 ? 0 : n / messages >= 1 ? 1 : 2);
  return [`${f(total)} in all`, ...SHOWN_CALLS.filter((c) => calls[c] !== undefined).map((c) => `${f(calls[c]!)} ${c}`)].join(', ');
}

function bigMessage(bytes: number): Buffer {
  const head = Buffer.from(
    'Received: from mx.example.net by pop.example.jp; Thu, 26 Nov 2026 10:00:00 +0900\nFrom: big@example.com\nTo: support@example.jp\nSubject: one big message\nMIME-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n',
  );
  const line = Buffer.from(`${Buffer.alloc(57, 7).toString('base64')}\n`);
  return Buffer.concat([head, Buffer.alloc(Math.ceil(bytes / line.length) * line.length).fill(line)]);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const mb = (n: number): string => (n / 1e6).toFixed(1);

const dovecot = await startDovecot({
  users: [
    { user: 'small', password: 'pw-small' },
    { user: 'large', password: 'pw-large' },
  ],
});
let aws: LocalAws | null = null;
const rows: string[][] = [];
try {
  const small = Array.from({ length: quick ? 500 : 2000 }, (_, i) => mail(i, { size: 5000 }));
  await dovecot.seed('small', small);
  await dovecot.seed('large', [bigMessage(quick ? 50e6 : 200e6)]);
  const workloads = [
    { name: `${small.length} x 5 KB`, user: 'small', password: 'pw-small', messages: small.length },
    { name: quick ? '1 x 50 MB' : '1 x 200 MB', user: 'large', password: 'pw-large', messages: 1 },
  ];
  const stores = only === null ? ['fs', 's3'] : [only];
  if (stores.includes('s3')) aws = await startLocalAws();
  for (const storeType of stores) {
    for (const w of workloads) {
      const times: number[] = [];
      const rss: number[] = [];
      let bytes = 0;
      let requests: Record<string, number> = {};
      let syscalls: Record<string, number> | null = null;
      const done: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        const dir = await mkdtemp(path.join(tmpdir(), 'bench-ingest-'));
        try {
          const mailbox = {
            id: 'bench',
            host: '127.0.0.1',
            port: dovecot.tlsPort,
            tls: 'implicit',
            ca: dovecot.caFile,
            servername: 'localhost',
            user: w.user,
            password: w.password,
            retention: 'keep',
            maxMessageBytes: 300e6,
          };
          const config =
            storeType === 'fs'
              ? { store: { type: 'fs', dir }, mailboxes: [mailbox] }
              : {
                  store: {
                    type: 's3',
                    bucket: aws!.bucket,
                    prefix: `run-${Date.now()}-${run}`,
                    region: aws!.region,
                    endpoint: aws!.endpoint,
                    forcePathStyle: true,
                  },
                  publish: {
                    type: 'sqs',
                    region: aws!.region,
                    endpoint: aws!.endpoint,
                    targets: [
                      { name: 'all', queueUrl: await aws!.createQueue() },
                      { name: 'tickets', queueUrl: await aws!.createQueue(), filter: { autoReply: false, bounce: false } },
                    ],
                  },
                  mailboxes: [mailbox],
                };
          const file = path.join(dir, 'config.json');
          await writeFile(file, JSON.stringify(config));
          const out = await measure(storeType, file, dir, false);
          if (storeType !== 'fs' && run === RUNS - 1) {
            // A fresh prefix, so that everything is new again, for the request count.
            const counted = JSON.parse(JSON.stringify(config));
            counted.store.prefix = `${counted.store.prefix}-count`;
            await writeFile(file, JSON.stringify(counted));
            requests = (await measure(storeType, file, dir, true)).requests;
          }
          if (run === RUNS - 1) {
            // One more run under strace into a fresh store (S3: a fresh prefix), not timed.
            const traced = JSON.parse(JSON.stringify(config));
            if (storeType === 'fs') traced.store.dir = path.join(dir, 'traced');
            else traced.store.prefix = `${traced.store.prefix}-strace`;
            const tracedFile = path.join(dir, 'traced-config.json');
            await writeFile(tracedFile, JSON.stringify(traced));
            syscalls = await countSyscalls(tracedFile, dir);
          }
          const s = out.summaries[0];
          if (s === undefined || !s.ok || s.stored !== w.messages) throw new Error(`run did not ingest everything: ${JSON.stringify(s)}`);
          times.push(out.ms);
          rss.push(out.maxRssBytes);
          bytes = s.bytes;
        } finally {
          // Removed with the workload's other runs, not before the next one: ext4 passes over inodes freed in the
          // last few minutes when it allocates one, so 2,000 files removed slow the next run's creates.
          done.push(dir);
        }
      }
      for (const dir of done.splice(0)) await rm(dir, { recursive: true, force: true });
      const t = median(times) / 1000;
      const perMessage = Object.entries(requests)
        .map(([k, v]) => `${k} ${(v / w.messages).toFixed(2)}`)
        .join(', ');
      rows.push([
        storeType === 'fs' ? 'fs + event log' : 'S3 + SQS (fauxqs)',
        w.name,
        `${t.toFixed(2)} s`,
        `${(w.messages / t).toFixed(0)}`,
        mb(bytes / t),
        `${mb(median(rss))} MB`,
        `${(Math.min(...times) / 1000).toFixed(2)}-${(Math.max(...times) / 1000).toFixed(2)} s`,
        perMessage || '-',
        perMessageCalls(syscalls, w.messages),
      ]);
      process.stderr.write(`done: ${rows.at(-1)!.join(' | ')}\n`);
    }
  }
} finally {
  await aws?.stop();
  await dovecot.stop();
}
const header = [
  'store',
  'workload',
  'median time',
  'msg/s',
  'MB/s',
  'peak RSS',
  `spread (${RUNS} runs)`,
  'requests per message',
  'system calls per message (strace -f -c)',
];
console.log(`\n| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
const os = await import('node:os');
console.log(
  `\nNode ${process.version}, ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, Dovecot on loopback, no added latency; 1-minute load average at the end ${os.loadavg()[0]!.toFixed(1)}.`,
);
