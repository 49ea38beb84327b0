/**
 * npm run bench:search [-- --docs 100000] [-- --quick]
 *
 * The archive viewer's figures (not a timed test): indexing rate of metadata documents with their body text,
 * the same through the event log (JSON lines, schema-checked), body text read from raw messages by the
 * project's parser, search latency p50/p95 over a mix of queries on the full index, the load time of a message
 * page and of a search page from the real `mail-ingest serve`, and that process's peak RSS.
 * Targets: >= 2,000 documents/s, search p95 < 50 ms, serve < 150 MB RSS.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buildDocument } from '../../lib/document/document.ts';
import { parseMessage } from '../../lib/parse/parse-message.ts';
import { rawKey } from '../../lib/store/keys.ts';
import { FsRawStore } from '../../lib/store/fs-store.ts';
import { SearchDb, catchUpEventLog, parseSearchQuery, search, upsertDocuments, readBodyText } from '../../lib/search/index.ts';
import { BIN } from '../cli/cli-helpers.ts';
import { MAILBOXES, makeCorpus, rng } from './search-corpus.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const DOCS = Number(args[args.indexOf('--docs') + 1] ?? NaN) || (quick ? 10_000 : 100_000);
const RAW_SAMPLE = quick ? 200 : 1_000;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const fmt = (ms: number) => ms.toFixed(ms < 10 ? 2 : 1);

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mi-search-bench-'));
  const results: Record<string, unknown> = { docs: DOCS, node: process.version };
  try {
    process.stderr.write(`corpus: ${DOCS} documents...\n`);
    const corpus = makeCorpus(DOCS);
    const bodies = new Map(corpus.map((c) => [c.doc.id, c.body]));

    // 1. Documents with their body text, 1,000 per transaction (what a catch-up does).
    const indexPath = path.join(dir, 'data', 'search.sqlite');
    const index = SearchDb.open(indexPath);
    let cpu = process.cpuUsage();
    const cpuMs = (): number => {
      const d = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      return (d.user + d.system) / 1000;
    };
    let t0 = performance.now();
    for (let i = 0; i < corpus.length; i += 1000) {
      const batch = corpus.slice(i, i + 1000).map((c) => c.doc);
      index.transaction(() => upsertDocuments(index, batch, (d) => bodies.get(d.id) ?? null));
    }
    const indexMs = performance.now() - t0;
    results.indexDocsPerSecond = Math.round(DOCS / (indexMs / 1000));
    results.indexDocsPerCpuSecond = Math.round(DOCS / (cpuMs() / 1000));
    process.stderr.write(
      `indexed ${DOCS} documents with bodies in ${(indexMs / 1000).toFixed(1)} s: ${results.indexDocsPerSecond} docs/s (${results.indexDocsPerCpuSecond} per CPU second)\n`,
    );

    // 2. The same documents through the event log (parse and schema-check each line), into a second index.
    const logPath = path.join(dir, 'events.jsonl');
    await writeFile(logPath, corpus.map((c) => `${JSON.stringify(c.doc)}\n`).join(''));
    const logIndex = SearchDb.open(path.join(dir, 'log-index.sqlite'));
    cpuMs();
    t0 = performance.now();
    const fromLog = catchUpEventLog(logIndex, logPath);
    const logMs = performance.now() - t0;
    logIndex.close();
    results.eventLogDocsPerSecond = Math.round(fromLog.written / (logMs / 1000));
    results.eventLogDocsPerCpuSecond = Math.round(fromLog.written / (cpuMs() / 1000));
    process.stderr.write(
      `event log: ${fromLog.written} documents (metadata and snippet) in ${(logMs / 1000).toFixed(1)} s: ${results.eventLogDocsPerSecond} docs/s (${results.eventLogDocsPerCpuSecond} per CPU second)\n`,
    );

    // 3. Body text from raw messages, with the project's bounded parser (the catch-up's second phase).
    const store = new FsRawStore({ dir: path.join(dir, 'data') });
    const sample = corpus.slice(0, RAW_SAMPLE);
    for (const c of sample) {
      const raw = Buffer.from(
        [
          `From: ${c.doc.from[0]!.name} <${c.doc.from[0]!.address}>`,
          `To: ${c.doc.to[0]!.address}`,
          `Subject: =?UTF-8?B?${Buffer.from(c.doc.subject!).toString('base64')}?=`,
          `Date: ${new Date(c.doc.date!).toUTCString()}`,
          `Message-ID: ${c.doc.messageId}`,
          'MIME-Version: 1.0',
          'Content-Type: text/plain; charset=utf-8',
          'Content-Transfer-Encoding: 8bit',
          '',
          c.body,
          '',
        ].join('\r\n'),
      );
      const parsed = await parseMessage(Readable.from([raw]));
      const staged = await store.stage(c.doc.mailbox);
      staged.writable.end(raw);
      await new Promise((r) => staged.writable.once('finish', r));
      const sha = createHash('sha256').update(raw).digest('hex');
      const ref = await staged.commit(rawKey(c.doc.mailbox, new Date(c.doc.ingestedAt), sha), { sha256: sha, size: raw.length });
      const real = buildDocument({
        mailbox: c.doc.mailbox,
        uidl: c.doc.uidl,
        ingestedAt: new Date(c.doc.ingestedAt),
        ref,
        parsed,
        oversized: false,
      });
      await store.putMetadata(real);
      bodies.set(real.id, c.body);
      c.doc = real;
    }
    index.transaction(() =>
      upsertDocuments(
        index,
        sample.map((c) => c.doc),
        (d) => bodies.get(d.id) ?? null,
      ),
    );
    cpuMs();
    t0 = performance.now();
    for (const c of sample) await readBodyText(store, c.doc);
    const bodyMs = performance.now() - t0;
    results.bodyFromRawPerSecond = Math.round(RAW_SAMPLE / (bodyMs / 1000));
    results.bodyFromRawPerCpuSecond = Math.round(RAW_SAMPLE / (cpuMs() / 1000));
    process.stderr.write(
      `body text from ${RAW_SAMPLE} raw messages: ${results.bodyFromRawPerSecond} messages/s (${results.bodyFromRawPerCpuSecond} per CPU second)\n`,
    );

    // 4. Search latency on the full index: a mix of what people type.
    const queries: Array<Record<string, string>> = [];
    const r = rng(7);
    const terms = [
      '見積',
      '見積書',
      '請求書',
      '納期',
      '確認',
      '山田',
      '佐藤 花子',
      'invoice',
      'meeting',
      'shipment',
      'warehouse',
      '.pdf',
      '見積書_4',
      'ref-2s',
      'thursday',
      'user5',
      'お問い合わせ',
      '花',
      'zz-nothing',
      'Müller',
    ];
    for (let i = 0; i < 300; i++) {
      const q: Record<string, string> = { q: terms[Math.floor(r() * terms.length)]! };
      if (i % 4 === 1) q.mailbox = MAILBOXES[i % MAILBOXES.length]!;
      if (i % 5 === 2) {
        q.since = '2025-02-01';
        q.until = '2025-02-20';
      }
      if (i % 7 === 3) q.attachment = 'yes';
      if (i % 11 === 4) q.flag = 'spam';
      if (i % 13 === 5) q.page = '3';
      queries.push(q);
    }
    queries.push({}, { mailbox: 'sales' }, { from: 'user12' }, { to: 'billing@' });
    for (const q of queries.slice(0, 20)) search(index, parseSearchQuery(new URLSearchParams(q))); // warm the page cache
    const times: number[] = [];
    cpuMs();
    for (const q of queries) {
      const s = performance.now();
      search(index, parseSearchQuery(new URLSearchParams(q)));
      times.push(performance.now() - s);
    }
    results.searchP50Ms = Number(fmt(quantile(times, 0.5)));
    results.searchP95Ms = Number(fmt(quantile(times, 0.95)));
    results.searchMaxMs = Number(fmt(Math.max(...times)));
    results.searchCpuMsPerQuery = Number(fmt(cpuMs() / times.length));
    process.stderr.write(
      `search over ${DOCS}: p50 ${fmt(quantile(times, 0.5))} ms, p95 ${fmt(quantile(times, 0.95))} ms, max ${fmt(Math.max(...times))} ms (${times.length} queries)\n`,
    );
    index.close();

    // 5. The real `mail-ingest serve` on this index: page loads and peak RSS.
    const config = path.join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        store: { type: 'fs', dir: './data' },
        mailboxes: MAILBOXES.map((id) => ({ id, host: '127.0.0.1', user: id, password: { env: 'UNUSED' } })),
      }),
    );
    // The CLI bundles itself on first use after a source change: done here, so it is not counted in serve's RSS.
    spawnSync(process.execPath, [BIN, '--help'], { stdio: 'ignore' });
    const child = spawn(process.execPath, [BIN, 'serve', '--config', config, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.resume();
    const urlOf = (): RegExpExecArray | null => /Open (http:\/\/\S+?)\/\?token=(\S+)/.exec(out);
    while (urlOf() === null) await new Promise((res) => setTimeout(res, 50));
    const [, base, token] = urlOf()!;
    const headers = { authorization: `Bearer ${token}` };
    const get = async (p: string): Promise<number> => {
      const s = performance.now();
      const res = await fetch(`${base}${p}`, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
      return performance.now() - s;
    };
    const rssOf = async (): Promise<number> =>
      Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024);
    const rss: Record<string, number> = { started: await rssOf() };
    const messageTimes: number[] = [];
    for (const c of sample.slice(0, 200)) messageTimes.push(await get(`/messages/${c.doc.id}`));
    rss.afterMessagePages = await rssOf();
    const searchPageTimes: number[] = [];
    for (const q of queries.slice(0, 100)) searchPageTimes.push(await get(`/search?${new URLSearchParams(q)}`));
    rss.afterSearchPages = await rssOf();
    await get('/mailboxes');
    rss.afterMailboxes = await rssOf();
    results.serveRssMbByStage = rss;
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
    child.kill('SIGTERM');
    await new Promise((res) => child.on('close', res));
    results.messagePageP50Ms = Number(fmt(quantile(messageTimes, 0.5)));
    results.messagePageP95Ms = Number(fmt(quantile(messageTimes, 0.95)));
    results.searchPageP50Ms = Number(fmt(quantile(searchPageTimes, 0.5)));
    results.searchPageP95Ms = Number(fmt(quantile(searchPageTimes, 0.95)));
    results.servePeakRssMb = Math.round(hwm / 1048576);
    process.stderr.write(
      `serve: message page p50 ${fmt(quantile(messageTimes, 0.5))} ms p95 ${fmt(quantile(messageTimes, 0.95))} ms; search page p50 ${fmt(quantile(searchPageTimes, 0.5))} ms p95 ${fmt(quantile(searchPageTimes, 0.95))} ms; peak RSS ${results.servePeakRssMb} MB\n`,
    );
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(indexPath));
    results.indexFileMb = Math.round(size / 1048576);
    results.loadAverage = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    const targets = {
      docsPerSecond: (results.indexDocsPerSecond as number) >= 2000,
      searchP95: (results.searchP95Ms as number) < 50,
      serveRss: (results.servePeakRssMb as number) < 150,
    };
    process.stdout.write(`${JSON.stringify({ ...results, targetsMet: targets }, null, 2)}\n`);
  } finally {
    if (process.env.KEEP_BENCH_DIR === '1') process.stderr.write(`kept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}

await main();
