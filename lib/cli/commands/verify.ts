import { selectMailboxes } from '../../app/select-mailboxes.ts';
import { verifyMailbox, type MailboxAudit } from '../../store/verify-archive.ts';
import { formatDuration, table } from '../format.ts';
import { formatBytes } from '../../format-bytes.ts';
import { openConfig, printJsonLine } from './shared.ts';

/** Problems printed per mailbox in the plain output (all of them are in --json). */
const SHOWN = 50;

/**
 * Re-reads the archive of each mailbox and checks it against the state and the metadata documents: every raw
 * message is hashed from the store, not trusted from the write. For audits; `run` does not need it (the hash taken
 * while writing is its check). Exit 0 when everything matches, 1 when anything does not.
 */
export async function verifyCommand(o: { config: string; mailbox?: string[]; json?: boolean }): Promise<number> {
  const { config, adapters } = await openConfig(o.config);
  const mailboxes = selectMailboxes(config, o.mailbox);
  const tty = process.stderr.isTTY && !o.json;
  const t0 = Date.now();
  const audits: MailboxAudit[] = [];
  try {
    for (const m of mailboxes) {
      audits.push(
        await verifyMailbox(
          adapters.store,
          adapters.state,
          m.id,
          tty
            ? (n) => {
                if (n % 100 === 0) process.stderr.write(`\r ${m.id}: ${n} documents`);
              }
            : undefined,
        ),
      );
      if (tty) process.stderr.write('\r\x1b[K');
    }
  } finally {
    await adapters.publisher.close?.();
  }
  const ok = audits.every((a) => a.problems.length === 0);
  if (o.json) {
    printJsonLine({ ok, durationMs: Date.now() - t0, mailboxes: audits });
  } else {
    process.stdout.write(
      `${table(
        ['mailbox', 'documents', 'ingested UIDLs', 'raw messages read', 'bytes', 'problems'],
        audits.map((a) => [a.mailbox, a.documents, a.stateEntries, a.rawChecked, formatBytes(a.bytes), a.problems.length]),
      )}\n`,
    );
    for (const a of audits) {
      for (const p of a.problems.slice(0, SHOWN))
        process.stdout.write(
          `${a.mailbox}: ${p.kind} ${p.key}${p.id === undefined ? '' : ` (document ${p.id.slice(0, 12)})`}: ${p.detail}\n`,
        );
      if (a.problems.length > SHOWN)
        process.stdout.write(`${a.mailbox}: ... and ${a.problems.length - SHOWN} more (all of them with --json)\n`);
    }
    process.stdout.write(
      ok
        ? `verified in ${formatDuration(Date.now() - t0)}: the archive matches the state and the documents\n`
        : 'the archive does not match: nothing was changed; see the lines above (kinds: README, "mail-ingest verify")\n',
    );
  }
  return ok ? 0 : 1;
}
