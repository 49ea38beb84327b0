import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FakeMessage, FakeServerOptions } from '../helpers/fake-pop3-server.ts';
import { positionalUidls, quitWithoutDeleting } from '../helpers/fake-pop3-faults.ts';
import { sampleMessage } from '../helpers/memory-pop3.ts';
import { withFakeServer, type FakeServerWorld } from './fault-server-helpers.ts';

/** Messages of one size that differ only in their headers: LIST cannot tell them apart. */
const sameSize = (i: number): FakeMessage => ({ uid: `m${i}`, body: sampleMessage(i, { body: 'the same body text' }) });
const [A, B, C] = [sameSize(1), sameSize(2), sameSize(3)];
const positional = (messages: FakeMessage[], extra: Partial<FakeServerOptions> = {}): FakeServerOptions => ({
  messages,
  ...extra,
  handlers: { UIDL: positionalUidls(), ...extra.handlers },
});
const verbsOf = (w: FakeServerWorld, session: number): string[] =>
  w.server.commands.filter((c) => c.session === session).map((c) => c.verb);
const subjects = (w: FakeServerWorld): string[] => w.publisher.published.map((d) => d.subject ?? '').sort();

describe('a new message under a reused UIDL of the same size', () => {
  it('after a confirmed deletion, the next mail under the same UIDL is archived (and deleted) by the next run', async () => {
    assert.equal(A.body.length, B.body.length);
    await withFakeServer(positional([A]), async (w) => {
      const first = await w.run({ retention: 'delete' });
      assert.deepEqual({ stored: first.stored, deleted: first.deleted }, { stored: 1, deleted: 1 });
      w.server.messages = [B]; // "1" again, the same size
      const second = await w.run({ retention: 'delete' });
      assert.equal(second.ok, true, JSON.stringify(second.error));
      assert.deepEqual({ stored: second.stored, deleted: second.deleted }, { stored: 1, deleted: 1 });
      assert.deepEqual(subjects(w), ['message 1', 'message 2']);
      assert.equal(w.server.messages.length, 0);
    });
  });

  it("messages renumbered by another client's deletion: the new one is archived, the moved one not published again", async () => {
    await withFakeServer(positional([A, B]), async (w) => {
      await w.run({ retention: 'keep' });
      w.server.messages = [B, C]; // A deleted elsewhere: B is "1" now, C arrives as "2"; all of one size
      const s = await w.run({ retention: 'delete' });
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.deepEqual({ stored: s.stored, deleted: s.deleted }, { stored: 1, deleted: 2 });
      assert.deepEqual(subjects(w), ['message 1', 'message 2', 'message 3'], 'B once, C archived');
      assert.equal(w.server.messages.length, 0);
    });
  });

  it('unchanged positional UIDLs cost one TOP per kept message and no RETR', async () => {
    await withFakeServer(positional([A, B, C]), async (w) => {
      await w.run();
      const s = await w.run();
      assert.deepEqual({ new: s.new, stored: s.stored, published: s.published }, { new: 0, stored: 0, published: 0 });
      const verbs = verbsOf(w, 2);
      assert.deepEqual(
        { top: verbs.filter((v) => v === 'TOP').length, retr: verbs.filter((v) => v === 'RETR').length },
        { top: 3, retr: 0 },
      );
    });
  });

  it('opaque UIDLs are never checked: no TOP at all', async () => {
    await withFakeServer({ messages: [A, B] }, async (w) => {
      await w.run();
      await w.run();
      assert.ok(!w.server.verbs().includes('TOP'));
    });
  });

  it('an entry from before fingerprints were kept gets one from TOP, and is compared from then on', async () => {
    await withFakeServer(positional([A, B]), async (w) => {
      await w.run();
      const st = w.state.get('support')!;
      w.state.set('support', {
        ...st,
        uidls: Object.fromEntries(Object.entries(st.uidls).map(([k, { headerSha256: _, ...e }]) => [k, e])),
      });
      const trusted = await w.run();
      assert.equal(trusted.stored, 0);
      assert.ok(Object.values(w.state.get('support')!.uidls).every((e) => typeof e.headerSha256 === 'string'));
      w.server.messages = [A, C];
      const s = await w.run();
      assert.deepEqual({ stored: s.stored, subjects: subjects(w) }, { stored: 1, subjects: ['message 1', 'message 2', 'message 3'] });
    });
  });

  it('a deletion that did not take effect is retried, not ingested again', async () => {
    await withFakeServer(positional([A, B], { handlers: { QUIT: quitWithoutDeleting() } }), async (w) => {
      await w.run({ retention: 'delete' });
      assert.equal(w.server.messages.length, 2, 'the server kept them');
      const s = await w.run({ retention: 'delete' });
      assert.deepEqual({ stored: s.stored, published: s.published, deleted: s.deleted }, { stored: 0, published: 0, deleted: 2 });
      assert.equal(verbsOf(w, 2).filter((v) => v === 'RETR').length, 0);
    });
  });

  it('without TOP a UIDL seen deleted and listed again is fetched again and compared by its bytes', async () => {
    const noTop = { capabilities: ['UIDL', 'USER', 'RESP-CODES', 'PIPELINING', 'SASL PLAIN'], handlers: { TOP: () => undefined } };
    await withFakeServer(positional([A], { capabilities: noTop.capabilities }), async (w) => {
      await w.run({ retention: 'delete' });
      w.server.messages = [B];
      const s = await w.run({ retention: 'delete' });
      assert.deepEqual({ stored: s.stored, deleted: s.deleted }, { stored: 1, deleted: 1 });
      assert.ok(!w.server.verbs().includes('TOP'));
    });
  });
});
