import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig } from '../../config/index.ts';
import { createAdapters } from '../../app/adapters.ts';
import type { MetadataDocument } from '../../document/metadata-schema.ts';
import { runAll } from '../../app/run-all.ts';
import { demoMessages } from '../demo/demo-messages.ts';
import { demoServerCredentials, startDemoServer } from '../demo/pop3-server.ts';
import { summaryError, summaryTable, table } from '../format.ts';
import { createConsole, pipelineLog } from '../log.ts';
import { DEMO_CONFIG_FILE, DEMO_PASSWORD, DEMO_USER, demoConfig } from '../demo/demo-config.ts';

function flagsOf(doc: MetadataDocument): string {
  const f = Object.entries(doc.flags)
    .filter(([, v]) => v)
    .map(([k]) => k);
  if (doc.parseError !== null) f.push('parseError');
  return f.join(',') || '-';
}

async function countFiles(dir: string, match: (name: string) => boolean): Promise<number> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile() && match(e.name)).length;
  } catch {
    return 0;
  }
}

async function processorSummary(dir: string): Promise<string> {
  const p = path.join(dir, 'processors');
  const tickets = await countFiles(path.join(p, 'tickets'), (n) => /^T-.*\.json$/.test(n));
  const attachments = await countFiles(path.join(p, 'attachments', 'sha256'), () => true);
  const rows = await countFiles(path.join(p, 'index'), (n) => n.endsWith('.json'));
  return `${tickets} ticket threads, ${attachments} attachments extracted, ${rows} index rows (under ${p})`;
}

/** The whole pipeline on loopback: a POP3S server with a sample mailbox, the fs store and the local event log. */
export async function demoCommand(o: { dir: string }): Promise<number> {
  const dir = path.resolve(o.dir);
  const { key, cert } = await demoServerCredentials();
  const server = await startDemoServer({ key, cert, user: DEMO_USER, password: DEMO_PASSWORD, messages: demoMessages() });
  try {
    const raw = demoConfig(dir, server.port);
    const config = parseConfig(raw, { baseDir: process.cwd() });
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, DEMO_CONFIG_FILE), `${JSON.stringify(raw, null, 2)}\n`);
    const adapters = await createAdapters(config);
    const before = new Set<string>();
    for await (const d of adapters.store.listMetadata({ mailbox: 'demo' })) before.add(d.id);

    process.stdout.write(
      `mail-ingest demo: a POP3S server on 127.0.0.1:${server.port} (TLS, certificate checked against the demo CA) with ${server.messages.length} messages\n\n`,
    );
    const { log, progress } = createConsole('text', { progress: true });
    const summaries = await runAll({ config, adapters, onProgress: (e) => progress.update(e), log: pipelineLog(log, false) });
    progress.stop();
    const summary = summaries[0];
    if (summary === undefined) throw new Error('the demo config has no mailbox');
    process.stdout.write(`${summaryTable([summary])}\n\n`);
    if (!summary.ok) {
      if (!log.reported(summary.mailbox, summaryError(summary))) log.failure(summary.mailbox, summaryError(summary), 'the demo run failed');
      return 1;
    }
    const docs: MetadataDocument[] = [];
    for await (const d of adapters.store.listMetadata({ mailbox: 'demo' })) docs.push(d);
    docs.sort((a, b) => (a.date ?? '').localeCompare(b.date ?? ''));
    process.stdout.write(
      `${table(
        ['subject (as a mail client shows it)', 'from', 'attachments', 'flags'],
        docs.map((d) => [
          (d.subject ?? '(none)').slice(0, 48),
          d.from[0]?.address ?? '-',
          d.attachments.map((a) => a.filename ?? a.contentType).join(', ') || '-',
          flagsOf(d),
        ]),
      )}\n\n`,
    );
    const fresh = docs.filter((d) => !before.has(d.id)).length;
    process.stdout.write(
      [
        fresh === 0
          ? 'Nothing new this time: every message was already ingested (the state remembers UIDLs).'
          : `${fresh} messages ingested.`,
        `Raw messages, byte for byte:  ${path.join(dir, 'raw', 'demo')}/<yyyy>/<mm>/<dd>/<sha256>.eml (their metadata documents beside them, docs-*.jsonl)`,
        `Event log (the local queue):  ${path.join(dir, 'events.jsonl')}`,
        `Processors:                   ${await processorSummary(dir)}`,
        `State by UIDL:                ${path.join(dir, 'state', 'demo.json')}`,
        `Next: mail-ingest status --config ${path.relative(process.cwd(), path.join(dir, DEMO_CONFIG_FILE))}`,
        'Or keep the server up and try run, check, status and --every on it: mail-ingest demo --serve',
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await server.close();
  }
}
