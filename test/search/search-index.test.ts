import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { makeDoc, makeDoc as makeDocAt } from '../processors/doc-factory.ts';
import { SearchDb, parseSearchQuery, search, threadOf, upsertDocuments, QueryError, getDocument } from '../../lib/search/index.ts';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';

const q = (params: Record<string, string | string[]>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) p.append(k, x);
  return parseSearchQuery(p);
};
const subjects = (index: SearchDb, params: Record<string, string | string[]>) => search(index, q(params)).hits.map((h) => h.subject);

describe('search index: free text and filters', () => {
  let index: SearchDb;
  let docs: Record<string, MetadataDocument>;
  beforeEach(() => {
    index = SearchDb.open(':memory:');
    docs = {
      quote: makeDoc({
        subject: '見積書の送付について',
        date: '2025-03-03T01:00:00.000Z',
        from: [{ name: '山田 太郎', address: 'yamada@example.co.jp' }],
        snippet: 'お世話になっております。',
      }),
      invoice: makeDoc({
        subject: 'Invoice March',
        date: '2025-03-02T01:00:00.000Z',
        attachments: [
          {
            filename: '請求書_2025-03.pdf',
            contentType: 'application/pdf',
            size: 10,
            sha256: 'a'.repeat(64),
            contentId: null,
            inline: false,
          },
        ],
      }),
      spam: makeDoc({ subject: 'WIN BIG', mailbox: 'sales', date: '2025-02-01T00:00:00.000Z', flags: { spam: true } }),
      short: makeDoc({ subject: '件名 見', date: '2025-03-01T00:00:00.000Z', to: [{ name: 'サポート', address: 'support@example.jp' }] }),
    };
    index.transaction(() => upsertDocuments(index, Object.values(docs)));
  });
  afterEach(() => index.close());

  it('finds a Japanese substring of a subject (見積 finds 見積書) and of a name', () => {
    assert.deepEqual(subjects(index, { q: '見積' }), ['見積書の送付について']);
    assert.deepEqual(subjects(index, { q: '送付につ' }), ['見積書の送付について']);
    assert.deepEqual(subjects(index, { q: '山田' }), ['見積書の送付について'], 'a two-character name (shorter than a trigram)');
    assert.deepEqual(subjects(index, { q: '見' }), ['見積書の送付について', '件名 見'], 'one character, newest first');
  });

  it('finds attachment names, addresses and snippet text, case-insensitively; every term must match', () => {
    assert.deepEqual(subjects(index, { q: '請求書' }), ['Invoice March']);
    assert.deepEqual(subjects(index, { q: 'invoice' }), ['Invoice March']);
    assert.deepEqual(subjects(index, { q: 'YAMADA@example' }), ['見積書の送付について']);
    assert.deepEqual(subjects(index, { q: 'お世話' }), ['見積書の送付について']);
    assert.deepEqual(subjects(index, { q: 'invoice 見積' }), []);
  });

  it('filters by mailbox, sender, recipient, day range, flag and attachments', () => {
    assert.deepEqual(subjects(index, { mailbox: 'sales' }), ['WIN BIG']);
    assert.deepEqual(subjects(index, { from: 'yamada' }), ['見積書の送付について']);
    assert.deepEqual(subjects(index, { to: 'サポ' }), ['件名 見']);
    assert.deepEqual(subjects(index, { since: '2025-03-02', until: '2025-03-02' }), ['Invoice March']);
    assert.deepEqual(subjects(index, { flag: 'spam' }), ['WIN BIG']);
    assert.deepEqual(subjects(index, { q: 'WIN', flag: 'spam', mailbox: 'sales' }), ['WIN BIG']);
    assert.deepEqual(subjects(index, { q: 'WIN', mailbox: 'support' }), []);
    assert.deepEqual(subjects(index, { q: 'March', attachment: 'yes', since: '2025-03-02' }), ['Invoice March']);
    assert.deepEqual(subjects(index, { q: 'March', attachment: 'no' }), []);
    assert.deepEqual(subjects(index, { attachment: 'yes' }), ['Invoice March']);
    assert.equal(search(index, q({ attachment: 'no' })).total, 3);
  });

  it('query syntax in a term is text, not FTS5 syntax', () => {
    assert.deepEqual(subjects(index, { q: '"NEAR(a b)" OR *' }), []);
    assert.deepEqual(subjects(index, { q: 'subject:見積' }), []);
    assert.deepEqual(subjects(index, { q: '100%' }), []);
    assert.deepEqual(subjects(index, { q: '<flag:spam>' }), [], "the filters' tags are not searchable text");
    assert.deepEqual(subjects(index, { q: 'mb:sales' }), []);
  });

  it('pages newest first and counts the total', () => {
    const r = search(index, q({ limit: '2', page: '2' }));
    assert.equal(r.total, 4);
    assert.deepEqual(
      r.hits.map((h) => h.subject),
      ['件名 見', 'WIN BIG'],
    );
  });

  it('reports every malformed parameter at once', () => {
    assert.throws(
      () => q({ since: '2025-02-30', flag: 'urgent', attachment: 'maybe', page: '0', mailbox: '../x' }),
      (err: unknown) => {
        assert.ok(err instanceof QueryError);
        assert.equal(err.code, 'EQUERY');
        assert.equal(err.failureClass, 'config');
        assert.deepEqual(err.issues.map((i) => i.param).sort(), ['attachment', 'flag', 'mailbox', 'page', 'since']);
        return true;
      },
    );
  });

  it('a changed document replaces its row; the same document again writes nothing', () => {
    assert.equal(
      index.transaction(() => upsertDocuments(index, [docs.quote!])),
      0,
    );
    const changed = { ...docs.quote!, subject: '御見積書 再送' };
    assert.equal(
      index.transaction(() => upsertDocuments(index, [changed])),
      1,
    );
    assert.deepEqual(subjects(index, { q: '見積' }), ['御見積書 再送']);
    assert.equal(getDocument(index, docs.quote!.id)?.subject, '御見積書 再送');
    assert.equal(getDocument(index, '../../etc/passwd'), null);
  });
});

describe('search index: threads', () => {
  it('joins messages by Message-ID, In-Reply-To and References, and replies by subject within the mailbox', () => {
    const index = SearchDb.open(':memory:');
    // Received a minute after it was sent.
    const makeDoc = (o: NonNullable<Parameters<typeof makeDocAt>[0]>) =>
      makeDocAt({ ...o, ingestedAt: new Date(Date.parse(o.date ?? '2025-03-01T00:00:00.000Z') + 60_000).toISOString() });
    const root = makeDoc({ subject: 'Order 42', messageId: '<root@x>', date: '2025-03-01T00:00:00.000Z' });
    const reply = makeDoc({
      subject: 'Re: Order 42',
      messageId: '<r1@x>',
      inReplyTo: '<root@x>',
      references: ['<root@x>'],
      date: '2025-03-02T00:00:00.000Z',
    });
    const deep = makeDoc({
      subject: 'Re: Re: Order 42',
      messageId: '<r2@x>',
      inReplyTo: '<r1@x>',
      references: ['r1@x'],
      date: '2025-03-03T00:00:00.000Z',
    });
    const bySubject = makeDoc({ subject: 'RE: order 42', messageId: '<other-system@y>', date: '2025-03-04T00:00:00.000Z' });
    const unrelated = makeDoc({ subject: 'Order 42', messageId: '<fresh@z>', date: '2025-03-05T00:00:00.000Z', mailbox: 'sales' });
    const sameSubjectNotReply = makeDoc({ subject: 'Hello', messageId: '<h1@z>' });
    const sameSubjectNotReply2 = makeDoc({ subject: 'Hello', messageId: '<h2@z>' });
    index.transaction(() => upsertDocuments(index, [root, reply, deep, bySubject, unrelated, sameSubjectNotReply, sameSubjectNotReply2]));
    const thread = threadOf(index, deep.id);
    assert.deepEqual(
      thread.map((t) => ({ subject: t.subject, via: t.via })),
      [
        { subject: 'Order 42', via: 'reference' },
        { subject: 'Re: Order 42', via: 'reference' },
        { subject: 'Re: Re: Order 42', via: 'self' },
        { subject: 'RE: order 42', via: 'subject' },
      ],
    );
    assert.deepEqual(
      threadOf(index, sameSubjectNotReply.id).map((t) => t.via),
      ['self'],
      'two fresh "Hello"s are not a thread',
    );
    index.close();
  });
});
