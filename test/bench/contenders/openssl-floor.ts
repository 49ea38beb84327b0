import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Contender } from './contender.ts';
import { sha256, unstuff } from '../bench-files.ts';

/**
 * The floor for one large message: `openssl s_client` reading RETR 1 straight into a file, no parsing, no
 * storing logic. Commands are sent at once (Dovecot accepts pipelined commands); -quiet implies -ign_eof,
 * so it reads until the server closes after QUIT.
 */
export const opensslFloor: Contender = {
  id: 'openssl',
  label: 'openssl s_client (raw read, floor)',
  unavailable: () => (existsSync('/usr/bin/openssl') ? null : 'openssl: not installed'),
  appliesTo: (workload) => workload === 'large',

  async prepare(mb, work) {
    const cmds = join(work, 'commands.txt');
    await writeFile(cmds, `USER ${mb.user}\r\nPASS ${mb.password}\r\nRETR 1\r\nQUIT\r\n`, { mode: 0o600 });
    const script =
      `exec openssl s_client -quiet -connect ${mb.host}:${mb.port} -servername ${mb.servername} ` +
      `-CAfile ${mb.caFile} -verify_return_error -verify_hostname ${mb.servername} < ${cmds} > ${join(work, 'out.bin')}`;
    return { command: '/bin/sh', args: ['-c', script], unprivileged: false };
  },

  async count(work) {
    return existsSync(join(work, 'out.bin')) ? 1 : 0;
  },

  async collect(work) {
    const problems: string[] = [];
    let raw: Buffer;
    try {
      raw = await readFile(join(work, 'out.bin'));
    } catch {
      return { form: 'crlf', digests: [], problems: ['no output'] };
    }
    // greeting, USER, PASS, RETR status: the body starts after the fourth status line.
    let at = 0;
    for (let i = 0; i < 4; i++) {
      const eol = raw.indexOf('\r\n', at);
      if (eol < 0 || raw[at] !== 0x2b /* + */) return { form: 'crlf', digests: [], problems: [`status line ${i + 1} missing or not +OK`] };
      at = eol + 2;
    }
    const end = raw.indexOf('\r\n.\r\n', Math.max(0, raw.length - 128));
    if (end < 0) return { form: 'crlf', digests: [], problems: ['no end of message'] };
    const body = unstuff(raw.subarray(at, end + 2));
    return { form: 'crlf', digests: [sha256(body)], problems };
  },
};
