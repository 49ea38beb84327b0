/**
 * The local processors consume the event log as queue consumers do: each with its own durable cursor and a
 * dead-letter file, retried on the next run, never blocking the ingest.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerSecret, forgetSecrets } from '../../lib/redact.ts';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { consumerFiles, consumerStatus, MAX_ATTEMPTS } from '../../lib/publish/local-consumer.ts';
import { LocalPublisher, type LocalProcessor } from '../../lib/publish/local-publisher.ts';
import { FsLeaseFiles } from '../../lib/store/fs-lease.ts';
import { fakeMetadataDocument, MemoryRawStore, MemoryStateStore } from '../helpers/memory-adapters.ts';
import { MemoryMaildrop, sampleMessage } from '../helpers/memory-pop3.ts';
import { JOB_DEFAULTS } from '../helpers/job.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'local-consumer-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const freshDir = () => join(root, `d${++n}`);
const doc = (id: string) => fakeMetadataDocument({ id });

/** A processor that records what it handled and fails while `failing` holds the document's id. */
function recorder(name: string, failing = new Set<string>()): LocalProcessor & { seen: string[]; failing: Set<string> } {
  const seen: string[] = [];
  return {
    name,
    seen,
    failing,
    handle: async (d) => {
      if (failing.has(d.id) || failing.has('*')) throw Object.assign(new Error(`cannot index ${d.id}`), { code: 'EIO' });
      seen.push(d.id);
    },
  };
}

describe('local processors as event-log consumers', () => {
  it('a processor that throws never fails the ingest: the run commits, the next run finds nothing new', async () => {
    const dir = freshDir();
    const drop = new MemoryMaildrop();
    for (let i = 1; i <= 4; i++) drop.add(`u${i}`, sampleMessage(i));
    const tickets = recorder('tickets');
    const state = new MemoryStateStore();
    const publisher = new LocalPublisher({ dir, processors: [tickets] });
    const store = new MemoryRawStore();
    const run = () =>
      runMailbox({
        job: { ...JOB_DEFAULTS, id: 'support', connect: { host: 'h', user: 'u', password: 'p' } },
        store,
        state,
        publisher,
        connect: drop.connect,
      });
    // Fails on the second message of the mailbox, whatever its id.
    const handle = tickets.handle;
    let calls = 0;
    tickets.handle = async (d) => {
      if (++calls === 2) throw new Error('ticket store unavailable');
      return handle(d);
    };

    const first = await run();
    const second = await run();

    assert.equal(first.ok, true, JSON.stringify(first.error));
    assert.equal(first.stored, 4);
    assert.equal(Object.keys(state.get('support')!.uidls).length, 4, 'committed');
    assert.equal(second.new, 0);
    assert.equal(tickets.seen.length, 3, 'the documents after the failing one were handled');
    const status = await consumerStatus(dir, publisher.path, 'tickets');
    assert.equal(status.retrying, 1);
    assert.equal(status.behind, 0);
    assert.match(status.lastFailure!.error, /ticket store unavailable/);
  });

  it('retries dead letters on the next run, at most MAX_ATTEMPTS times, then keeps them for an operator', async () => {
    const dir = freshDir();
    const index = recorder('index', new Set(['poison']));
    const p = () => new LocalPublisher({ dir, processors: [index] });
    await p().publish([doc('a'), doc('poison'), doc('b')]);
    for (let run = 2; run <= MAX_ATTEMPTS + 2; run++) await p().drain();
    const status = await consumerStatus(dir, join(dir, 'events.jsonl'), 'index');
    assert.deepEqual({ retrying: status.retrying, givenUp: status.givenUp }, { retrying: 0, givenUp: 1 });
    const journal = (await readFile(consumerFiles(dir, 'index').deadLetters, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(Math.max(...journal.map((r) => r.attempts)), MAX_ATTEMPTS, 'tried exactly MAX_ATTEMPTS times');
    assert.deepEqual(index.seen, ['a', 'b']);
  });

  it('a dead letter that succeeds on retry is settled, and the processor has then seen every document once', async () => {
    const dir = freshDir();
    const index = recorder('index', new Set(['*']));
    const p = new LocalPublisher({ dir, processors: [index] });
    await p.publish([doc('a'), doc('b')]);
    assert.equal((await consumerStatus(dir, p.path, 'index')).retrying, 2, 'down: both are dead letters');
    index.failing.clear();
    const handled = await new LocalPublisher({ dir, processors: [index] }).drain();
    assert.deepEqual(handled, { index: 2 });
    assert.deepEqual(index.seen, ['a', 'b']);
    const status = await consumerStatus(dir, p.path, 'index');
    assert.deepEqual(
      { retrying: status.retrying, givenUp: status.givenUp, lastFailure: status.lastFailure },
      { retrying: 0, givenUp: 0, lastFailure: null },
    );
  });

  it('catches up from its cursor on what another process appended, and a new processor starts at the end', async () => {
    const dir = freshDir();
    const old = recorder('old');
    await new LocalPublisher({ dir, processors: [old] }).publish([doc('a')]);
    await new LocalPublisher({ dir }).publish([doc('b'), doc('c')]); // another process, without processors
    const late = recorder('late');
    const p = new LocalPublisher({ dir, processors: [old, late] });
    await p.drain();
    await p.publish([doc('d')]);
    assert.deepEqual(old.seen, ['a', 'b', 'c', 'd']);
    assert.deepEqual(late.seen, ['d'], 'a processor added later receives what is published from then on (replay fills it)');
    const cursor = JSON.parse(await readFile(consumerFiles(dir, 'old').cursor, 'utf8'));
    assert.equal(cursor.offset, (await readFile(p.path)).length);
  });

  it('skips a torn line left by a crash, as a dead letter that is never retried, and handles the next batch whole', async () => {
    const dir = freshDir();
    const index = recorder('index');
    const p = new LocalPublisher({ dir, processors: [index] });
    await p.publish([doc('a')]);
    await appendFile(p.path, '{"schemaVersion":1,"id":"tor'); // a batch cut short by a power loss
    await p.publish([doc('b')]);
    await p.drain();
    assert.deepEqual(index.seen, ['a', 'b']);
    const status = await consumerStatus(dir, p.path, 'index');
    assert.deepEqual({ retrying: status.retrying, givenUp: status.givenUp }, { retrying: 0, givenUp: 1 });
    assert.match(status.lastFailure!.error, /not JSON/);
  });

  it('leaves the log to the process that is consuming it already (one consumer per processor at a time)', async () => {
    const dir = freshDir();
    const index = recorder('index');
    const p = new LocalPublisher({ dir, processors: [index] });
    await p.publish([doc('a')]);
    const lock = await new FsLeaseFiles({ dir: join(dir, 'processors'), checkName: () => undefined }).acquire('index.lock');
    assert.equal(lock.acquired, true);
    await p.publish([doc('b')]);
    assert.deepEqual(index.seen, ['a'], 'the other consumer handles b');
    if (lock.acquired) await lock.lease.release();
    await p.drain();
    assert.deepEqual(index.seen, ['a', 'b']);
  });

  it('records the error of a dead letter without any secret the process resolved', async () => {
    const dir = freshDir();
    registerSecret('pw-in-an-error-9f3');
    try {
      const p = new LocalPublisher({
        dir,
        processors: [
          {
            name: 'leaky',
            handle: async () => {
              throw new Error('login as x:pw-in-an-error-9f3 refused');
            },
          },
        ],
      });
      await p.publish([doc('a')]);
      const text = await readFile(consumerFiles(dir, 'leaky').deadLetters, 'utf8');
      assert.doesNotMatch(text, /pw-in-an-error-9f3/);
      assert.match(text, /\[redacted\]/);
    } finally {
      forgetSecrets();
    }
  });

  it('a cursor file that cannot be written is a warning, never a failed publish', async () => {
    const dir = freshDir();
    const warned: string[] = [];
    const p = new LocalPublisher({ dir, processors: [recorder('index')], log: (_l, m) => warned.push(m) });
    await p.publish([doc('a')]);
    await rm(consumerFiles(dir, 'index').cursor);
    await mkdir(consumerFiles(dir, 'index').cursor); // a folder where the cursor file goes
    await writeFile(join(consumerFiles(dir, 'index').cursor, 'x'), '');
    const r = await p.publish([doc('b')]);
    assert.equal(r.published, 1);
    assert.match(warned.join('\n'), /local processor index could not consume the event log; it resumes next run/);
  });
});
