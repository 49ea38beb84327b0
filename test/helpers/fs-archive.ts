import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { LocalPublisher } from '../../lib/publish/local-publisher.ts';
import { FsRawStore } from '../../lib/store/fs-store.ts';
import { FsStateStore } from '../../lib/store/fs-state.ts';
import { JOB_DEFAULTS } from './job.ts';
import type { MemoryMaildrop } from './memory-pop3.ts';

/** Ingests the `stored` messages of `drop` into an fs store at `dir` (mailbox "support", event log beside it). */
export async function ingestFsArchive(dir: string, drop: MemoryMaildrop, stored: number): Promise<FsRawStore> {
  const store = new FsRawStore({ dir });
  const summary = await runMailbox({
    job: { ...JOB_DEFAULTS, id: 'support', connect: { host: '127.0.0.1', user: 'u', password: 'p' } },
    store,
    state: new FsStateStore({ dir }),
    publisher: new LocalPublisher({ dir }),
    connect: drop.connect,
  });
  assert.equal(summary.stored, stored);
  return store;
}

/** A config for the CLI over the fs store at `dir`, with mailbox "support" (never connected to): its path. */
export async function writeFsConfig(dir: string): Promise<string> {
  const config = join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      store: { type: 'fs', dir },
      mailboxes: [{ id: 'support', host: '127.0.0.1', user: 'u', password: 'p', tls: 'implicit' }],
    }),
  );
  return config;
}
