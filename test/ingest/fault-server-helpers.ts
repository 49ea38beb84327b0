import type { MailboxJob, RunMailboxOptions } from '../../lib/ingest/pipeline-types.ts';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { makeTestCerts } from '../helpers/certs.ts';
import { startFakePop3Server, type FakePop3Server, type FakeServerOptions } from '../helpers/fake-pop3-server.ts';
import { MemoryPublisher, MemoryRawStore, MemoryStateStore } from '../helpers/memory-adapters.ts';
import { JOB_DEFAULTS } from '../helpers/job.ts';

/** The pipeline with the real POP3 client against the fake server, and in-memory store, state and publisher. */
export interface FakeServerWorld {
  readonly server: FakePop3Server;
  readonly store: MemoryRawStore;
  readonly state: MemoryStateStore;
  readonly publisher: MemoryPublisher;
  run(job?: Partial<MailboxJob>, extra?: Partial<RunMailboxOptions>): ReturnType<typeof runMailbox>;
}

export function fakeServerJob(server: FakePop3Server, job: Partial<MailboxJob> = {}): MailboxJob {
  return {
    ...JOB_DEFAULTS,
    id: 'support',
    connect: { host: '127.0.0.1', port: server.port, tls: 'starttls', ca: makeTestCerts().caPem, user: 'alice', password: 'secret' },
    ...job,
  };
}

export async function withFakeServer(options: FakeServerOptions, body: (w: FakeServerWorld) => Promise<void>): Promise<void> {
  const server = await startFakePop3Server(options);
  const store = new MemoryRawStore();
  const state = new MemoryStateStore();
  const publisher = new MemoryPublisher();
  try {
    await body({
      server,
      store,
      state,
      publisher,
      run: (job = {}, extra = {}) => runMailbox({ job: fakeServerJob(server, job), store, state, publisher, ...extra }),
    });
  } finally {
    await server.close();
  }
}
