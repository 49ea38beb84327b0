import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Contender } from './contender.ts';
import { countFiles, listFiles, digestFiles } from '../bench-files.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const SCRIPT = join(import.meta.dirname, 'node-pop3-fetch.ts');

/** Library baseline: node-pop3 (lock-step, one RETR at a time) saving each message to a file. */
export const nodePop3: Contender = {
  id: 'node-pop3',
  label: 'node-pop3 (library)',
  unavailable: () => (existsSync(join(ROOT, 'node_modules/node-pop3/package.json')) ? null : 'node-pop3: npm package not installed'),
  async prepare(mb, work) {
    return {
      command: process.execPath,
      args: [SCRIPT, JSON.stringify({ ...mb, out: join(work, 'mail') })],
      cwd: ROOT,
      unprivileged: false,
    };
  },
  count: (work) => countFiles(join(work, 'mail')),
  async collect(work) {
    return { form: 'crlf', digests: await digestFiles(await listFiles(join(work, 'mail'))), problems: [] };
  },
};
