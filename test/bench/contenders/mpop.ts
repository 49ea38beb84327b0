import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Contender } from './contender.ts';
import { countFiles, crlfToLf, digestFiles, listFiles } from '../bench-files.ts';

const BIN = '/usr/bin/mpop';

/**
 * mpop: a C POP3 client with PIPELINING, UIDL state in a file and Maildir delivery with one fsync per message;
 * the fastest peer. Its own Received header is turned off; it delivers LF line endings, as the Maildir holds them.
 */
export const mpop: Contender = {
  id: 'mpop',
  label: 'mpop 1.4',
  unavailable: () => (existsSync(BIN) ? null : 'mpop: not installed (apt-get install mpop)'),

  async prepare(mb, work) {
    const maildir = join(work, 'Maildir');
    for (const d of ['cur', 'new', 'tmp']) await mkdir(join(maildir, d), { recursive: true });
    await mkdir(join(work, 'home'));
    const rc = join(work, 'mpoprc');
    await writeFile(
      rc,
      [
        'defaults',
        'tls on',
        'tls_starttls off',
        `tls_trust_file ${mb.caFile}`,
        // The proxy and Dovecot listen on 127.0.0.1; the certificate is checked against the server name.
        `tls_host_override ${mb.servername}`,
        'keep on',
        'only_new on',
        'received_header off',
        'pipelining auto',
        'account default',
        `host ${mb.host}`,
        `port ${mb.port}`,
        `user ${mb.user}`,
        `password ${mb.password}`,
        `uidls_file ${join(work, 'uidls')}`,
        `delivery maildir ${maildir}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return { command: BIN, args: ['-C', rc, '-q', 'default'], unprivileged: true };
  },

  count: (work) => countFiles(join(work, 'Maildir', 'new')),

  async collect(work) {
    return { form: 'lf', digests: await digestFiles(await listFiles(join(work, 'Maildir', 'new')), crlfToLf), problems: [] };
  },
};
