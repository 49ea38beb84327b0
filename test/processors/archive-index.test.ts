import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MemoryObjectStore } from '../../lib/processors/memory-object-store.ts';
import { indexKey, indexLine, indexRow, writeIndexRow } from '../../lib/processors/archive-index.ts';
import { makeDoc } from './doc-factory.ts';

describe('archive index', () => {
  it('writes one JSON line per document under its UTC ingest day', async () => {
    const store = new MemoryObjectStore();
    // 23:30 in Tokyo on 2 March is still 1 March in UTC: the partition follows UTC.
    const doc = makeDoc({ ingestedAt: '2025-03-01T14:30:00.000Z', date: '2025-03-01T23:29:00+09:00' });

    const { key } = await writeIndexRow(doc, store);

    assert.equal(key, `dt=2025-03-01/${doc.id}.json`);
    const body = store.objects.get(key)!.body.toString('utf8');
    assert.equal(body.endsWith('\n'), true);
    assert.equal(body.split('\n').length, 2, 'exactly one line');
    assert.deepEqual(JSON.parse(body), indexRow(doc));
  });

  it('flattens the document into the row shape the Athena table declares', () => {
    const doc = makeDoc({
      subject: '請求書について',
      from: [{ name: '山田 太郎', address: 'taro@example.jp' }],
      to: [
        { name: '', address: 'support@example.jp' },
        { name: 'Bad', address: '' },
      ],
      cc: [{ name: '', address: 'boss@example.jp' }],
      attachments: [
        { filename: '請求書.pdf', contentType: 'application/pdf', size: 10, sha256: 'a'.repeat(64), contentId: null, inline: false },
        { filename: null, contentType: 'image/png', size: 3, sha256: 'b'.repeat(64), contentId: '<i@x>', inline: true },
      ],
      flags: { list: true },
      headers: { listId: '<list.example.jp>' },
    });
    const row = indexRow(doc);
    assert.equal(row.subject, '請求書について');
    assert.equal(row.from_address, 'taro@example.jp');
    assert.equal(row.from_name, '山田 太郎');
    assert.deepEqual(row.to_addresses, ['support@example.jp']);
    assert.deepEqual(row.cc_addresses, ['boss@example.jp']);
    assert.equal(row.attachment_count, 2);
    assert.deepEqual(row.attachment_names, ['請求書.pdf']);
    assert.deepEqual(row.attachment_sha256, ['a'.repeat(64), 'b'.repeat(64)]);
    assert.equal(row.list, true);
    assert.equal(row.list_id, '<list.example.jp>');
    assert.equal(row.size, doc.raw.size);
    for (const [k, v] of Object.entries(row)) {
      const flat = v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
      assert.ok(flat, `column ${k} is a scalar or an array of strings`);
    }
  });

  it('declares in the DDL every column the row has, in the same order', () => {
    const ddl = readFileSync(new URL('../../lib/processors/archive-index-table.sql', import.meta.url), 'utf8');
    const body = ddl.slice(ddl.indexOf('(') + 1, ddl.indexOf('PARTITIONED BY'));
    const columns = [...body.matchAll(/^\s+([a-z0-9_]+)\s+\S/gm)].map((m) => m[1]);
    assert.deepEqual(columns, Object.keys(indexRow(makeDoc())));
    assert.match(ddl, /'projection\.dt\.type'\s*=\s*'date'/);
    assert.match(ddl, /dt=\$\{dt\}/);
  });

  it('is idempotent: a redelivered document overwrites its own row', async () => {
    const store = new MemoryObjectStore();
    const doc = makeDoc();
    await writeIndexRow(doc, store);
    await writeIndexRow(doc, store);
    assert.deepEqual(store.keys('dt='), [indexKey(doc)]);
  });

  it('escapes U+2028 and U+2029 so no line reader splits a row', () => {
    const line = indexLine(makeDoc({ subject: 'a\u2028b\u2029c\nd' }));
    assert.equal(line.split(/[\n\u2028\u2029]/).length, 2);
    assert.equal(JSON.parse(line).subject, 'a\u2028b\u2029c\nd');
  });

  it('rejects a document whose ingestedAt is not a date, instead of inventing a partition', () => {
    assert.throws(() => indexKey({ ...makeDoc(), ingestedAt: 'yesterday' }), /invalid ingestedAt/);
  });
});
