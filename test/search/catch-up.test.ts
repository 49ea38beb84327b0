import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../lib/config/index.ts';
import { FsRawStore } from '../../lib/store/fs-store.ts';
import {
  SearchDb,
  catchUp,
  catchUpEventLog,
  catchUpListing,
  counts,
  defaultIndexPath,
  parseSearchQuery,
  rebuild,
  search,
} from '../../lib/search/index.ts';
import { ingestInto, japaneseQuote, makeArchive, plain, quoteReply, type Archive } from './archive-fixture.ts';

const LONG_BODY = `${'The quick brown fox jumps over the lazy dog. '.repeat(12)}The word far down is ZEBRAFINCH.`;
const find = (index: SearchDb, text: string) =>
  search(index, parseSearchQuery(new URLSearchParams({ q: text }))).hits.map((h) => h.subject);

describe('search index: kept current from the event log, rebuilt from the archive', () => {
  let archive: Archive;
  before(async () => {
    archive = await makeArchive({
      support: [japaneseQuote(), quoteReply()],
      sales: [plain(1), plain(2, { subject: 'long one', body: LONG_BODY })],
    });
  });
  after(async () => {
    await archive?.remove();
  });

  it('indexes every document, then reads the body text from the raw message (past the 280-character snippet)', async () => {
    const config = await loadConfig(archive.configPath);
    const index = SearchDb.open(defaultIndexPath(config));
    try {
      assert.equal(index.path, path.join(archive.storeDir, 'search.sqlite'));
      assert.equal((await stat(index.path)).mode & 0o777, 0o600, 'the index holds message text: private');
      const r = await catchUp(index, config, new FsRawStore({ dir: archive.storeDir }));
      assert.deepEqual(
        { source: r.source, documents: r.documents, bodies: r.bodies, pending: r.pendingBodies },
        { source: 'event-log', documents: 4, bodies: 4, pending: 0 },
      );
      assert.deepEqual(find(index, 'ZEBRAFINCH'), ['long one']);
      assert.deepEqual(find(index, '三週間'), ['見積書の送付について'], 'ISO-2022-JP body text, decoded');
    } finally {
      index.close();
    }
  });

  it('a second catch-up reads nothing; new mail is read from where the cursor stopped', async () => {
    const config = await loadConfig(archive.configPath);
    const store = new FsRawStore({ dir: archive.storeDir });
    const index = SearchDb.open(defaultIndexPath(config));
    try {
      assert.equal((await catchUp(index, config, store)).read, 0);
      await ingestInto(archive.storeDir, 'sales', [plain(3, { subject: 'third' })], 100);
      const r = await catchUp(index, config, store);
      assert.deepEqual({ read: r.read, written: r.written, documents: r.documents }, { read: 1, written: 1, documents: 5 });
      assert.deepEqual(find(index, 'third'), ['third']);
    } finally {
      index.close();
    }
  });

  it('a line still being appended waits for its end; garbage lines are skipped, not fatal', async () => {
    const log = path.join(archive.storeDir, 'events.jsonl');
    const index = SearchDb.open(':memory:');
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    await writeFile(log, `${lines[0]}\nnot json\n{"schemaVersion":1}\n${lines[1]!.slice(0, 40)}`);
    const first = catchUpEventLog(index, log);
    assert.deepEqual({ read: first.read, skipped: first.skipped }, { read: 1, skipped: 2 });
    await appendFile(log, `${lines[1]!.slice(40)}\n`);
    assert.equal(catchUpEventLog(index, log).read, 1, 'the completed line is read');
    await writeFile(log, `${lines.join('\n')}\n`);
    index.close();
  });

  it('a log replaced or truncated under the cursor is read again from the start', async () => {
    const log = path.join(archive.storeDir, 'events.jsonl');
    const index = SearchDb.open(':memory:');
    const all = catchUpEventLog(index, log);
    const bytes = await readFile(log);
    await truncate(log, bytes.indexOf(0x0a) + 1);
    const again = catchUpEventLog(index, log);
    await writeFile(log, bytes);
    assert.deepEqual({ restarted: again.restarted, read: again.read, written: again.written }, { restarted: true, read: 1, written: 0 });
    assert.ok(all.read >= 5);
    index.close();
  });

  it('listing finds what the log never had, reads only unknown documents, and skips a corrupt one', async () => {
    const config = await loadConfig(archive.configPath);
    const store = new FsRawStore({ dir: archive.storeDir });
    const index = SearchDb.open(':memory:');
    const first = await catchUpListing(index, store, config.store);
    assert.equal(first.read, 5);
    assert.equal((await catchUpListing(index, store, config.store)).read, 0, 'known keys are not read again');
    await ingestInto(archive.storeDir, 'support', [plain(9, { subject: 'listed later' })], 200);
    const docKey = JSON.parse((await readFile(path.join(archive.storeDir, 'events.jsonl'), 'utf8')).trim().split('\n').at(-1)!).raw
      .key as string;
    await writeFile(path.join(archive.storeDir, docKey.replace(/\.eml$/, '.json')), '{"half": ');
    const second = await catchUpListing(index, store, config.store);
    assert.deepEqual({ read: second.read, skipped: second.skipped }, { read: 0, skipped: 1 });
    index.close();
  });

  it('--rebuild recreates the index from the archive in one transaction; the cursor then resumes the log', async () => {
    const config = await loadConfig(archive.configPath);
    const store = new FsRawStore({ dir: archive.storeDir });
    const index = SearchDb.open(defaultIndexPath(config));
    try {
      index.transaction(() => index.run('DELETE FROM messages WHERE mailbox = ?', 'sales'));
      const r = await rebuild(index, config, store);
      assert.equal(r.documents, counts(index).documents);
      assert.ok(find(index, 'third').length === 1, 'the deleted rows are back');
      assert.equal(r.pendingBodies, 0);
      assert.equal((await catchUp(index, config, store)).read, 0, 'the log cursor is at the end after a rebuild');
    } finally {
      index.close();
    }
  });
});
