/**
 * End to end with the cloud adapters: a real Dovecot → the real CLI (`mail-ingest run`, a child process) → fauxqs
 * speaking the S3 and SQS wire protocols. Run twice, then `replay`, asserting what lands in the bucket and in
 * every queue; and retention "delete" emptying the server only once the archive holds the messages.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import { metadataDocumentSchema } from '../../lib/document/metadata-schema.ts';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';
import { resolveDocument } from '../../lib/publish/resolve-document.ts';
import { parseRawKey } from '../../lib/store/keys.ts';
import { S3RawStore } from '../../lib/store/s3-store.ts';
import { cli } from '../cli/cli-helpers.ts';
import { dovecotMailbox, dovecotSkipReason, startDovecot, toCrlf } from '../helpers/dovecot.ts';
import type { DovecotServer } from '../helpers/dovecot.ts';
import { startLocalAws } from '../helpers/fauxqs.ts';
import type { LocalAws } from '../helpers/fauxqs.ts';
import { getBytes, listKeys, startS3FaultProxy, variedMail } from './cloud-helpers.ts';
import type { SeededMail } from './cloud-helpers.ts';
import { mail, sha256, tempDir } from './e2e-helpers.ts';

const skip = dovecotSkipReason();

const PREFIX = 'archive/v1';
/** SQS's minimum is 1,024; every document here fits in 8 KiB except the one with 300 Cc recipients. */
const SMALL_MAX = 8192;

interface Received {
  readonly message: Message;
  readonly doc: MetadataDocument;
  readonly claimed: boolean;
}

describe('cloud end to end: Dovecot → mail-ingest run → S3 + SQS (fauxqs)', { skip: skip ?? false }, () => {
  let dovecot: DovecotServer;
  let aws: LocalAws;
  let t: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  const queues = { all: '', tickets: '', fifo: '' };
  const seededMail = variedMail();
  /** The documents of the first run, by id. */
  const firstDocs = new Map<string, MetadataDocument>();

  const env = {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    ALICE_PW: 'secret-alice',
    BOB_PW: 'secret-bob',
  };
  const getObject = (key: string, bucket?: string) => getBytes(aws.s3, bucket ?? aws.bucket, key);

  async function writeConfig(file: string, o: { storeEndpoint?: string; mailboxes: unknown[] }): Promise<string> {
    await writeFile(
      file,
      JSON.stringify(
        {
          store: {
            type: 's3',
            bucket: aws.bucket,
            prefix: PREFIX,
            region: aws.region,
            endpoint: o.storeEndpoint ?? aws.endpoint,
            forcePathStyle: true,
          },
          publish: {
            type: 'sqs',
            region: aws.region,
            endpoint: aws.endpoint,
            targets: [
              { name: 'all', queueUrl: queues.all },
              { name: 'tickets', queueUrl: queues.tickets, filter: { autoReply: false, bounce: false, to: ['support@example.jp'] } },
              { name: 'index', queueUrl: queues.fifo, filter: { mailbox: ['support'] } },
            ],
          },
          mailboxes: o.mailboxes,
        },
        null,
        2,
      ),
    );
    return file;
  }
  const mailbox = (id: string, user: string, extra: Record<string, unknown> = {}) =>
    dovecotMailbox(dovecot, id, user, { password: { env: `${user.toUpperCase()}_PW` }, ...extra });

  /** Drains a queue and resolves every body (inline or claim check) to a schema-valid document. */
  async function receive(queueUrl: string): Promise<Received[]> {
    const out: Received[] = [];
    for (const message of await aws.drainQueue(queueUrl)) {
      const doc = await resolveDocument(message.Body!, { getObject });
      assert.equal(metadataDocumentSchema.safeParse(doc).success, true);
      out.push({ message, doc, claimed: Object.hasOwn(JSON.parse(message.Body!), 'claimCheck') });
    }
    return out;
  }
  const byMessageId = (r: readonly Received[]) => new Map(r.map((x) => [x.doc.messageId, x]));
  const ids = (r: readonly Received[]) => r.map((x) => x.doc.id).sort();
  const tickets = () => seededMail.filter((m) => m.ticket);
  /** Each test after the first starts from empty queues, so one failure does not spill into the next. */
  const drainAll = () => Promise.all(Object.values(queues).map((q) => aws.drainQueue(q)));

  async function runCli(args: string[]) {
    const r = await cli(args, { env, timeoutMs: 45_000 });
    assert.equal(r.code, 0, `mail-ingest ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  before(async () => {
    // One after the other, so that `after` stops whatever did start when a later one fails.
    aws = await startLocalAws();
    dovecot = await startDovecot();
    t = await tempDir('cloud-e2e-');
    queues.all = await aws.createQueue({ name: 'all', attributes: { MaximumMessageSize: String(SMALL_MAX) } });
    queues.tickets = await aws.createQueue({ name: 'tickets' });
    queues.fifo = await aws.createQueue({ name: 'index', fifo: true });
    await dovecot.seed(
      'alice',
      seededMail.map((m) => m.raw),
    );
    config = await writeConfig(path.join(t.dir, 'config.json'), { mailboxes: [mailbox('support', 'alice')] });
  });
  after(async () => {
    await dovecot?.stop();
    await aws?.stop();
    await t?.remove();
  });

  it('run archives every message byte for byte under the prefix and fans the documents out by filter', async () => {
    const out = await runCli(['run', '--config', config, '--json']);
    const [summary] = out.mailboxes;
    assert.deepEqual(
      [out.ok, summary.mailbox, summary.new, summary.stored, summary.published, summary.deleted, summary.failed],
      [true, 'support', 12, 12, 12, 0, 0],
    );

    // The archive: one .eml per message, exactly the bytes Dovecot serves, with its metadata document beside it (in
    // the partition's pack, read through the store as every consumer does).
    const store = new S3RawStore({ client: aws.s3, bucket: aws.bucket, prefix: PREFIX });
    const keys = await listKeys(aws.s3, aws.bucket, `${PREFIX}/`);
    const emls = [...keys.keys()].filter((k) => k.endsWith('.eml'));
    assert.equal(emls.length, seededMail.length);
    for (const m of seededMail) {
      const served = toCrlf(m.raw);
      const key = emls.find((k) => k.endsWith(`/${sha256(served)}.eml`));
      assert.ok(key, `no object for <${m.messageId}>`);
      assert.match(key, new RegExp(`^${PREFIX}/raw/support/\\d{4}/\\d{2}/\\d{2}/[0-9a-f]{64}\\.eml$`));
      assert.deepEqual(await getObject(key), served, `<${m.messageId}> archived byte for byte`);
      const head = await aws.s3.send(new HeadObjectCommand({ Bucket: aws.bucket, Key: key }));
      assert.equal(head.Metadata?.sha256, sha256(served));
      const meta = metadataDocumentSchema.parse(await store.getMetadata(key));
      assert.deepEqual(
        { rawKey: meta.raw.key, rawBucket: meta.raw.bucket, rawSha256: meta.raw.sha256, rawSize: meta.raw.size },
        { rawKey: key, rawBucket: aws.bucket, rawSha256: sha256(served), rawSize: served.length },
      );
      assert.equal(meta.messageId, `<${m.messageId}>`);
      // Filed under the UTC day of the topmost Received header, so a message fetched again lands on the same key.
      const received = /^Received: [^;]*; (.+)$/m.exec(m.raw.toString('latin1'))![1]!;
      assert.equal(parseRawKey(key)!.date.toISOString().slice(0, 10), new Date(received).toISOString().slice(0, 10));
      firstDocs.set(meta.id, meta);
    }
    const state = JSON.parse((await getObject(`${PREFIX}/state/support.json`))!.toString('utf8'));
    assert.deepEqual(
      { version: state.version, mailbox: state.mailbox, entries: Object.keys(state.uidls).length },
      { version: 2, mailbox: 'support', entries: 12 },
    );
    const lease = JSON.parse((await getObject(`${PREFIX}/state/leases/support.json`))!.toString('utf8'));
    assert.ok(Date.parse(lease.expiresAt) <= Date.now(), "the run took the mailbox's lease and released it (written expired)");
    assert.equal([...keys.keys()].filter((k) => k.startsWith(`${PREFIX}/staging/`)).length, 0, 'no message was large enough to stage');

    // `all`: every document once, inline unless larger than the queue's 8 KiB (then a claim check in the bucket).
    const all = await receive(queues.all);
    assert.deepEqual(ids(all), [...firstDocs.keys()].sort());
    for (const r of all) {
      assert.deepEqual(r.doc, firstDocs.get(r.doc.id), 'the published document is the stored one');
      assert.equal(r.message.MessageAttributes?.mailbox?.StringValue, 'support');
    }
    const allById = byMessageId(all);
    for (const m of seededMail) {
      const r = allById.get(`<${m.messageId}>`)!;
      assert.equal(r.claimed, m.large, `<${m.messageId}> claim-checked only when too large for the queue`);
      assert.deepEqual(
        [r.doc.flags.autoReply, r.doc.flags.bounce, r.doc.attachments.some((a) => !a.inline)],
        [m.autoReply, m.bounce, m.hasAttachments],
        `flags of <${m.messageId}>`,
      );
      assert.equal(r.message.MessageAttributes?.autoReply?.StringValue, String(m.autoReply));
    }
    const big = allById.get('<big-cc@example.com>')!;
    assert.equal(big.doc.cc.length, 300);
    assert.match(JSON.parse(big.message.Body!).claimCheck.key, new RegExp(`^${PREFIX}/claims/${big.doc.id}\\.json$`));
    const jp = allById.get('<jp-iso2022@example.co.jp>')!.doc;
    assert.deepEqual(
      { subject: jp.subject, from0Name: jp.from[0]?.name },
      { subject: 'お問い合わせ：請求書について', from0Name: '山田太郎' },
    );
    assert.match(jp.snippet, /請求書の金額が①㈱の表記と異なります。/);
    assert.equal(allById.get('<sjis@example.jp>')!.doc.subject, '配送の遅れ');
    assert.equal(allById.get('<raw-utf8@example.jp>')!.doc.subject, '返品の手続き');

    // `tickets`: exactly the mail to support@example.jp (To or Cc, any case) that is neither auto-reply nor bounce.
    const tk = await receive(queues.tickets);
    assert.deepEqual(
      tk.map((r) => r.doc.messageId).sort(),
      tickets()
        .map((m) => `<${m.messageId}>`)
        .sort(),
    );
    assert.equal(tk.filter((r) => r.claimed).length, 0, 'the default 1 MiB limit needs no claim check');
    for (const r of tk) assert.deepEqual(r.doc, firstDocs.get(r.doc.id));

    // FIFO: grouped by mailbox, deduplicated by document id.
    const fifo = await receive(queues.fifo);
    assert.deepEqual(ids(fifo), [...firstDocs.keys()].sort());
    for (const r of fifo) {
      assert.equal(r.message.Attributes?.MessageGroupId, 'support');
      assert.equal(r.message.Attributes?.MessageDeduplicationId, r.doc.id);
    }
  });

  it('a second run stores and publishes nothing', async () => {
    await drainAll();
    const before = await listKeys(aws.s3, aws.bucket, `${PREFIX}/`);
    const out = await runCli(['run', '--config', config, '--json']);
    const [summary] = out.mailboxes;
    assert.deepEqual(
      { new: summary.new, stored: summary.stored, published: summary.published, deleted: summary.deleted },
      { new: 0, stored: 0, published: 0, deleted: 0 },
    );
    const afterKeys = await listKeys(aws.s3, aws.bucket, `${PREFIX}/`);
    // Only the state (its lastRun) and the mailbox's lease (taken and released) may be rewritten; nothing else.
    const rewritten = new Set([`${PREFIX}/state/support.json`, `${PREFIX}/state/leases/support.json`]);
    const without = (m: Map<string, string>) => [...m].filter(([k]) => !rewritten.has(k)).sort();
    assert.deepEqual(without(afterKeys), without(before));
    for (const q of Object.values(queues)) assert.deepEqual(await aws.drainQueue(q), [], `${q} stays empty`);
  });

  it("replay publishes the archive again with the same ids (FIFO: within SQS's 5-minute window, deduplicated)", async () => {
    await drainAll();
    const out = await runCli(['replay', '--config', config, '--json']);
    assert.equal(out.replayed, 12);
    assert.deepEqual(out.perTarget, { all: 12, tickets: tickets().length, index: 12 });
    const all = await receive(queues.all);
    assert.deepEqual(ids(all), [...firstDocs.keys()].sort());
    for (const r of all) assert.deepEqual(r.doc, firstDocs.get(r.doc.id), 'replayed exactly as first published');
    assert.equal(all.filter((r) => r.claimed).length, 1);
    const tk = await receive(queues.tickets);
    assert.deepEqual(
      tk.map((r) => r.doc.messageId).sort(),
      tickets()
        .map((m) => `<${m.messageId}>`)
        .sort(),
    );
    for (const r of tk) assert.deepEqual(r.doc, firstDocs.get(r.doc.id));
    // The FIFO deduplication id is the document id, so SQS accepts the replay and drops it as a duplicate.
    assert.deepEqual(await aws.drainQueue(queues.fifo), []);
  });

  it('replay --target fills only that queue', async () => {
    await drainAll();
    const out = await runCli(['replay', '--config', config, '--target', 'tickets', '--json']);
    assert.deepEqual({ replayed: out.replayed, perTarget: out.perTarget }, { replayed: 12, perTarget: { tickets: tickets().length } });
    const tk = await receive(queues.tickets);
    assert.deepEqual(
      tk.map((r) => r.doc.messageId).sort(),
      tickets()
        .map((m) => `<${m.messageId}>`)
        .sort(),
    );
    for (const r of tk) assert.deepEqual(r.doc, firstDocs.get(r.doc.id), 'same id, same document');
    assert.deepEqual(await aws.drainQueue(queues.all), []);
    assert.deepEqual(await aws.drainQueue(queues.fifo), []);
  });

  it('retention delete leaves the mailbox untouched while S3 refuses a message, and empties it once all are archived', async () => {
    await drainAll();
    const sales: SeededMail[] = Array.from({ length: 5 }, (_, i) => ({
      messageId: `req-${200 + i}@example.com`,
      raw: mail(200 + i),
      ticket: true,
      autoReply: false,
      bounce: false,
      hasAttachments: false,
      large: false,
    }));
    const served = sales.map((m) => toCrlf(m.raw));
    await dovecot.seed(
      'bob',
      sales.map((m) => m.raw),
    );
    const refusedSha = sha256(served[2]!);
    // S3 is down for the third message's key (every retry too): the other four are stored.
    const proxy = await startS3FaultProxy(aws.server.port, (req) => req.method === 'PUT' && (req.url ?? '').includes(refusedSha));
    try {
      const mailboxes = [mailbox('support', 'alice'), mailbox('sales', 'bob', { retention: 'delete' })];
      const faulty = await writeConfig(path.join(t.dir, 'delete-faulty.json'), { storeEndpoint: proxy.endpoint, mailboxes });
      const r1 = await cli(['run', '--config', faulty, '--mailbox', 'sales', '--json'], { env, timeoutMs: 45_000 });
      assert.equal(r1.code, 1, r1.stderr);
      const [s1] = JSON.parse(r1.stdout).mailboxes;
      assert.deepEqual(
        { ok: s1.ok, stored: s1.stored, failed: s1.failed, deleted: s1.deleted, quitOk: s1.quitOk, errorClass: s1.error?.class },
        { ok: false, stored: 4, failed: 1, deleted: 0, quitOk: false, errorClass: 'storage' },
      );
      assert.ok(proxy.refused.length > 0 && proxy.refused.every((r) => r.includes(refusedSha)));
      assert.deepEqual(
        await dovecot.maildirMessages('bob'),
        sales.map((m) => m.raw),
        'nothing deleted while one message is not archived',
      );
      const archived1 = [...(await listKeys(aws.s3, aws.bucket, `${PREFIX}/raw/sales/`)).keys()].filter((k) => k.endsWith('.eml'));
      assert.deepEqual(
        archived1.map((k) => k.slice(-68, -4)).sort(),
        served
          .map(sha256)
          .filter((h) => h !== refusedSha)
          .sort(),
      );

      const healthy = await writeConfig(path.join(t.dir, 'delete.json'), { mailboxes });
      const r2 = await runCli(['run', '--config', healthy, '--mailbox', 'sales', '--json']);
      const [s2] = r2.mailboxes;
      // The four archived before are deleted now too, with the one stored in this run.
      assert.deepEqual(
        { ok: s2.ok, new: s2.new, stored: s2.stored, deleted: s2.deleted, quitOk: s2.quitOk },
        { ok: true, new: 1, stored: 1, deleted: 5, quitOk: true },
      );
      assert.deepEqual(await dovecot.maildirMessages('bob'), [], 'the mailbox is empty');
      const keys = [...(await listKeys(aws.s3, aws.bucket, `${PREFIX}/raw/sales/`)).keys()].filter((k) => k.endsWith('.eml'));
      assert.equal(keys.length, 5);
      for (const b of served) {
        const key = keys.find((k) => k.endsWith(`/${sha256(b)}.eml`));
        assert.ok(key);
        assert.deepEqual(await getObject(key), b, 'every deleted message is in the archive, byte for byte');
      }
      // Documents of mailbox "sales": to `all` and `tickets`, not to the FIFO target filtered on mailbox "support".
      // The four documents published by the failed run are not published again by the second.
      const salesIds = sales.map((m) => `<${m.messageId}>`).sort();
      assert.deepEqual((await receive(queues.all)).map((r) => r.doc.messageId).sort(), salesIds);
      assert.deepEqual((await receive(queues.tickets)).map((r) => r.doc.messageId).sort(), salesIds);
      assert.deepEqual(await aws.drainQueue(queues.fifo), []);
    } finally {
      await proxy.close();
    }
  });
});
