/**
 * npm run bench:parse [-- --rounds N]
 * The parser alone (lib/parse/parse-message.ts, in this thread): the benchmark's 2,000 small messages (about 5 KB,
 * one in four Japanese) parsed one after another as the pipeline hands them over (whole, as Buffers), several
 * rounds, the first one a warm-up. Prints microseconds of wall and CPU time per message and the collections V8
 * ran. A script that prints figures, not a test.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseMessage } from '../../lib/parse/parse-message.ts';
import { toCrlf } from '../helpers/dovecot.ts';
import { WORKLOADS } from './bench-workloads.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '4' } } });
const rounds = Math.max(2, Number(values.rounds));
const workload = WORKLOADS.small!(1);
const messages = Array.from({ length: workload.count }, (_, i) => toCrlf(workload.make(i)));

const gc = { scavenge: 0, markCompact: 0, ms: 0 };
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === 1) gc.scavenge++;
    else if (kind === 4) gc.markCompact++;
    gc.ms += e.duration;
  }
});

const rows: Array<{ wall: number; cpu: number }> = [];
for (let round = 0; round < rounds; round++) {
  if (round === 1) observer.observe({ entryTypes: ['gc'] });
  const wall0 = performance.now();
  const cpu0 = process.threadCpuUsage();
  for (const m of messages) await parseMessage(m);
  const cpu = process.threadCpuUsage(cpu0);
  rows.push({ wall: performance.now() - wall0, cpu: (cpu.user + cpu.system) / 1000 });
}
observer.disconnect();
const measured = rows.slice(1);
const per = (ms: number) => ((ms / messages.length) * 1000).toFixed(0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`parse: ${messages.length} messages of ~5 KB, ${measured.length} measured rounds after a warm-up`);
for (const [i, r] of measured.entries()) console.log(`  round ${i + 1}: ${per(r.wall)} us wall, ${per(r.cpu)} us CPU per message`);
console.log(
  `median: ${per(median(measured.map((r) => r.wall)))} us wall, ${per(median(measured.map((r) => r.cpu)))} us CPU per message (this thread)`,
);
console.log(`collections over the measured rounds: ${gc.scavenge} scavenges, ${gc.markCompact} mark-compacts, ${gc.ms.toFixed(0)} ms`);
