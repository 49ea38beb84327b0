import { resolveSecret, type MailboxConfig } from '../../config/index.ts';
import { presetById, presetDifferences, type PresetDifference } from '../../presets/index.ts';
import { resolveCredentials, toMailboxJob } from '../../app/mailbox-job.ts';
import { loadConfig } from '../../config/index.ts';
import { classifyError, type ClassifiedError } from '../../error-codes.ts';
import { selectMailboxes } from '../../app/select-mailboxes.ts';
import { connectPop3, Pop3Error } from '../../pop3/index.ts';
import type { PeerCertificateInfo } from '../../pop3/tls-failure.ts';
import type { TlsInfo } from '../../pop3/types.ts';
import { oauth2Login } from '../../app/oauth2-login.ts';
import { formatDuration, printable, printableFields, table } from '../format.ts';
import { formatBytes } from '../../format-bytes.ts';
import { parseInterval } from '../interval.ts';
import { createLog, parseLogFormat } from '../log.ts';
import { printJsonLine } from './shared.ts';

interface CheckReport {
  mailbox: string;
  ok: boolean;
  tls: TlsInfo | null;
  /** The certificate a failed handshake was given, to compare with what the ISP documents. */
  certificate: PeerCertificateInfo | null;
  auth: string | null;
  capabilities: string[];
  pipelining: boolean;
  expire: number | 'never' | null;
  /** CAPA LOGIN-DELAY (RFC 2449 section 6.8): the fewest seconds the server allows between logins. */
  loginDelay: number | null;
  /** The schedule given with --every is shorter than the LOGIN-DELAY, and the like. */
  warnings: string[];
  messages: number | null;
  bytes: number | null;
  error: ClassifiedError | null;
  /** The preset the mailbox names, and where its settings differ from it. */
  preset: { id: string; known: boolean; differences: PresetDifference[] } | null;
}

export interface CheckOptions {
  readonly config: string;
  readonly mailbox?: string[];
  readonly json?: boolean;
  readonly logFormat?: string;
  /** How often the mailboxes are polled (run --every, cron, the deployment's schedule). */
  readonly every?: string;
}

/** A schedule shorter than the server's LOGIN-DELAY gets most runs refused: say so before it is deployed. */
function scheduleWarning(loginDelay: number | null, everyMs: number | null): string | null {
  if (loginDelay === null || loginDelay === 0 || everyMs === null || everyMs >= loginDelay * 1000) return null;
  return (
    `the server allows one login every ${loginDelay} s (LOGIN-DELAY) but the mailbox is polled every ${formatDuration(everyMs)}: ` +
    `runs would be refused with ELOGINDELAY; poll every ${formatDuration(loginDelay * 1000)} or less often`
  );
}

function comparePreset(m: MailboxConfig): CheckReport['preset'] {
  const preset = presetById(m.preset!);
  if (preset === undefined) return { id: m.preset!, known: false, differences: [] };
  return { id: preset.id, known: true, differences: presetDifferences(preset, m) };
}

/** Connects and logs in to each mailbox, reports what it finds, and changes nothing (STAT only, then QUIT). */
export async function checkCommand(o: CheckOptions): Promise<number> {
  const log = createLog({ format: parseLogFormat(o.logFormat) });
  const everyMs = o.every === undefined ? null : parseInterval(o.every);
  const config = await loadConfig(o.config);
  const reports: CheckReport[] = [];
  for (const m of selectMailboxes(config, o.mailbox)) {
    const report: CheckReport = {
      mailbox: m.id,
      ok: false,
      tls: null,
      certificate: null,
      auth: null,
      capabilities: [],
      pipelining: false,
      expire: null,
      loginDelay: null,
      warnings: [],
      messages: null,
      bytes: null,
      error: null,
      preset: m.preset === undefined ? null : comparePreset(m),
    };
    try {
      const login = oauth2Login(m, { resolve: (ref) => resolveSecret(ref) });
      const job = await toMailboxJob(m, await resolveCredentials(m, (ref) => resolveSecret(ref), login.tokens));
      const client = await (login.connect ?? connectPop3)(job.connect);
      try {
        const stat = await client.stat();
        // Every word here is the server's: escaped, so that neither a terminal nor a `jq -r` acts on its controls.
        Object.assign(report, {
          ok: true,
          tls: printableFields(client.tls),
          auth: client.authMechanism,
          capabilities: [...client.capabilities.keys()].map(printable),
          pipelining: client.pipelining,
          expire: client.expire,
          loginDelay: client.loginDelay,
          messages: stat.count,
          bytes: stat.size,
        });
      } finally {
        await client.quit().catch(() => undefined);
      }
    } catch (err) {
      report.error = classifyError(err);
      if (err instanceof Pop3Error) {
        report.certificate = printableFields(err.certificate);
        report.loginDelay = err.retryAfterSeconds ?? null;
      }
    }
    const warning = scheduleWarning(report.loginDelay, everyMs);
    if (warning !== null) report.warnings.push(warning);
    reports.push(report);
  }
  if (o.json) {
    printJsonLine({ type: 'check', ok: reports.every((r) => r.ok), checkedAt: new Date().toISOString(), mailboxes: reports });
  } else {
    process.stdout.write(
      `${table(
        ['mailbox', 'result', 'tls', 'certificate', 'auth', 'messages', 'size', 'login delay', 'capabilities'],
        reports.map((r) => [
          r.mailbox,
          r.ok ? 'ok' : `FAILED (${r.error?.class})`,
          r.tls?.protocol ?? (r.ok ? 'none' : '-'),
          r.tls
            ? `${r.tls.subject ?? '?'} (issuer ${r.tls.issuer ?? '?'}, until ${r.tls.validTo ?? '?'})`
            : r.certificate
              ? `NOT ACCEPTED: ${r.certificate.subject ?? '?'} (issuer ${r.certificate.issuer ?? '?'})`
              : '-',
          r.auth ?? '-',
          r.messages ?? '-',
          r.bytes === null ? '-' : formatBytes(r.bytes),
          r.loginDelay === null ? '-' : `${r.loginDelay} s`,
          r.capabilities.join(' '),
        ]),
      )}\n`,
    );
  }
  for (const r of reports) {
    if (r.preset !== null && !r.preset.known) {
      log.line('warn', `"preset": "${r.preset.id}" is not a preset of this version (mail-ingest init --list-presets)`, {
        mailbox: r.mailbox,
      });
    } else if (r.preset !== null && r.preset.differences.length > 0) {
      const p = presetById(r.preset.id)!;
      const what = r.preset.differences.map((d) => `${d.field} ${d.value} where the preset says ${d.preset}`).join('; ');
      log.line('warn', `differs from preset "${p.id}" (${p.name}): ${what}`, {
        mailbox: r.mailbox,
        ...(log.format === 'json' ? { differences: r.preset.differences } : {}),
      });
    }
    for (const w of r.warnings) log.line('warn', w, { mailbox: r.mailbox });
    if (r.error) log.failure(r.mailbox, r.error, 'check failed');
  }
  return reports.every((r) => r.ok) ? 0 : 1;
}
