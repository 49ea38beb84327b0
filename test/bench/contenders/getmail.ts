import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Contender } from './contender.ts';
import { countFiles, crlfToLf, digestFiles, listFiles } from '../bench-files.ts';

const BIN = '/usr/bin/getmail';

/** getmail6 into a Maildir, with its own added headers turned off; it delivers LF line endings. */
export const getmail: Contender = {
  id: 'getmail6',
  label: 'getmail6',
  unavailable: () => (existsSync(BIN) ? null : 'getmail6: not installed (apt-get install getmail6)'),

  async prepare(mb, work) {
    const maildir = join(work, 'Maildir');
    for (const d of ['', 'cur', 'new', 'tmp']) await mkdir(join(maildir, d), { recursive: true });
    const gm = join(work, 'getmail');
    await mkdir(gm);
    await mkdir(join(work, 'home'));
    const rc = join(gm, 'getmailrc');
    await writeFile(
      rc,
      [
        '[retriever]',
        'type = SimplePOP3SSLRetriever',
        `server = ${mb.host}`,
        `port = ${mb.port}`,
        `username = ${mb.user}`,
        `password = ${mb.password}`,
        `ca_certs = ${mb.caFile}`,
        `ssl_cert_hostname = ${mb.servername}`,
        '',
        '[destination]',
        'type = Maildir',
        `path = ${maildir}/`,
        '',
        '[options]',
        'delete = false',
        'read_all = true',
        'received = false',
        'delivered_to = false',
        'message_log_syslog = false',
        'verbose = 0',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return { command: BIN, args: [`--getmaildir=${gm}`, `--rcfile=${rc}`], unprivileged: true };
  },

  count: (work) => countFiles(join(work, 'Maildir', 'new')),

  async collect(work) {
    return { form: 'lf', digests: await digestFiles(await listFiles(join(work, 'Maildir', 'new')), crlfToLf), problems: [] };
  },
};
