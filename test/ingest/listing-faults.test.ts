import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { joinListing } from '../../lib/ingest/listing.ts';
import type { Handler } from '../helpers/fake-pop3-server.ts';
import { inFirstSessions, listingOf, okReply } from '../helpers/fake-pop3-faults.ts';
import { sampleMessage } from '../helpers/memory-pop3.ts';
import { withFakeServer } from './fault-server-helpers.ts';

const two = [
  { uid: 'a', body: sampleMessage(1) },
  { uid: 'b', body: sampleMessage(2) },
];
const sizes = two.map((m, i) => `${i + 1} ${m.body.length}`);

/** Listings a server may get wrong, each with the words the refusal must name. */
const broken: Array<{ name: string; handlers: Record<string, Handler>; says: RegExp }> = [
  {
    name: 'a message number repeated in UIDL (the issue\'s "1 a", "1 b")',
    handlers: { UIDL: listingOf(['1 a', '1 b']) },
    says: /UIDL lists message 1 twice/,
  },
  { name: 'a message number repeated in LIST', handlers: { LIST: listingOf([sizes[0]!, sizes[0]!]) }, says: /LIST lists message 1 twice/ },
  { name: 'message number zero', handlers: { UIDL: listingOf(['0 a', '1 b']) }, says: /message number 0/ },
  {
    name: 'a skipped number',
    handlers: { STAT: okReply('3 1000'), UIDL: listingOf(['1 a', '3 b']), LIST: listingOf([sizes[0]!, `3 ${two[1]!.body.length}`]) },
    says: /skips message 2/,
  },
  { name: "numbers beyond STAT's count", handlers: { STAT: okReply('1 500') }, says: /lists message 2 but STAT counts 1/ },
  { name: 'LIST and UIDL disagreeing', handlers: { LIST: listingOf([sizes[0]!]) }, says: /LIST skips message 2/ },
];

describe('listings that do not add up are refused for the session (ELISTING)', () => {
  for (const c of broken) {
    it(`${c.name}: nothing fetched, recorded or deleted`, async () => {
      await withFakeServer({ messages: two, handlers: c.handlers }, async (w) => {
        const s = await w.run({ retention: 'delete' });
        assert.equal(s.ok, false);
        assert.equal(s.error?.code, 'ELISTING');
        assert.equal(s.error?.class, 'protocol');
        assert.match(s.error!.message, c.says);
        const verbs = w.server.verbs();
        assert.ok(!verbs.includes('RETR') && !verbs.includes('TOP') && !verbs.includes('DELE'), verbs.join(' '));
        assert.ok(!verbs.includes('QUIT'), 'the session is dropped, not ended with QUIT');
        assert.equal(w.server.messages.length, 2);
        assert.deepEqual(w.state.get('support')?.uidls ?? {}, {});
        assert.equal(w.publisher.published.length, 0);
      });
    });
  }

  it('STAT goes out with UIDL and LIST, first', async () => {
    await withFakeServer({ messages: two }, async (w) => {
      const s = await w.run();
      assert.equal(s.ok, true, JSON.stringify(s.error));
      const verbs = w.server.verbs();
      assert.deepEqual(verbs.slice(verbs.indexOf('STAT'), verbs.indexOf('STAT') + 3), ['STAT', 'UIDL', 'LIST']);
    });
  });

  it("the issue's case end to end: after a duplicated number, a correct listing archives both before deleting either", async () => {
    await withFakeServer({ messages: two, handlers: { UIDL: inFirstSessions('UIDL', listingOf(['1 a', '1 b'])) } }, async (w) => {
      assert.equal((await w.run({ retention: 'delete' })).error?.code, 'ELISTING');
      const s = await w.run({ retention: 'delete' });
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.deepEqual({ stored: s.stored, deleted: s.deleted }, { stored: 2, deleted: 2 });
      const archived = new Set(w.store.rawKeys().map((k) => w.store.objects.get(k)!.toString('latin1')));
      for (const m of two) assert.ok(archived.has(m.body.toString('latin1')), `${m.uid} archived byte for byte`);
      assert.deepEqual(Object.keys(w.state.get('support')!.uidls).sort(), ['a', 'b']);
    });
  });
});

describe('joinListing', () => {
  it('joins by number, oldest first, and marks shared UIDLs', () => {
    const listing = joinListing(
      3,
      [
        { n: 2, uid: 'x' },
        { n: 1, uid: 'x' },
        { n: 3, uid: 'y' },
      ],
      [
        { n: 1, size: 10 },
        { n: 2, size: 20 },
        { n: 3, size: 30 },
      ],
    );
    assert.deepEqual(listing, [
      { n: 1, uid: 'x', size: 10, duplicate: true },
      { n: 2, uid: 'x', size: 20, duplicate: true },
      { n: 3, uid: 'y', size: 30, duplicate: false },
    ]);
  });

  it('an empty maildrop is a valid listing', () => {
    assert.deepEqual(joinListing(0, [], []), []);
  });
});
