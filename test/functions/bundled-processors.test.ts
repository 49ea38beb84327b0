import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';
import { startLocalAws, type LocalAws } from '../helpers/fauxqs.ts';
import { makeDoc } from '../processors/doc-factory.ts';
import { messageWithAttachments, PDF_BYTES, sha256 } from '../processors/mime-fixtures.ts';
import { bundleHandler, type Bundle, type HandlerName } from './bundle.ts';
import { invokeBundle, sqsEvent, sqsRecord, lambdaEnv } from './run-bundle.ts';

/** As the stack sets them: each processor writes under its own prefix. */
const OUT = { tickets: 'tickets/', attachments: 'attachments/', index: 'index/' };

describe('bundled processors (SQS batch with one poisoned record → S3)', () => {
  let aws: LocalAws;
  let dir: string;
  const bundles = new Map<HandlerName, Bundle>();
  let env: Record<string, string>;

  const keys = async (prefix: string) =>
    ((await aws.s3.send(new ListObjectsV2Command({ Bucket: aws.bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
  const getJson = async <T>(key: string): Promise<T> =>
    JSON.parse(await (await aws.s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: key }))).Body!.transformToString());
  const put = (key: string, body: Buffer | string) => aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: key, Body: body }));

  /** The same document as a claim check, as the publisher sends one too large for its queue. */
  async function claimCheckBody(doc: MetadataDocument): Promise<string> {
    const body = Buffer.from(JSON.stringify(doc));
    const key = `mail/claims/${doc.id}.json`;
    await put(key, body);
    return JSON.stringify({
      claimCheck: { bucket: aws.bucket, key, sha256: createHash('sha256').update(body).digest('hex'), size: body.length },
      id: doc.id,
      mailbox: doc.mailbox,
      schemaVersion: 1,
    });
  }

  const prefixOf = { 'ticket-intake': OUT.tickets, 'attachment-extraction': OUT.attachments, 'archive-index': OUT.index } as Record<
    HandlerName,
    string
  >;
  const invoke = (name: HandlerName, records: Array<Record<string, unknown>>) =>
    invokeBundle(bundles.get(name)!.file, sqsEvent(records), { ...env, OUTPUT_PREFIX: prefixOf[name], POWERTOOLS_SERVICE_NAME: name });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bundled-processors-'));
    aws = await startLocalAws();
    for (const name of ['ticket-intake', 'attachment-extraction', 'archive-index'] as const)
      bundles.set(name, await bundleHandler(name, dir));
    env = lambdaEnv(aws, {
      ARCHIVE_BUCKET: aws.bucket,
    });
  });
  after(async () => {
    await aws?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ticket intake: threads an inline document and a claim-checked reply; only the poisoned record fails', async () => {
    const first = makeDoc({ messageId: '<t1@x>', subject: '請求書について' });
    const reply = makeDoc({ messageId: '<t2@x>', inReplyTo: '<t1@x>', subject: 'Re: 請求書について' });
    const poisoned = sqsRecord('{"schemaVersion":1,"id":"not a document"}');

    const out = await invoke('ticket-intake', [sqsRecord(JSON.stringify(first)), sqsRecord(await claimCheckBody(reply)), poisoned]);

    assert.equal(out.ok, true, JSON.stringify(out.error) + out.stderr.slice(-2000));
    assert.deepEqual(out.result, { batchItemFailures: [{ itemIdentifier: poisoned.messageId }] });
    const tickets = await keys(`${OUT.tickets}T-`);
    assert.equal(tickets.length, 1);
    const ticket = await getJson<{ comments: Array<{ docId: string }> }>(tickets[0]!);
    assert.deepEqual(
      ticket.comments.map((c) => c.docId),
      [first.id, reply.id],
    );
    assert.ok(out.logs.some((l) => l.message === 'record failed' && l.messageId === poisoned.messageId && l.errorCode === 'EINVALID'));
    assert.equal(out.emf.find((e) => 'RecordsFailed' in e)?.RecordsFailed, 1);

    // Redelivery of the same batch (as after a timeout): no second comment.
    const again = await invoke('ticket-intake', [sqsRecord(JSON.stringify(first)), sqsRecord(JSON.stringify(reply))]);
    assert.deepEqual(again.result, { batchItemFailures: [] });
    assert.equal((await getJson<{ comments: unknown[] }>(tickets[0]!)).comments.length, 2);
  });

  it('attachment extraction: streams the raw message from the bucket; a record whose raw message is missing fails alone', async () => {
    const raw = messageWithAttachments();
    const rawKey = `mail/raw/support/2025/03/01/${sha256(raw)}.eml`;
    await put(rawKey, raw);
    const doc = makeDoc({
      raw: { key: rawKey, bucket: aws.bucket, sha256: sha256(raw), size: raw.length },
      attachments: [
        {
          filename: '請求書.pdf',
          contentType: 'application/pdf',
          size: PDF_BYTES.length,
          sha256: sha256(PDF_BYTES),
          contentId: null,
          inline: false,
        },
      ],
    });
    const missing = makeDoc({ raw: { key: 'mail/raw/support/2025/03/01/missing.eml', bucket: aws.bucket }, attachments: doc.attachments });
    const missingRecord = sqsRecord(JSON.stringify(missing));

    const out = await invoke('attachment-extraction', [sqsRecord(JSON.stringify(doc)), missingRecord]);

    assert.deepEqual(out.result, { batchItemFailures: [{ itemIdentifier: missingRecord.messageId }] });
    const manifest = await getJson<{ attachments: Array<{ filename: string | null; sha256: string; key: string }> }>(
      `${OUT.attachments}manifests/${doc.id}.json`,
    );
    assert.equal(manifest.attachments.length, 3);
    const pdf = manifest.attachments.find((a) => a.filename === '請求書.pdf')!;
    assert.equal(pdf.sha256, sha256(PDF_BYTES));
    const stored = Buffer.from(
      await (
        await aws.s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: `${OUT.attachments}${pdf.key}` }))
      ).Body!.transformToByteArray(),
    );
    assert.deepEqual(stored, PDF_BYTES);
    assert.equal((await keys(`${OUT.attachments}sha256/`)).length, 2);
    assert.equal((await keys(`${OUT.attachments}manifests/${missing.id}`)).length, 0);
  });

  it('archive index: one row object per document under its day; the poisoned record fails alone', async () => {
    const a = makeDoc({ ingestedAt: '2025-03-01T23:59:59.000Z' });
    const b = makeDoc({ ingestedAt: '2025-03-02T00:00:00.000Z' });
    const poisoned = sqsRecord('this is not json');

    const out = await invoke('archive-index', [sqsRecord(JSON.stringify(a)), poisoned, sqsRecord(await claimCheckBody(b))]);

    assert.deepEqual(out.result, { batchItemFailures: [{ itemIdentifier: poisoned.messageId }] });
    assert.deepEqual(await keys(OUT.index), [`${OUT.index}dt=2025-03-01/${a.id}.json`, `${OUT.index}dt=2025-03-02/${b.id}.json`]);
    const row = await getJson<{ id: string; mailbox: string }>(`${OUT.index}dt=2025-03-01/${a.id}.json`);
    assert.equal(row.id, a.id);
  });

  it('fails at cold start when ARCHIVE_BUCKET is missing', async () => {
    const { ARCHIVE_BUCKET: _, ...without } = env;
    const out = await invokeBundle(bundles.get('archive-index')!.file, sqsEvent([]), without);
    assert.equal(out.ok, false);
    assert.equal(out.error?.message, 'Environment variable ARCHIVE_BUCKET is required');
  });
});
