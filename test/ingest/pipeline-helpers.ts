import type { MailboxJob, RunMailboxOptions } from '../../lib/ingest/pipeline-types.ts';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { MemoryPublisher, MemoryRawStore, MemoryStateStore } from '../helpers/memory-adapters.ts';
import { MemoryMaildrop, sampleMessage } from '../helpers/memory-pop3.ts';
import { JOB_DEFAULTS } from '../helpers/job.ts';

export interface World {
  readonly drop: MemoryMaildrop;
  readonly store: MemoryRawStore;
  readonly state: MemoryStateStore;
  readonly publisher: MemoryPublisher;
  run(job?: Partial<MailboxJob>, extra?: Partial<RunMailboxOptions>): ReturnType<typeof runMailbox>;
}

export function world(messages = 0, options: ConstructorParameters<typeof MemoryMaildrop>[0] = {}): World {
  const drop = new MemoryMaildrop(options);
  for (let i = 1; i <= messages; i++) drop.add(`uid-${i}`, sampleMessage(i));
  const store = new MemoryRawStore();
  const state = new MemoryStateStore();
  const publisher = new MemoryPublisher();
  return {
    drop,
    store,
    state,
    publisher,
    run: (job = {}, extra = {}) =>
      runMailbox({
        job: { ...JOB_DEFAULTS, id: 'support', connect: { host: '127.0.0.1', user: 'u', password: 'p' }, ...job },
        store,
        state,
        publisher,
        connect: drop.connect,
        ...extra,
      }),
  };
}

/** Distinct raw messages stored, by sha256 taken from the key. */
export function storedShas(store: MemoryRawStore): string[] {
  return store.rawKeys().map((k) => k.slice(-68, -4));
}
