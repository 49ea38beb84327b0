import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Contender } from './contender.ts';
import { countFiles, crlfToLf, digestFiles, listFiles } from '../bench-files.ts';

const BIN = '/usr/bin/fetchmail';

/**
 * fetchmail adds one Received header for its own hop (after any Return-Path, which it puts first) and delivers
 * LF line endings: take that header off, then the rest must be exactly the stored (LF) message.
 */
function undoFetchmail(b: Buffer, problems: string[], file: string): Buffer {
  const s = crlfToLf(b).toString('latin1');
  const headerEnd = s.indexOf('\n\n');
  const m = /(^|\n)(Received: [^\n]*\n(?:[ \t][^\n]*\n)*)/g;
  for (let hit = m.exec(s); hit && (headerEnd < 0 || hit.index < headerEnd); hit = m.exec(s)) {
    if (hit[2]!.includes('(fetchmail-')) {
      const start = hit.index + hit[1]!.length;
      return Buffer.from(s.slice(0, start) + s.slice(start + hit[2]!.length), 'latin1');
    }
  }
  problems.push(`${file}: no Received header of fetchmail's own in the header`);
  return Buffer.from(s, 'latin1');
}

export const fetchmail: Contender = {
  id: 'fetchmail',
  label: 'fetchmail 6.4',
  unavailable: () => (existsSync(BIN) ? null : 'fetchmail: not installed (apt-get install fetchmail)'),

  async prepare(mb, work) {
    const mail = join(work, 'mail');
    const home = join(work, 'home');
    await mkdir(mail);
    await mkdir(home);
    // One file per message; $$ (the delivering shell's pid) is unique among live processes.
    const mda = join(work, 'mda.sh');
    await writeFile(mda, `#!/bin/sh\nexec cat > "${mail}/msg.$$.$(date +%s%N)"\n`, { mode: 0o755 });
    const rc = join(work, 'fetchmailrc');
    await writeFile(
      rc,
      [
        'set no bouncemail',
        'set no syslog',
        `poll ${mb.host} service ${mb.port} protocol POP3 uidl`,
        `  user "${mb.user}" there with password "${mb.password}" is "bench" here`,
        // sslcommonname: fetchmail does not match IP subjectAltNames, so check the name instead.
        `  ssl sslcertck sslcertfile "${mb.caFile}" sslcommonname "${mb.servername}"`,
        '  keep fetchall no rewrite',
        `  mda "${mda}"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return {
      command: BIN,
      args: ['-f', rc, '--nodetach', '--nosyslog'],
      env: { FETCHMAILHOME: home },
      unprivileged: true,
    };
  },

  count: (work) => countFiles(join(work, 'mail')),

  async collect(work) {
    const problems: string[] = [];
    const digests = await digestFiles(await listFiles(join(work, 'mail')), (b, f) => undoFetchmail(b, problems, f));
    return { form: 'lf', digests, problems };
  },
};
