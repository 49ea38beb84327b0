import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { MemoryObjectStore } from '../../lib/processors/memory-object-store.ts';
import {
  AttachmentExtractionError,
  attachmentKey,
  extractAttachments,
  manifestKey,
  type AttachmentManifest,
} from '../../lib/processors/attachments.ts';
import type { RawOpener } from '../../lib/processors/object-store.ts';
import { makeDoc } from './doc-factory.ts';
import { messageWithAttachments, PDF_BYTES, PNG_BYTES, sha256 } from './mime-fixtures.ts';

function rawFor(bytes: Buffer): { opener: RawOpener; opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    opener: async (ref) => {
      opened.push(ref.key);
      return Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]);
    },
  };
}

function docFor(bytes: Buffer, over: Parameters<typeof makeDoc>[0] = {}) {
  return makeDoc({
    raw: { sha256: sha256(bytes), size: bytes.length },
    attachments: [{ filename: 'x', contentType: 'application/pdf', size: 1, sha256: 'x', contentId: null, inline: false }],
    ...over,
  });
}

describe('attachment extraction', () => {
  it('stores each attachment once by its sha256 and writes a manifest listing all of them', async () => {
    const bytes = messageWithAttachments();
    const store = new MemoryObjectStore();
    const doc = docFor(bytes);

    const out = await extractAttachments(doc, rawFor(bytes).opener, store);

    // Two identical PDFs share one content object.
    assert.deepEqual(out, { action: 'extracted', manifestKey: manifestKey(doc.id), attachments: 3, stored: 2 });
    assert.deepEqual(store.objects.get(attachmentKey(sha256(PDF_BYTES)))?.body, PDF_BYTES);
    assert.deepEqual(store.objects.get(attachmentKey(sha256(PNG_BYTES)))?.body, PNG_BYTES);
    assert.equal(store.objects.get(attachmentKey(sha256(PDF_BYTES)))?.contentType, 'application/octet-stream');
    const m = store.json<AttachmentManifest>(manifestKey(doc.id));
    assert.equal(m.docId, doc.id);
    assert.equal(m.raw.sha256, doc.raw.sha256);
    const byName = Object.fromEntries(m.attachments.map((a) => [a.filename ?? a.contentId, a]));
    assert.deepEqual(Object.keys(byName).sort(), ['<logo@x>', 'copy.pdf', '請求書.pdf'].sort());
    assert.deepEqual(
      { ...byName['請求書.pdf'] },
      {
        filename: '請求書.pdf',
        contentType: 'application/pdf',
        size: PDF_BYTES.length,
        sha256: sha256(PDF_BYTES),
        key: attachmentKey(sha256(PDF_BYTES)),
        contentId: null,
        inline: false,
        partId: byName['請求書.pdf']!.partId,
      },
    );
    assert.equal(byName['<logo@x>']!.inline, true);
    assert.equal(byName['<logo@x>']!.contentType, 'image/png');
  });

  it('is idempotent: a redelivery stores nothing new and rewrites the same manifest', async () => {
    const bytes = messageWithAttachments();
    const store = new MemoryObjectStore();
    const doc = docFor(bytes);
    await extractAttachments(doc, rawFor(bytes).opener, store);
    const manifest = store.objects.get(manifestKey(doc.id))!.body;

    const again = await extractAttachments(doc, rawFor(bytes).opener, store);

    assert.equal(again.action === 'extracted' && again.stored, 0);
    assert.deepEqual(store.objects.get(manifestKey(doc.id))!.body, manifest);
  });

  it('treats losing the race to write a content object as already stored', async () => {
    const bytes = messageWithAttachments();
    const store = new MemoryObjectStore();
    store.beforePut = async (key) => {
      if (key.startsWith('sha256/') && !store.objects.has(key)) store.objects.set(key, { body: Buffer.from('other writer'), etag: '"x"' });
    };
    const out = await extractAttachments(docFor(bytes), rawFor(bytes).opener, store);
    assert.equal(out.action === 'extracted' && out.stored, 0);
  });

  it('does not open the raw message when the document has no attachments', async () => {
    const { opener, opened } = rawFor(Buffer.from('x'));
    const store = new MemoryObjectStore();
    const out = await extractAttachments(makeDoc({ attachments: [] }), opener, store);
    assert.deepEqual(out, { action: 'skipped', reason: 'no-attachments' });
    assert.deepEqual(opened, []);
    assert.deepEqual(store.keys(), []);
  });

  it('skips oversized messages, of which only the headers were archived', async () => {
    const { opener, opened } = rawFor(Buffer.from('x'));
    const out = await extractAttachments(docFor(Buffer.from('x'), { flags: { oversized: true } }), opener, new MemoryObjectStore());
    assert.deepEqual(out, { action: 'skipped', reason: 'oversized' });
    assert.deepEqual(opened, []);
  });

  it('looks again when the ingest parser failed, and writes an empty manifest for a message with none', async () => {
    const bytes = Buffer.from('Subject: plain\r\n\r\nno attachments here\r\n');
    const store = new MemoryObjectStore();
    const doc = docFor(bytes, { attachments: [], parseError: 'boom' });
    const out = await extractAttachments(doc, rawFor(bytes).opener, store);
    assert.deepEqual(out, { action: 'extracted', manifestKey: manifestKey(doc.id), attachments: 0, stored: 0 });
    assert.deepEqual(store.json<AttachmentManifest>(manifestKey(doc.id)).attachments, []);
  });

  it('refuses to write a manifest when the raw bytes are not those the document names', async () => {
    const bytes = messageWithAttachments();
    const store = new MemoryObjectStore();
    const doc = docFor(bytes, { raw: { sha256: sha256('something else'), size: bytes.length } });
    await assert.rejects(extractAttachments(doc, rawFor(bytes).opener, store), (err: unknown) => {
      assert.ok(err instanceof AttachmentExtractionError);
      assert.equal(err.code, 'ERAWMISMATCH');
      return true;
    });
    assert.equal(store.objects.has(manifestKey(doc.id)), false);
  });

  it('fails (and writes no manifest) when reading the raw message fails midway', async () => {
    const bytes = messageWithAttachments();
    const store = new MemoryObjectStore();
    const doc = docFor(bytes);
    const opener: RawOpener = async () =>
      Readable.from(
        (async function* () {
          yield bytes.subarray(0, 200);
          throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
        })(),
      );
    await assert.rejects(extractAttachments(doc, opener, store), /connection reset/);
    assert.equal(store.objects.has(manifestKey(doc.id)), false);
  });
});
