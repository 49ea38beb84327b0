import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { metadataDocumentSchema } from '../../lib/document/metadata-schema.ts';
import { StoreError } from '../../lib/store/types.ts';
import { sampleMessage } from '../helpers/memory-pop3.ts';
import { storedShas, world } from './pipeline-helpers.ts';
import { Pop3Error } from '../../lib/pop3/errors.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('runMailbox', () => {
  it('ingests every message once, byte for byte, and a second run ingests nothing', async () => {
    const w = world(5);
    const first = await w.run();
    assert.equal(first.ok, true);
    assert.deepEqual(
      { new: first.new, stored: first.stored, published: first.published, deleted: first.deleted, failed: first.failed },
      { new: 5, stored: 5, published: 5, deleted: 0, failed: 0 },
    );
    assert.deepEqual(storedShas(w.store).sort(), w.drop.messages.map((m) => sha(m.bytes)).sort());
    for (const key of w.store.rawKeys()) {
      const bytes = w.store.objects.get(key)!;
      assert.ok(
        w.drop.messages.some((m) => m.bytes.equals(bytes)),
        `${key} holds the exact server bytes`,
      );
    }
    for (const doc of w.publisher.published) metadataDocumentSchema.parse(doc);
    assert.equal(w.drop.messages.length, 5, 'retention keep leaves the server untouched');

    const second = await w.run();
    assert.deepEqual({ new: second.new, stored: second.stored, published: second.published }, { new: 0, stored: 0, published: 0 });
    assert.equal(w.publisher.published.length, 5);
    assert.equal(w.drop.quits, 2, 'both sessions end with QUIT');
  });

  it('files raw messages by their Received date and publishes a document that points at them', async () => {
    const w = world();
    w.drop.add('a', sampleMessage(1, { date: 'Mon, 02 Mar 2026 23:30:00 -0800' }));
    await w.run();
    const doc = w.publisher.published[0]!;
    assert.match(doc.raw.key, /^raw\/support\/2026\/03\/03\/[0-9a-f]{64}\.eml$/);
    assert.equal(doc.raw.sha256, sha(w.drop.messages[0]!.bytes));
    assert.equal(doc.mailbox, 'support');
    assert.equal(doc.uidl, 'a');
    assert.equal(doc.subject, 'message 1');
    assert.deepEqual(w.store.metadata().get(doc.raw.key)?.id, doc.id, 'metadata JSON stored beside the raw message');
  });

  it("publishes in the mailbox's order, whatever order the concurrent commits finish in", async () => {
    const w = world(12);
    // The first messages commit slowest: without ordering, later mail would be published first.
    const stage = w.store.stage.bind(w.store);
    let calls = 0;
    w.store.stage = async (mailbox: string) => {
      const staged = await stage(mailbox);
      const delay = Math.max(0, 30 - 5 * calls++);
      const commit = staged.commit.bind(staged);
      return Object.assign(staged, {
        commit: async (...a: Parameters<typeof commit>) => {
          await new Promise((r) => setTimeout(r, delay));
          return commit(...a);
        },
      });
    };
    await w.run();
    assert.deepEqual(
      w.publisher.published.map((d) => d.uidl),
      w.drop.uids(),
    );
  });

  it('ingests only mail that arrived since the last run, oldest first', async () => {
    const w = world(2);
    await w.run();
    w.drop.add('uid-3', sampleMessage(3)).add('uid-4', sampleMessage(4));
    const before = w.drop.log.length;
    const s = await w.run();
    assert.equal(s.stored, 2);
    assert.deepEqual(
      w.drop.log.slice(before).filter((l) => l.startsWith('RETR')),
      ['RETR uid-3', 'RETR uid-4'],
    );
  });

  it('retention delete empties the server only after every message is stored and committed', async () => {
    const w = world(3);
    const s = await w.run({ retention: 'delete' });
    assert.equal(s.deleted, 3);
    assert.equal(s.quitOk, true);
    assert.equal(w.drop.messages.length, 0);
    assert.equal(storedShas(w.store).length, 3);
    const log = w.drop.log;
    assert.ok(log.lastIndexOf('RETR uid-3') < log.indexOf('DELE uid-1'), 'no DELE before the last message is stored');
  });

  it('deleteAfterDays keeps mail on the server until it is old enough, counted from ingest', async () => {
    const w = world(2);
    const day = (d: number) => () => new Date(Date.UTC(2026, 10, 1 + d));
    await w.run({ retention: { deleteAfterDays: 7 } }, { now: day(0) });
    w.drop.add('uid-3', sampleMessage(3));
    let s = await w.run({ retention: { deleteAfterDays: 7 } }, { now: day(3) });
    assert.equal(s.deleted, 0);
    s = await w.run({ retention: { deleteAfterDays: 7 } }, { now: day(7) });
    assert.equal(s.deleted, 2, 'the two ingested on day 0');
    assert.deepEqual(w.drop.uids(), ['uid-3']);
    s = await w.run({ retention: { deleteAfterDays: 7 } }, { now: day(10) });
    assert.equal(s.deleted, 1);
    assert.equal(w.drop.messages.length, 0);
  });

  it('applies retention to messages ingested by an earlier run whose deletion never took effect', async () => {
    const w = world(2);
    w.drop.failQuit = true;
    const cut = await w.run({ retention: 'delete' });
    assert.equal(cut.ok, false);
    assert.equal(cut.deleted, 0);
    assert.equal(w.drop.messages.length, 2, 'a failed QUIT deletes nothing');
    w.drop.failQuit = false;
    const s = await w.run({ retention: 'delete' });
    assert.deepEqual({ stored: s.stored, deleted: s.deleted }, { stored: 0, deleted: 2 });
    assert.equal(w.drop.messages.length, 0);
  });

  it('a message that fails to store is left on the server, the others proceed, and the session ends without QUIT', async () => {
    const w = world(3, { expire: 0 });
    w.store.failNext('commit', new StoreError('EIO', 'disk full'));
    const s = await w.run({ retention: 'delete' });
    assert.equal(s.ok, false);
    assert.deepEqual(
      { stored: s.stored, failed: s.failed, deleted: s.deleted, quitOk: s.quitOk },
      { stored: 2, failed: 1, deleted: 0, quitOk: false },
    );
    assert.equal(s.error?.class, 'storage');
    assert.equal(w.drop.messages.length, 3, 'EXPIRE 0 must not remove the unsaved message: no QUIT');
    const again = await w.run({ retention: 'delete' });
    assert.deepEqual({ ok: again.ok, stored: again.stored, deleted: again.deleted }, { ok: true, stored: 1, deleted: 3 });
    assert.equal(w.drop.messages.length, 0);
    assert.equal(storedShas(w.store).length, 3);
  });

  it('a verification failure is a storage failure: nothing stored under the key, nothing deleted', async () => {
    const w = world(1);
    w.store.corruptNextCommit();
    const s = await w.run({ retention: 'delete' });
    assert.deepEqual({ stored: s.stored, failed: s.failed, deleted: s.deleted }, { stored: 0, failed: 1, deleted: 0 });
    assert.equal(w.drop.messages.length, 1);
  });

  it('a publish failure commits nothing and the next run publishes again under the same id', async () => {
    const w = world(2);
    w.publisher.failNext('publish');
    const s = await w.run({ retention: 'delete' });
    assert.equal(s.ok, false);
    assert.equal(s.error?.class, 'publish');
    assert.equal(w.drop.messages.length, 2);
    assert.deepEqual(w.state.get('support')?.uidls, {});
    const again = await w.run({ retention: 'delete' });
    assert.equal(again.ok, true);
    assert.equal(new Set(w.publisher.ids()).size, 2);
    assert.equal(storedShas(w.store).length, 2, 'stored once: the second store found identical objects');
  });

  it('a connection dropped mid-RETR keeps what was committed and refetches only the rest', async () => {
    const w = world(4);
    w.drop.dropDuringRetrOf = 'uid-3';
    const s = await w.run({ retention: 'delete' });
    assert.equal(s.ok, false);
    assert.equal(s.error?.class, 'network');
    assert.equal(w.drop.messages.length, 4);
    const before = w.drop.log.length;
    const again = await w.run({ retention: 'delete' });
    assert.equal(again.ok, true);
    const retrs = w.drop.log.slice(before).filter((l) => l.startsWith('RETR'));
    assert.ok(!retrs.includes('RETR uid-1'), `committed messages are not fetched again: ${retrs.join(', ')}`);
    assert.equal(w.drop.messages.length, 0);
    assert.equal(storedShas(w.store).length, 4);
  });

  it('refuses a server without UIDL instead of re-ingesting the mailbox', async () => {
    const w = world(3, { supportsUidl: false });
    const s = await w.run();
    assert.equal(s.ok, false);
    assert.equal(s.error?.code, 'ENOUIDL');
    assert.equal(w.store.rawKeys().length, 0);
  });

  it('fails closed when every UIDL is suddenly new but the messages are the old ones, unless told to accept it', async () => {
    const w = world(4);
    await w.run();
    w.drop.messages = w.drop.messages.map((m, i) => ({ uid: `renumbered-${i}`, bytes: m.bytes }));
    const s = await w.run();
    assert.equal(s.error?.code, 'EUIDLRESET');
    assert.equal(w.publisher.published.length, 4, 'nothing re-published');
    const accepted = await w.run({ acceptUidlReset: true });
    assert.equal(accepted.ok, true);
    assert.equal(storedShas(w.store).length, 4, 'content-addressed: no second copy of the same bytes');
  });

  it('does not mistake mail deleted by another client for a UIDL reset', async () => {
    const w = world(4);
    await w.run();
    w.drop.messages = [];
    w.drop.add('fresh-1', sampleMessage(101, { body: 'a different, longer body '.repeat(5) }));
    const s = await w.run();
    assert.equal(s.ok, true);
    assert.equal(s.stored, 1);
  });

  it('stores both messages sharing a UIDL, and deletes only copies this session retrieved', async () => {
    const w = world();
    w.drop.add('same', sampleMessage(1)).add('same', sampleMessage(2)).add('x', sampleMessage(3));
    const s = await w.run({ retention: 'delete' });
    assert.equal(s.ok, true);
    assert.equal(storedShas(w.store).length, 3);
    assert.equal(w.drop.messages.length, 0);
    assert.equal(new Set(w.publisher.ids()).size, 3);
  });

  it('takes only the headers of an oversized message and never deletes it unless configured', async () => {
    const w = world(1);
    w.drop.add('big', sampleMessage(2, { body: 'x'.repeat(5000) }));
    const s = await w.run({ retention: 'delete', maxMessageBytes: 2000 });
    assert.deepEqual({ stored: s.stored, oversized: s.oversized, deleted: s.deleted }, { stored: 1, oversized: 1, deleted: 1 });
    assert.deepEqual(w.drop.uids(), ['big']);
    const doc = w.publisher.published.find((d) => d.uidl === 'big')!;
    assert.equal(doc.flags.oversized, true);
    assert.equal(doc.subject, 'message 2');
    assert.ok(doc.raw.size < 2000, 'only the header block was stored');
    const again = await w.run({ retention: 'delete', maxMessageBytes: 2000, deleteOversized: true });
    assert.equal(again.deleted, 1);
    assert.equal(w.drop.messages.length, 0);
  });

  it('fetches an oversized message in full once the limit is raised', async () => {
    const w = world();
    w.drop.add('big', sampleMessage(2, { body: 'x'.repeat(5000) }));
    await w.run({ maxMessageBytes: 2000 });
    const s = await w.run({ maxMessageBytes: 10_000 });
    assert.equal(s.stored, 1);
    assert.ok(w.store.rawKeys().some((k) => w.store.objects.get(k)!.equals(w.drop.messages[0]!.bytes)));
  });

  it('archives a message byte for byte even when LIST understates its size (the in-memory fast path spills to streaming)', async () => {
    const w = world();
    const big = sampleMessage(1, { body: 'long line of text '.repeat(200_000) });
    w.drop.add('liar', big).add('small', sampleMessage(2));
    w.drop.listedSizes.set('liar', 900);
    const s = await w.run();
    assert.equal(s.ok, true, JSON.stringify(s.error));
    assert.deepEqual(storedShas(w.store).sort(), [sha(big), sha(w.drop.messages[1]!.bytes)].sort());
    const doc = w.publisher.published.find((d) => d.uidl === 'liar')!;
    assert.equal(doc.raw.size, big.length);
    assert.equal(doc.subject, 'message 1');
  });

  it('a UIDL the server reuses for another message: the new message is archived, never deleted unstored', async () => {
    const w = world();
    w.drop.add('1', sampleMessage(1));
    await w.run({ retention: 'keep' });
    // The server deletes message 1 (another client) and, numbering UIDLs by position, gives the next mail UIDL "1".
    w.drop.messages = [];
    const next = sampleMessage(2, { body: 'a different message that arrived later, under the same UIDL' });
    w.drop.add('1', next);
    const s = await w.run({ retention: 'delete' });
    assert.equal(s.ok, true, JSON.stringify(s.error));
    assert.equal(s.stored, 1, 'the new message is fetched, not mistaken for the old one');
    assert.ok(storedShas(w.store).includes(sha(next)), 'stored before anything is deleted');
    assert.equal(w.drop.messages.length, 0);
    assert.equal(new Set(w.publisher.ids()).size, 2);
  });

  it('maxMessagesPerRun defers the rest to the next run', async () => {
    const w = world(5);
    const s = await w.run({ maxMessagesPerRun: 2 });
    assert.deepEqual({ new: s.new, stored: s.stored, skipped: s.skipped }, { new: 5, stored: 2, skipped: 3 });
    const t = await w.run({ maxMessagesPerRun: 10 });
    assert.equal(t.stored, 3);
  });

  it('stops fetching at the deadline, commits what it has and ends with QUIT', async () => {
    const w = world(3);
    const s = await w.run({ retention: 'delete' }, { deadline: Date.now() - 1 });
    assert.equal(s.ok, true);
    assert.equal(s.stored, 0);
    assert.equal(s.skipped, 3);
    assert.equal(s.quitOk, true);
    const t = await w.run({ retention: 'delete' });
    assert.equal(t.stored, 3);
  });

  it('does not delete a message whose archived copy has disappeared, and ingests it again', async () => {
    const w = world(1);
    await w.run();
    for (const key of w.store.rawKeys()) w.store.objects.delete(key);
    const s = await w.run({ retention: 'delete' });
    assert.equal(s.deleted, 0);
    assert.equal(w.drop.messages.length, 1);
    const t = await w.run({ retention: 'delete' });
    assert.deepEqual({ stored: t.stored, deleted: t.deleted }, { stored: 1, deleted: 1 });
    assert.equal(w.store.rawKeys().length, 1);
  });

  it('merges with a concurrent writer of the state instead of losing its entries', async () => {
    const w = world(1);
    const original = w.state.write.bind(w.state);
    let injected = false;
    w.state.write = async (mailbox, state, version) => {
      if (!injected) {
        injected = true;
        w.state.set(mailbox, {
          version: 2,
          mailbox,
          uidls: { other: { id: 'o', sha256: 'f'.repeat(64), key: 'k', size: 1, ingestedAt: new Date().toISOString() } },
        });
      }
      return original(mailbox, state, version);
    };
    const s = await w.run();
    assert.equal(s.ok, true);
    assert.ok(w.state.conflicts >= 1);
    const uidls = w.state.get('support')!.uidls;
    assert.ok('uid-1' in uidls);
  });

  it('records the run and its error in the state', async () => {
    const w = world(1, { supportsUidl: false });
    await w.run();
    const st = w.state.get('support')!;
    assert.equal(st.lastRun?.ok, false);
    assert.equal(st.lastError?.code, 'ENOUIDL');
  });

  it('reports a connection failure with its class and touches nothing', async () => {
    const w = world(1);
    w.drop.failConnect = new Pop3Error('EAUTH', 'authentication failed');
    const s = await w.run();
    assert.equal(s.ok, false);
    assert.deepEqual(s.error, { class: 'auth', code: 'EAUTH', message: 'authentication failed' });
  });
});
