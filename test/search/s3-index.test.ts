import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../lib/config/index.ts';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { S3RawStore } from '../../lib/store/s3-store.ts';
import { S3StateStore } from '../../lib/store/s3-state.ts';
import { SearchDb, catchUp, defaultIndexPath, parseSearchQuery, rebuild, search } from '../../lib/search/index.ts';
import { startLocalAws, type LocalAws } from '../helpers/fauxqs.ts';
import { MemoryPublisher } from '../helpers/memory-adapters.ts';
import { MemoryMaildrop } from '../helpers/memory-pop3.ts';
import { JOB_DEFAULTS } from '../helpers/job.ts';
import { startServe } from '../serve/serve-helpers.ts';
import { japaneseQuote, plain, quoteReply } from './archive-fixture.ts';

const PREFIX = 'mail';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };

describe('search index over an S3 archive (fauxqs): built from the metadata documents by listing', () => {
  let aws: LocalAws;
  let dir: string;
  let configPath: string;
  const saved: Record<string, string | undefined> = {};
  before(async () => {
    for (const [k, v] of Object.entries(CREDENTIALS)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    aws = await startLocalAws();
    dir = await mkdtemp(path.join(tmpdir(), 'mi-s3-index-'));
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: PREFIX });
    const state = new S3StateStore({ client: aws.s3, bucket: aws.bucket, prefix: PREFIX });
    const drop = new MemoryMaildrop();
    drop
      .add('1', japaneseQuote())
      .add('2', quoteReply())
      .add('3', plain(3, { subject: 'S3 only' }));
    const r = await runMailbox({
      job: { ...JOB_DEFAULTS, id: 'support', connect: { host: '127.0.0.1', port: 995, tls: 'implicit', user: 'u', password: 'p' } },
      store,
      state,
      publisher: new MemoryPublisher(),
      connect: drop.connect,
    });
    assert.equal(r.stored, 3);
    const queueUrl = await aws.createQueue();
    configPath = path.join(dir, 'config.json');
    await writeFile(
      configPath,
      JSON.stringify({
        store: { type: 's3', bucket: aws.bucket, prefix: PREFIX, region: aws.region, endpoint: aws.endpoint, forcePathStyle: true },
        publish: { type: 'sqs', region: aws.region, endpoint: aws.endpoint, targets: [{ name: 'all', queueUrl }] },
        mailboxes: [{ id: 'support', host: '127.0.0.1', user: 'u', password: { env: 'UNUSED' } }],
      }),
    );
  });
  after(async () => {
    await aws?.stop();
    await rm(dir, { recursive: true, force: true });
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('lists the archive, reads only new documents, and the body text from the S3 objects', async () => {
    const config = await loadConfig(configPath);
    const indexPath = defaultIndexPath(config, { XDG_CACHE_HOME: dir });
    assert.ok(indexPath.startsWith(path.join(dir, 'mail-ingest')), 'an S3 index lives in the user cache');
    const index = SearchDb.open(indexPath);
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: PREFIX });
    try {
      const first = await catchUp(index, config, store);
      assert.deepEqual({ source: first.source, read: first.read, bodies: first.bodies }, { source: 'listing', read: 3, bodies: 3 });
      assert.equal((await catchUp(index, config, store)).read, 0, 'known documents are not fetched again');
      const hits = search(index, parseSearchQuery(new URLSearchParams({ q: '三週間' }))).hits;
      assert.deepEqual(
        hits.map((h) => h.subject),
        ['見積書の送付について'],
      );
    } finally {
      index.close();
    }
  });

  it("serve over S3 answers searches and raw downloads with the caller's credentials, read only", async () => {
    const serve = await startServe(configPath, ['--index', path.join(dir, 'serve.sqlite')], CREDENTIALS);
    try {
      const auth = { authorization: `Bearer ${serve.token}` };
      const found = (await (await fetch(`${serve.url}/api/search?q=${encodeURIComponent('見積')}`, { headers: auth })).json()) as {
        hits: Array<{ id: string; subject: string }>;
      };
      assert.deepEqual(found.hits.map((h) => h.subject).sort(), ['Re: 見積書の送付について', '見積書の送付について'], serve.stderr());
      const quote = found.hits.find((h) => h.subject === '見積書の送付について')!;
      const raw = Buffer.from(await (await fetch(`${serve.url}/messages/${quote.id}/raw`, { headers: auth })).arrayBuffer());
      assert.ok(raw.equals(japaneseQuote()));
      const message = (await (await fetch(`${serve.url}/api/messages/${quote.id}`, { headers: auth })).json()) as {
        verified: { ok: boolean };
      };
      assert.equal(message.verified.ok, true);
    } finally {
      assert.equal(await serve.stop(), 0, serve.stderr());
    }
  });

  it('--rebuild reads past damaged documents: they are counted as skipped, the others indexed', async () => {
    const config = await loadConfig(configPath);
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: PREFIX });
    const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.bucket, Prefix: `${PREFIX}/raw/support/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    const pack = keys.find((k) => /\/docs-[^/]+$/.test(k));
    const raw = keys.find((k) => k.endsWith('.eml'));
    assert.ok(pack !== undefined && raw !== undefined, keys.join(' '));
    const body = await (await aws.s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: pack }))).Body!.transformToString();
    // A line that is not JSON in the pack, and beside it a legacy document of a schema this version cannot read.
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: pack, Body: `${body}{"broken":\n` }));
    await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: raw.replace(/\.eml$/, '.json'), Body: '{"schemaVersion":99}' }));
    const index = SearchDb.open(path.join(dir, 'rebuilt.sqlite'));
    try {
      const r = await rebuild(index, config, store, { skipBodies: true });
      assert.deepEqual({ read: r.read, skipped: r.skipped, documents: r.documents }, { read: 3, skipped: 2, documents: 3 });
      assert.equal(search(index, parseSearchQuery(new URLSearchParams({ q: 'S3 only' }))).hits.length, 1);
    } finally {
      index.close();
    }
  });
});
