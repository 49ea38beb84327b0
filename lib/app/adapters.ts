import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError, type Config } from '../config/index.ts';
import { FsRawStore } from '../store/fs-store.ts';
import { FsStateStore } from '../store/fs-state.ts';
import { LocalPublisher, type LocalPublisherOptions } from '../publish/local-publisher.ts';
import { FsMailboxLeases } from '../store/fs-lease.ts';
import type { MailboxLeases, RawStore, StateStore } from '../store/types.ts';
import type { Publisher } from '../publish/types.ts';

/** What a run writes to: the raw store, the mailbox state and the publisher. */
export interface Adapters {
  readonly store: RawStore;
  readonly state: StateStore;
  readonly publisher: Publisher;
  /** One run per mailbox at a time (lib/app/mailbox-lease.ts). Absent: unguarded (test stand-ins). */
  readonly leases?: MailboxLeases;
}

/**
 * Builds the store, state and publisher a config names. The cloud adapters are loaded only when configured, so
 * the embedded default never pays for the AWS SDK.
 */
export interface AdapterClients {
  /** Used instead of a client built from the config (Lambda reuses one per container; benchmarks count requests). */
  readonly s3?: S3Client;
  readonly sqs?: SQSClient;
}

export interface AdapterOptions {
  /** Where the local processors report failures (they never fail a run: lib/publish/local-consumer.ts). */
  readonly log?: LocalPublisherOptions['log'];
}

export async function createAdapters(config: Config, clients: AdapterClients = {}, options: AdapterOptions = {}): Promise<Adapters> {
  const s = config.store;
  let store: Adapters['store'];
  let state: Adapters['state'];
  let leases: MailboxLeases;
  if (s.type === 'fs') {
    store = new FsRawStore({ dir: s.dir });
    state = new FsStateStore({ dir: s.dir });
    leases = new FsMailboxLeases({ dir: s.dir });
  } else {
    const [{ createS3Client }, { S3RawStore }, { S3StateStore }, { S3MailboxLeases }] = await Promise.all([
      import('../store/s3-client.ts'),
      import('../store/s3-store.ts'),
      import('../store/s3-state.ts'),
      import('../store/s3-lease.ts'),
    ]);
    const client = clients.s3 ?? createS3Client({ region: s.region, endpoint: s.endpoint, forcePathStyle: s.forcePathStyle });
    store = new S3RawStore({ client, bucket: s.bucket, prefix: s.prefix, sse: s.sse, kmsKeyId: s.kmsKeyId });
    state = new S3StateStore({ client, bucket: s.bucket, prefix: s.prefix, sse: s.sse, kmsKeyId: s.kmsKeyId });
    leases = new S3MailboxLeases({ client, bucket: s.bucket, prefix: s.prefix, sse: s.sse, kmsKeyId: s.kmsKeyId });
  }
  const p = config.publish ?? { type: 'local' as const };
  if (p.type === 'local') {
    if (s.type !== 'fs')
      throw new ConfigError([
        {
          path: 'publish',
          message: 'with an s3 store, configure "publish": { "type": "sqs", ... }: the local event log needs an fs store',
        },
      ]);
    const processors = p.processors === undefined ? [] : (await import('../processors/local.ts')).localProcessors(s.dir, p.processors);
    return {
      store,
      state,
      leases,
      publisher: new LocalPublisher({ dir: s.dir, processors, ...(options.log === undefined ? {} : { log: options.log }) }),
    };
  }
  const [{ createSqsClient }, { SqsPublisher }] = await Promise.all([
    import('../publish/sqs-client.ts'),
    import('../publish/sqs-publisher.ts'),
  ]);
  const client = clients.sqs ?? createSqsClient({ region: p.region, endpoint: p.endpoint });
  return { store, state, leases, publisher: new SqsPublisher({ client, targets: p.targets, claimCheck: { store } }) };
}
