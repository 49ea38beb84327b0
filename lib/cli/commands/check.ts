import { resolveSecret } from '../../config/index.ts';
import { resolveCredentials, toMailboxJob } from '../../app/index.ts';
import { loadConfig } from '../../config/index.ts';
import { classifyError } from '../../ingest/errors.ts';
import { selectMailboxes } from '../../app/run-all.ts';
import { connectPop3 } from '../../pop3/index.ts';
import { formatBytes, table } from '../format.ts';
import { printJson } from './shared.ts';

interface CheckReport {
  mailbox: string;
  ok: boolean;
  tls: { protocol: string | null; cipher: string | null; subject: string | null; issuer: string | null; validTo: string | null } | null;
  auth: string | null;
  capabilities: string[];
  pipelining: boolean;
  expire: number | 'never' | null;
  messages: number | null;
  bytes: number | null;
  error: ReturnType<typeof classifyError> | null;
}

export async function checkCommand(o: { config: string; mailbox?: string[]; json?: boolean }): Promise<number> {
  const config = await loadConfig(o.config);
  const reports: CheckReport[] = [];
  for (const m of selectMailboxes(config, o.mailbox)) {
    const report: CheckReport = { mailbox: m.id, ok: false, tls: null, auth: null, capabilities: [], pipelining: false, expire: null, messages: null, bytes: null, error: null };
    try {
      const job = await toMailboxJob(m, await resolveCredentials(m, (ref) => resolveSecret(ref)), config.defaults);
      const client = await connectPop3(job.connect);
      try {
        const stat = await client.stat();
        Object.assign(report, {
          ok: true, tls: client.tls, auth: client.authMechanism, capabilities: [...client.capabilities.keys()],
          pipelining: client.pipelining, expire: client.expire, messages: stat.count, bytes: stat.size,
        });
      } finally {
        await client.quit().catch(() => undefined);
      }
    } catch (err) {
      report.error = classifyError(err);
    }
    reports.push(report);
  }
  if (o.json) {
    printJson({ ok: reports.every((r) => r.ok), mailboxes: reports });
  } else {
    process.stdout.write(`${table(['mailbox', 'result', 'tls', 'certificate', 'auth', 'messages', 'size', 'capabilities'], reports.map((r) => [
      r.mailbox, r.ok ? 'ok' : `FAILED (${r.error?.class})`, r.tls?.protocol ?? (r.ok ? 'none' : '-'),
      r.tls ? `${r.tls.subject ?? '?'} (issuer ${r.tls.issuer ?? '?'}, until ${r.tls.validTo ?? '?'})` : '-',
      r.auth ?? '-', r.messages ?? '-', r.bytes === null ? '-' : formatBytes(r.bytes), r.capabilities.join(' '),
    ]))}\n`);
    for (const r of reports) if (r.error) process.stderr.write(`${r.mailbox}: ${r.error.class} error ${r.error.code}: ${r.error.message}\n`);
  }
  return reports.every((r) => r.ok) ? 0 : 1;
}
