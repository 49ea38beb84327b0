import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalPublisher } from '../../lib/publish/local-publisher.ts';
import { PublishError } from '../../lib/publish/types.ts';
import { fakeMetadataDocument } from '../helpers/memory-adapters.ts';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'local-pub-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let n = 0;
const freshDir = () => join(root, `d${++n}`);

const lines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as MetadataDocument);

describe('LocalPublisher', () => {
  it('appends one JSON line per document to <dir>/events.jsonl, creating the folder', async () => {
    const dir = freshDir();
    const p = new LocalPublisher({ dir });
    const tricky = fakeMetadataDocument({ id: 'a', subject: '件名\nwith a newline\u2028and U+2028', snippet: 'line1\r\nline2' });
    assert.deepEqual(await p.publish([tricky, fakeMetadataDocument({ id: 'b' })]), { published: 2, perTarget: { events: 2 } });
    await p.publish([fakeMetadataDocument({ id: 'c' })]);
    const text = await readFile(join(dir, 'events.jsonl'), 'utf8');
    assert.equal(text.split('\n').length, 4, 'three lines and the final newline');
    const docs = await lines(p.path);
    assert.deepEqual(
      docs.map((d) => d.id),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(docs[0], tricky);
  });

  it('fsyncs the log, with the batch in it, before publish resolves', async (t) => {
    const dir = freshDir();
    const probe = await open(join(root, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void>; stat: () => Promise<{ isFile(): boolean }> };
    await probe.close();
    const synced: string[][] = [];
    const original = proto.sync;
    t.after(() => {
      proto.sync = original;
    });
    const p = new LocalPublisher({ dir });
    proto.sync = async function (this: typeof proto) {
      await original.call(this);
      if (!(await this.stat()).isFile()) return; // the folders' fsyncs
      // What is on disk when the fsync returns: the batch must already be there.
      synced.push(
        (await readFile(p.path, 'utf8').catch(() => ''))
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as MetadataDocument).id),
      );
    };
    let resolved = false;
    const pending = p.publish([fakeMetadataDocument({ id: 'durable' })]).then(() => {
      resolved = true;
    });
    assert.equal(resolved, false);
    await pending;
    assert.deepEqual(synced, [['durable']]);
  });

  it('publishing nothing writes nothing', async () => {
    const dir = freshDir();
    const p = new LocalPublisher({ dir });
    assert.deepEqual(await p.publish([]), { published: 0, perTarget: { events: 0 } });
    await assert.rejects(readFile(join(dir, 'events.jsonl')), { code: 'ENOENT' });
  });

  it('concurrent batches from several publishers never interleave inside a line', async () => {
    const dir = freshDir();
    const big = 'x'.repeat(200_000);
    const batches = Array.from({ length: 12 }, (_, i) =>
      Array.from({ length: 5 }, (_, j) => fakeMetadataDocument({ id: `${i}-${j}`, snippet: big })),
    );
    await Promise.all(batches.map((b, i) => new LocalPublisher({ dir }).publish(b).then(() => i)));
    const docs = await lines(join(dir, 'events.jsonl'));
    assert.equal(docs.length, 60);
    // Each batch's lines are contiguous: one write per batch.
    for (let k = 0; k < docs.length; k += 5) {
      const batch = docs[k]!.id.split('-')[0];
      assert.deepEqual(
        docs.slice(k, k + 5).map((d) => d.id),
        [0, 1, 2, 3, 4].map((j) => `${batch}-${j}`),
      );
    }
  });

  it('fails with PublishError listing every id when the log cannot be written', {
    skip: process.getuid?.() === 0 ? 'root ignores file permissions' : false,
  }, async () => {
    const dir = freshDir();
    const p = new LocalPublisher({ dir });
    await p.publish([fakeMetadataDocument({ id: 'first' })]);
    await chmod(join(dir, 'events.jsonl'), 0o400);
    await assert.rejects(
      p.publish([fakeMetadataDocument({ id: 'x' }), fakeMetadataDocument({ id: 'y' })]),
      (e: unknown) => e instanceof PublishError && e.failedIds.join() === 'x,y' && e.retryable,
    );
  });

  it('fails with PublishError listing every id when the folder is unusable', async () => {
    const dir = join(freshDir(), 'events.jsonl');
    const blocker = new LocalPublisher({ dir: join(dir, '..') });
    await blocker.publish([fakeMetadataDocument({ id: 'make-a-file' })]);
    // `dir` is now a regular file: the publisher cannot create a folder there.
    const p = new LocalPublisher({ dir });
    await assert.rejects(
      p.publish([fakeMetadataDocument({ id: 'x' }), fakeMetadataDocument({ id: 'y' })]),
      (e: unknown) => e instanceof PublishError && e.code === 'EPUBLISH' && e.failedIds.join() === 'x,y',
    );
  });

  it('runs matching processors after the log is written and counts them per target', async () => {
    const dir = freshDir();
    const seen: Record<string, string[]> = { tickets: [], all: [] };
    const p = new LocalPublisher({
      dir,
      processors: [
        {
          name: 'tickets',
          filter: { autoReply: false },
          handle: async (d) => {
            seen.tickets!.push(d.id);
          },
        },
        {
          name: 'all',
          handle: async (d) => {
            seen.all!.push(d.id);
          },
        },
      ],
    });
    const auto = fakeMetadataDocument({
      id: 'auto',
      flags: { autoReply: true, bounce: false, list: false, bulk: false, spam: false, oversized: false },
    });
    const r = await p.publish([fakeMetadataDocument({ id: 'human' }), auto]);
    assert.deepEqual(r, { published: 2, perTarget: { events: 2, tickets: 1, all: 2 } });
    assert.deepEqual(seen, { tickets: ['human'], all: ['human', 'auto'] });
  });

  it('a failing processor never fails the publish: the events stay and the other documents are handled', async () => {
    const dir = freshDir();
    const seen: string[] = [];
    const warned: string[] = [];
    const p = new LocalPublisher({
      dir,
      processors: [
        {
          name: 'flaky',
          handle: async (d) => {
            if (d.id === 'bad') throw new Error('downstream unavailable');
            seen.push(d.id);
          },
        },
      ],
      log: (_level, message) => warned.push(message),
    });
    const r = await p.publish([
      fakeMetadataDocument({ id: 'ok' }),
      fakeMetadataDocument({ id: 'bad' }),
      fakeMetadataDocument({ id: 'after' }),
    ]);
    assert.deepEqual(r, { published: 3, perTarget: { events: 3, flaky: 2 } });
    assert.deepEqual(seen, ['ok', 'after']);
    assert.deepEqual(
      (await lines(p.path)).map((d) => d.id),
      ['ok', 'bad', 'after'],
    );
    assert.match(warned.join('\n'), /local processor flaky failed on 1 document\(s\); recorded as dead letters, retried next run/);
  });

  it('refuses duplicate processor names, including the reserved "events"', () => {
    const h = async () => {};
    assert.throws(
      () =>
        new LocalPublisher({
          dir: freshDir(),
          processors: [
            { name: 'a', handle: h },
            { name: 'a', handle: h },
          ],
        }),
      TypeError,
    );
    assert.throws(() => new LocalPublisher({ dir: freshDir(), processors: [{ name: 'events', handle: h }] }), TypeError);
  });
});
