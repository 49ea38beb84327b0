/**
 * POP3 client benchmark (npm run bench:pop3): against a local Dovecot, 2,000 messages of about 5 KB and one
 * 200 MB message; messages/s, MB/s and peak RSS, with pipelining on and off, direct and through a proxy adding
 * 50 ms each way (100 ms RTT). Each scenario runs in a child process so its peak RSS is its own.
 *
 * Options: --small N (default 2000), --big-mb N (default 200), --lockstep-rtt-limit N (messages fetched in
 * lock-step through the delayed route, default 200: 2,000 would take over 200 s by construction).
 * Peak RSS is the child's resident set sampled every 5 ms (the whole process: Node, TLS, the client).
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connectPop3 } from '../../lib/pop3/index.ts';
import { startDelayProxy } from '../helpers/delay-proxy.ts';
import { startDovecot } from '../helpers/dovecot.ts';

interface Scenario {
  readonly name: string;
  readonly user: string;
  readonly port: number;
  readonly pipelining: boolean;
  readonly limit: number;
  readonly window?: number;
  readonly ca: string;
  readonly expected: string[];
}

interface Result {
  readonly name: string;
  readonly messages: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly maxRssMb: number;
  readonly ok: boolean;
}

const self = fileURLToPath(import.meta.url);

async function runChild(s: Scenario): Promise<Result> {
  // Peak RSS is sampled: getrusage's maxRSS survives fork+exec on Linux, so a child would report the parent's
  // peak (the parent held the 200 MB message while seeding). The child's own maxRSS is printed beside it when lower.
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 5);
  const started = performance.now();
  const client = await connectPop3({
    host: '127.0.0.1',
    port: s.port,
    ca: s.ca,
    user: s.user,
    password: `pw-${s.user}`,
    pipelining: s.pipelining,
    window: s.window,
  });
  const uidl = await client.uidl();
  const count = Math.min(uidl.length, s.limit);
  // All commands issued at once: the client keeps `window` in flight (or one, in lock-step).
  const pending = Array.from({ length: count }, (_, i) => client.retr(i + 1));
  let bytes = 0;
  let ok = true;
  for (const [i, p] of pending.entries()) {
    const hash = createHash('sha256');
    for await (const chunk of (await p).stream) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    if (hash.digest('hex') !== s.expected[i]) ok = false;
  }
  await client.quit();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return { name: s.name, messages: count, bytes, seconds, maxRssMb: peakRss / 1024 / 1024, ok };
}

function inChild(s: Scenario): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(self, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve(m as Result));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${s.name}: child exited with ${code}`));
    });
    child.send(s);
  });
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** ~5 KB of mail with CRLF line ends, so the bytes Dovecot serves are the bytes seeded. */
function smallMessage(i: number): Buffer {
  const lines = [`From: sender${i}@example.com`, 'To: archive@example.com', `Subject: bench ${i}`, `Message-ID: <${i}@bench>`, ''];
  for (let l = 0; lines.join('\r\n').length < 5000; l++)
    lines.push(`${l % 10 === 0 ? '.' : ''}line ${l} of message ${i}: the quick brown fox jumps over the lazy dog`);
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

function bigMessage(mb: number): Buffer {
  const line = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\r\n');
  const head = Buffer.from('Subject: big\r\n\r\n');
  const buf = Buffer.allocUnsafe(head.length + Math.ceil((mb * 1024 * 1024) / line.length) * line.length);
  head.copy(buf);
  for (let o = head.length; o < buf.length; o += line.length) line.copy(buf, o);
  return buf;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function main(): Promise<void> {
  const smallCount = arg('--small', 2000);
  const bigMb = arg('--big-mb', 200);
  const lockstepLimit = arg('--lockstep-rtt-limit', 200);
  const users = ['small', 'big'].map((u) => ({ user: u, password: `pw-${u}` }));
  const dovecot = await startDovecot({ users });
  const proxies = await Promise.all(
    [dovecot.tlsPort].map((targetPort) => startDelayProxy({ targetHost: '127.0.0.1', targetPort, oneWayDelayMs: 50 })),
  );
  try {
    const small = Array.from({ length: smallCount }, (_, i) => smallMessage(i));
    await dovecot.seed('small', small);
    const smallHashes = small.map(sha);
    let big: Buffer | null = bigMessage(bigMb);
    await dovecot.seed('big', [big]);
    const bigHashes = [sha(big)];
    big = null;
    // Dovecot indexes a mailbox at its first login: do it before timing.
    for (const user of ['small', 'big'])
      await (await connectPop3({ host: '127.0.0.1', port: dovecot.tlsPort, ca: dovecot.caPem, user, password: `pw-${user}` })).quit();

    const ca = dovecot.caPem;
    const direct = dovecot.tlsPort;
    const delayed = proxies[0]!.port;
    const scenarios: Scenario[] = [
      {
        name: `${smallCount} x 5 KB, direct, pipelining`,
        user: 'small',
        port: direct,
        pipelining: true,
        limit: smallCount,
        ca,
        expected: smallHashes,
      },
      {
        name: `${smallCount} x 5 KB, direct, lock-step`,
        user: 'small',
        port: direct,
        pipelining: false,
        limit: smallCount,
        ca,
        expected: smallHashes,
      },
      {
        name: `${smallCount} x 5 KB, 100 ms RTT, pipelining`,
        user: 'small',
        port: delayed,
        pipelining: true,
        limit: smallCount,
        ca,
        expected: smallHashes,
      },
      {
        name: `${smallCount} x 5 KB, 100 ms RTT, window 256`,
        user: 'small',
        port: delayed,
        pipelining: true,
        limit: smallCount,
        window: 256,
        ca,
        expected: smallHashes,
      },
      {
        name: `${Math.min(lockstepLimit, smallCount)} x 5 KB, 100 ms RTT, lock-step`,
        user: 'small',
        port: delayed,
        pipelining: false,
        limit: lockstepLimit,
        ca,
        expected: smallHashes,
      },
      { name: `1 x ${bigMb} MB, direct, pipelining`, user: 'big', port: direct, pipelining: true, limit: 1, ca, expected: bigHashes },
      { name: `1 x ${bigMb} MB, direct, lock-step`, user: 'big', port: direct, pipelining: false, limit: 1, ca, expected: bigHashes },
      { name: `1 x ${bigMb} MB, 100 ms RTT, pipelining`, user: 'big', port: delayed, pipelining: true, limit: 1, ca, expected: bigHashes },
    ];
    console.log(`node ${process.version}, Dovecot on 127.0.0.1 (TLS), each scenario in its own process\n`);
    console.log(
      'scenario'.padEnd(42),
      'msgs'.padStart(6),
      'MB'.padStart(8),
      'seconds'.padStart(9),
      'msgs/s'.padStart(9),
      'MB/s'.padStart(8),
      'peak RSS MB'.padStart(12),
      ' bytes ok',
    );
    for (const s of scenarios) {
      const r = await inChild(s);
      const mb = r.bytes / 1024 / 1024;
      console.log(
        r.name.padEnd(42),
        String(r.messages).padStart(6),
        mb.toFixed(1).padStart(8),
        r.seconds.toFixed(2).padStart(9),
        (r.messages / r.seconds).toFixed(0).padStart(9),
        (mb / r.seconds).toFixed(1).padStart(8),
        r.maxRssMb.toFixed(0).padStart(12),
        r.ok ? ' yes' : ' NO',
      );
    }
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    await dovecot.stop();
  }
}

if (process.argv.includes('--child')) {
  process.once('message', (s) => {
    runChild(s as Scenario).then(
      (r) => {
        process.send!(r);
        process.disconnect();
      },
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
} else {
  await main();
}
