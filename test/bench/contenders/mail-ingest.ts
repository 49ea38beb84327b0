import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Contender, Delivered } from './contender.ts';
import { countFiles, listFiles, digestFiles } from '../bench-files.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'lib/cli/bin.mjs');

/** The project itself, full pipeline (raw store, parse, publish) with the fs store, run as its CLI. */
export const mailIngest: Contender = {
  id: 'mail-ingest',
  label: 'mail-ingest',
  unavailable: () => (existsSync(BIN) ? null : 'mail-ingest: not available yet (lib/cli/bin.mjs does not exist)'),

  async prepare(mb, work) {
    const config = {
      store: { type: 'fs', dir: join(work, 'store') },
      mailboxes: [
        {
          id: 'bench',
          host: mb.host,
          port: mb.port,
          tls: 'implicit',
          ca: mb.caFile,
          servername: mb.servername,
          user: mb.user,
          password: mb.password,
          retention: 'keep',
          // The default limit (100 MiB) would, rightly, keep only the headers of the 200 MB workload.
          maxMessageBytes: 1024 * 1024 * 1024,
        },
      ],
    };
    const file = join(work, 'config.json');
    await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
    // Untimed: make sure the CLI's bundle is built (the launcher rebuilds it whenever a source changed), so
    // the timed run starts as a user's second run does.
    execFileSync(process.execPath, [BIN, '--help'], { cwd: ROOT, stdio: 'ignore' });
    return { command: process.execPath, args: [BIN, 'run', '--config', file, '--json'], cwd: ROOT, unprivileged: false };
  },

  count: (work) => countFiles(join(work, 'store', 'raw'), (n) => n.endsWith('.eml')),

  async collect(work): Promise<Delivered> {
    // <dir>/raw/<mailbox>/<yyyy>/<mm>/<dd>/<sha256>.eml: the name is itself a claim to check.
    const files = await listFiles(join(work, 'store', 'raw'), (n) => n.endsWith('.eml'));
    const digests = await digestFiles(files);
    const problems: string[] = [];
    files.forEach((f, i) => {
      if (basename(f, '.eml') !== digests[i])
        problems.push(`${basename(f)}: content sha256 ${digests[i]!.slice(0, 12)}… differs from its name`);
    });
    return { form: 'crlf', digests, problems };
  },
};
