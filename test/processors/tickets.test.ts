import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore } from '../../lib/processors/memory-object-store.ts';
import { PreconditionFailedError } from '../../lib/processors/object-store.ts';
import { TicketIntake } from '../../lib/processors/tickets.ts';
import { messageIdIndexKey, ticketKey } from '../../lib/processors/ticket-index.ts';
import { TicketConflictError, type TicketDocument } from '../../lib/processors/ticket-types.ts';
import { makeDoc } from './doc-factory.ts';

const noWait = async () => {};

function setup(options: { maxAttempts?: number; subjectWindowDays?: number } = {}) {
  const store = new MemoryObjectStore();
  const intake = new TicketIntake(store, { backoff: noWait, ...options });
  const ticket = (id: string) => store.json<TicketDocument>(ticketKey(id));
  const tickets = () => store.keys('T-');
  return { store, intake, ticket, tickets };
}

describe('ticket intake: threading', () => {
  it('opens a ticket for a new message, with the message as its first comment', async () => {
    const { intake, ticket } = setup();
    const doc = makeDoc({ subject: 'Login fails', messageId: '<a1@example.com>' });

    const out = await intake.process(doc);

    assert.equal(out.action, 'created');
    assert.ok('ticketId' in out);
    const t = ticket(out.ticketId);
    assert.equal(t.status, 'open');
    assert.equal(t.subject, 'Login fails');
    assert.deepEqual(t.requester, { name: 'Customer', address: 'customer@example.com' });
    assert.deepEqual(
      t.comments.map((c) => c.docId),
      [doc.id],
    );
    assert.equal(t.comments[0]!.raw.key, doc.raw.key);
  });

  it('adds a reply as a comment through In-Reply-To, even with a changed subject', async () => {
    const { intake, ticket, tickets } = setup();
    const first = makeDoc({ subject: 'Login fails', messageId: '<a1@example.com>' });
    const reply = makeDoc({ subject: 'Something else entirely', messageId: '<a2@example.jp>', inReplyTo: '<a1@example.com>' });

    const a = await intake.process(first);
    const b = await intake.process(reply);

    assert.deepEqual(b, { action: 'commented', ticketId: (a as { ticketId: string }).ticketId, via: 'message-id' });
    assert.deepEqual(
      ticket((a as { ticketId: string }).ticketId).comments.map((c) => c.docId),
      [first.id, reply.id],
    );
    assert.equal(tickets().length, 1);
  });

  it('follows References when In-Reply-To is missing, newest reference first', async () => {
    const { intake, tickets } = setup();
    const a = await intake.process(makeDoc({ messageId: '<a@x>' }));
    const b = await intake.process(makeDoc({ messageId: '<b@x>', inReplyTo: '<a@x>' }));
    // A client that drops In-Reply-To but keeps the chain.
    const c = await intake.process(makeDoc({ messageId: '<c@x>', references: ['<a@x>', '<b@x>'], subject: 'no marker' }));

    assert.equal(a.action, 'created');
    assert.equal(b.action, 'commented');
    assert.equal(c.action, 'commented');
    assert.equal(tickets().length, 1);
  });

  it('matches Message-IDs with or without angle brackets', async () => {
    const { intake, tickets } = setup();
    await intake.process(makeDoc({ messageId: '<a@x>' }));
    const r = await intake.process(makeDoc({ messageId: 'b@x', inReplyTo: ' a@x ' }));
    assert.equal(r.action, 'commented');
    assert.equal(tickets().length, 1);
  });

  it('threads a reply that arrives before the message it answers (the reply indexed its references)', async () => {
    const { intake, tickets } = setup();
    const reply = await intake.process(makeDoc({ messageId: '<b@x>', inReplyTo: '<a@x>', references: ['<a@x>'] }));
    const original = await intake.process(makeDoc({ messageId: '<a@x>' }));
    assert.equal(reply.action, 'created');
    assert.deepEqual(original, { action: 'commented', ticketId: (reply as { ticketId: string }).ticketId, via: 'message-id' });
    assert.equal(tickets().length, 1);
  });

  it('keeps unrelated messages with the same subject apart when neither is a reply', async () => {
    const { intake, tickets } = setup();
    await intake.process(makeDoc({ subject: 'Hello' }));
    const second = await intake.process(makeDoc({ subject: 'Hello' }));
    assert.equal(second.action, 'created');
    assert.equal(tickets().length, 2);
  });
});

describe('ticket intake: subject fallback', () => {
  it('joins a reply whose parent was never ingested by its normalised subject', async () => {
    const { intake, tickets } = setup();
    const a = await intake.process(makeDoc({ subject: 'Invoice 42', messageId: '<a@x>' }));
    // The agent answered from another system; the customer's reply points at a Message-ID we never saw.
    const r = await intake.process(makeDoc({ subject: 'RE: Fwd: invoice  42', messageId: '<c@x>', inReplyTo: '<agent@helpdesk>' }));
    assert.deepEqual(r, { action: 'commented', ticketId: (a as { ticketId: string }).ticketId, via: 'subject' });
    assert.equal(tickets().length, 1);
  });

  it('joins Japanese replies (返信:, 転送:, full-width Ｒｅ：) by subject', async () => {
    const { intake, ticket } = setup();
    const a = await intake.process(makeDoc({ subject: '請求書について', messageId: '<ja1@x>' }));
    const r1 = await intake.process(makeDoc({ subject: '返信: 請求書について', messageId: '<ja2@x>' }));
    const r2 = await intake.process(makeDoc({ subject: 'Ｒｅ：　転送: 請求書について', messageId: '<ja3@x>' }));
    const id = (a as { ticketId: string }).ticketId;
    assert.deepEqual(r1, { action: 'commented', ticketId: id, via: 'subject' });
    assert.deepEqual(r2, { action: 'commented', ticketId: id, via: 'subject' });
    assert.equal(ticket(id).comments.length, 3);
  });

  it('scopes the subject fallback to the mailbox', async () => {
    const { intake, tickets } = setup();
    await intake.process(makeDoc({ mailbox: 'sales', subject: 'Quote' }));
    const r = await intake.process(makeDoc({ mailbox: 'support', subject: 'Re: Quote' }));
    assert.equal(r.action, 'created');
    assert.equal(tickets().length, 2);
  });

  it('does not join a ticket by subject after the window has passed', async () => {
    const { intake } = setup({ subjectWindowDays: 30 });
    await intake.process(makeDoc({ subject: 'Quote', ingestedAt: '2025-01-01T00:00:00.000Z' }));
    const late = await intake.process(makeDoc({ subject: 'Re: Quote', ingestedAt: '2025-03-01T00:00:00.000Z' }));
    const onTime = await intake.process(makeDoc({ subject: 'Re: Quote', ingestedAt: '2025-03-05T00:00:00.000Z' }));
    assert.equal(late.action, 'created');
    // The late reply opened a fresh ticket, which now owns the subject.
    assert.deepEqual(onTime, { action: 'commented', ticketId: (late as { ticketId: string }).ticketId, via: 'subject' });
  });

  it('does not use the subject for a reply whose subject is only markers', async () => {
    const { intake } = setup();
    await intake.process(makeDoc({ subject: 'Re:' }));
    assert.equal((await intake.process(makeDoc({ subject: 'Re:' }))).action, 'created');
  });
});

describe('ticket intake: what is skipped', () => {
  it('skips auto-replies and bounces without writing anything', async () => {
    const { store, intake } = setup();
    await intake.process(makeDoc({ messageId: '<a@x>' }));
    const before = store.keys();

    const auto = await intake.process(makeDoc({ inReplyTo: '<a@x>', subject: 'Out of office: Re: x', flags: { autoReply: true } }));
    const bounce = await intake.process(makeDoc({ inReplyTo: '<a@x>', flags: { bounce: true } }));

    assert.deepEqual(auto, { action: 'skipped', reason: 'auto-reply' });
    assert.deepEqual(bounce, { action: 'skipped', reason: 'bounce' });
    assert.deepEqual(store.keys(), before);
  });
});

describe('ticket intake: idempotency', () => {
  it('a redelivered document adds no second comment, whether it opened the ticket or commented on it', async () => {
    const { intake, ticket, tickets } = setup();
    const first = makeDoc({ messageId: '<a@x>' });
    const reply = makeDoc({ messageId: '<b@x>', inReplyTo: '<a@x>' });
    const a = await intake.process(first);
    await intake.process(reply);

    const again1 = await intake.process(first);
    const again2 = await intake.process(reply);

    const id = (a as { ticketId: string }).ticketId;
    assert.deepEqual(again1, { action: 'duplicate', ticketId: id });
    assert.deepEqual(again2, { action: 'duplicate', ticketId: id });
    assert.equal(ticket(id).comments.length, 2);
    assert.equal(tickets().length, 1);
  });

  it('recovers a document that opened a ticket but crashed before indexing it', async () => {
    const { store, intake, ticket } = setup();
    const doc = makeDoc({ messageId: '<a@x>' });
    const out = await intake.process(doc);
    store.objects.delete(messageIdIndexKey('<a@x>'));

    const again = await intake.process(doc);

    const id = (out as { ticketId: string }).ticketId;
    assert.deepEqual(again, { action: 'duplicate', ticketId: id });
    assert.ok(store.objects.has(messageIdIndexKey('<a@x>')));
    assert.equal(ticket(id).comments.length, 1);
  });

  it('counts one message delivered to two mailboxes (two documents, one Message-ID) once', async () => {
    const { intake, ticket } = setup();
    const a = await intake.process(makeDoc({ mailbox: 'support', messageId: '<same@x>' }));
    const b = await intake.process(makeDoc({ mailbox: 'sales', messageId: '<same@x>' }));
    const id = (a as { ticketId: string }).ticketId;
    assert.deepEqual(b, { action: 'duplicate', ticketId: id });
    assert.equal(ticket(id).comments.length, 1);
  });
});

describe('ticket intake: concurrent comments', () => {
  it('retries a comment whose conditional write lost to another writer, keeping both comments', async () => {
    const { store, intake, ticket } = setup();
    const first = makeDoc({ messageId: '<a@x>' });
    const a = await intake.process(first);
    const id = (a as { ticketId: string }).ticketId;
    const rival = makeDoc({ messageId: '<r@x>', inReplyTo: '<a@x>' });
    let injected = false;
    store.beforePut = async (key) => {
      if (key === ticketKey(id) && !injected) {
        injected = true; // Another invocation comments between our read and our write.
        await new TicketIntake(store, { backoff: noWait }).process(rival);
      }
    };

    const mine = makeDoc({ messageId: '<m@x>', inReplyTo: '<a@x>' });
    const out = await intake.process(mine);

    assert.equal(out.action, 'commented');
    assert.deepEqual(
      ticket(id)
        .comments.map((c) => c.docId)
        .sort(),
      [first.id, rival.id, mine.id].sort(),
    );
    assert.ok(
      store.puts.some((p) => p.key === ticketKey(id) && !p.ok),
      'a conditional write was refused',
    );
  });

  it('gives up with a retryable TicketConflictError after maxAttempts lost races', async () => {
    const { store, intake } = setup({ maxAttempts: 3 });
    const a = await intake.process(makeDoc({ messageId: '<a@x>' }));
    const id = (a as { ticketId: string }).ticketId;
    store.beforePut = (key) => {
      if (key !== ticketKey(id)) return;
      const o = store.objects.get(key)!;
      store.objects.set(key, { ...o, etag: `"changed-${Math.random()}"` });
    };

    await assert.rejects(intake.process(makeDoc({ inReplyTo: '<a@x>' })), (err: unknown) => {
      assert.ok(err instanceof TicketConflictError);
      assert.equal(err.code, 'ETICKETCONFLICT');
      assert.equal(err.retryable, true);
      return true;
    });
    assert.equal(store.puts.filter((p) => p.key === ticketKey(id) && !p.ok).length, 3);
  });

  it('merges two tickets opened at the same moment by two messages of one thread', async () => {
    const { store, intake, ticket } = setup();
    const original = makeDoc({ messageId: '<a@x>', subject: 'Thread' });
    const reply = makeDoc({ messageId: '<b@x>', inReplyTo: '<a@x>', references: ['<a@x>'], subject: 'Thread' });
    // The reply's invocation opens its ticket and claims <a@x> while the original's invocation is between its
    // lookup (nothing found) and its own claim.
    let replyOut: Awaited<ReturnType<TicketIntake['process']>> | undefined;
    store.beforePut = async (key) => {
      if (key.startsWith('T-') && replyOut === undefined) {
        store.beforePut = null;
        replyOut = await new TicketIntake(store, { backoff: noWait }).process(reply);
      }
    };

    const out = await intake.process(original);

    assert.equal(replyOut?.action, 'created');
    const winner = (replyOut as { ticketId: string }).ticketId;
    assert.deepEqual(out, { action: 'commented', ticketId: winner, via: 'message-id' });
    assert.deepEqual(
      ticket(winner)
        .comments.map((c) => c.docId)
        .sort(),
      [original.id, reply.id].sort(),
    );
    const loser = store
      .keys('T-')
      .map((k) => store.json<TicketDocument>(k))
      .find((t) => t.ticketId !== winner)!;
    assert.equal(loser.status, 'merged');
    assert.equal(loser.mergedInto, winner);
    // A later message of the thread lands on the surviving ticket.
    const later = await intake.process(makeDoc({ inReplyTo: '<a@x>' }));
    assert.deepEqual(later, { action: 'commented', ticketId: winner, via: 'message-id' });
  });

  it('passes storage errors other than a lost race through unchanged', async () => {
    const { store, intake } = setup();
    const boom = new Error('S3 is down');
    store.beforePut = () => {
      throw boom;
    };
    await assert.rejects(intake.process(makeDoc()), (err) => err === boom);
    assert.ok(!(boom instanceof PreconditionFailedError));
  });
});
