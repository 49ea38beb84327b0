/**
 * Any UIDL of RFC 1939's alphabet (0x21-0x7E, 1 to 70 characters) is a state key like any other: through the
 * pipeline, through the fs state file, across runs and a save/load round trip. `__proto__`, `constructor`, `#`,
 * `%`, `/` and `..` once broke tracking (never saved, or dropped every other run).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import { FsStateStore } from '../../lib/store/fs-state.ts';
import { duplicateKey, emptyState } from '../../lib/store/state-format.ts';
import type { IngestedEntry, MailboxState, StateStore } from '../../lib/store/types.ts';
import { MemoryPublisher, MemoryRawStore, MemoryStateStore } from '../helpers/memory-adapters.ts';
import { MemoryMaildrop, sampleMessage } from '../helpers/memory-pop3.ts';
import { JOB_DEFAULTS } from '../helpers/job.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const SPECIAL = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '%',
  '%00',
  '#',
  'a#b',
  '#0',
  '/',
  '..',
  '.',
  'a/../b',
  '"',
  '\\',
  '{}',
];
/** One UIDL: any string over 0x21-0x7E of 1 to 70 characters, with the known troublemakers drawn often. */
const uidl = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL) },
  {
    weight: 3,
    arbitrary: fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 70 }),
  },
);
const mailboxUidls = fc.uniqueArray(uidl, { minLength: 1, maxLength: 8 });

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'uidl-keys-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
let dirs = 0;

function setup(uids: readonly string[], state: StateStore) {
  const drop = new MemoryMaildrop();
  // Distinct bytes per message: every UIDL has its own content.
  uids.forEach((u, i) => drop.add(u, sampleMessage(i + 1, { body: `message for UIDL ${JSON.stringify(u)}` })));
  const store = new MemoryRawStore();
  const publisher = new MemoryPublisher();
  const run = (retention: 'keep' | 'delete' = 'keep') =>
    runMailbox({
      job: { ...JOB_DEFAULTS, id: 'support', connect: { host: '127.0.0.1', user: 'u', password: 'p' }, retention },
      store,
      state,
      publisher,
      connect: drop.connect,
    });
  return { drop, store, publisher, run };
}

async function holdsEveryUidl(state: StateStore, uids: readonly string[]): Promise<void> {
  const { state: s } = await state.read('support');
  assert.deepEqual(Object.keys(s.uidls).sort(), [...uids].sort());
  for (const u of uids) assert.equal(Object.hasOwn(s.uidls, u), true, `entry for ${JSON.stringify(u)}`);
}

/** Three runs ingest each message exactly once and keep its entry; a run with retention delete then empties the server. */
async function ingestsEachOnce(uids: readonly string[], state: StateStore): Promise<void> {
  const w = setup(uids, state);
  const first = await w.run();
  assert.equal(first.ok, true, JSON.stringify(first.error));
  assert.equal(first.stored, uids.length);
  await holdsEveryUidl(state, uids);
  for (const n of [2, 3]) {
    const again = await w.run();
    assert.equal(again.ok, true, JSON.stringify(again.error));
    assert.equal(again.new, 0, `run ${n} sees nothing new`);
    assert.equal(again.published, 0, `run ${n} republishes nothing`);
    await holdsEveryUidl(state, uids);
  }
  const ingestedAt = (await state.read('support')).state.uidls;
  const last = await w.run('delete');
  assert.equal(last.deleted, uids.length);
  assert.equal(w.drop.messages.length, 0);
  assert.deepEqual(w.publisher.ids().length, uids.length, 'each message published once over four runs');
  const after = (await state.read('support')).state.uidls;
  for (const u of uids) {
    assert.equal(after[u]!.ingestedAt, ingestedAt[u]!.ingestedAt, `the ingest date of ${JSON.stringify(u)} never resets`);
    assert.ok(after[u]!.deletedAt, `deletion of ${JSON.stringify(u)} is recorded`);
  }
}

describe('UIDLs of the whole RFC 1939 alphabet as state keys', () => {
  it('through the pipeline and the in-memory state: each message ingested once, tracked every run', async () => {
    await fc.assert(
      fc.asyncProperty(mailboxUidls, (uids) => ingestsEachOnce(uids, new MemoryStateStore())),
      { numRuns: 150 },
    );
  });

  it('through the pipeline and the real fs state file', async () => {
    await fc.assert(
      fc.asyncProperty(mailboxUidls, async (uids) => {
        await ingestsEachOnce(uids, new FsStateStore({ dir: join(root, `p${++dirs}`) }));
      }),
      { numRuns: 40 },
    );
  });

  it('the fs state file saves and loads every key, entry for entry', async () => {
    const store = new FsStateStore({ dir: join(root, 'roundtrip') });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(uidl, { minLength: 0, maxLength: 20 }), async (uids) => {
        const { version } = await store.read('support');
        const uidls: Record<string, IngestedEntry> = Object.create(null);
        uids.forEach((u, i) => {
          uidls[u] = { id: `id-${i}`, sha256: String(i).padStart(64, '0'), key: `k${i}`, size: i, ingestedAt: '2026-01-01T00:00:00.000Z' };
        });
        const state: MailboxState = { ...emptyState('support'), uidls };
        await store.write('support', state, version);
        const loaded = (await store.read('support')).state;
        assert.deepEqual(Object.keys(loaded.uidls).sort(), [...uids].sort());
        for (const u of uids) assert.deepEqual(loaded.uidls[u], uidls[u]);
        assert.equal(Object.getPrototypeOf(loaded.uidls), null, 'no inherited property can pass for an entry');
      }),
      { numRuns: 60 },
    );
  });

  it('a UIDL shared by two messages can never collide with a real UIDL naming its copy', async () => {
    // "x" twice, and a third message whose UIDL is what the old format used as the key of the first copy.
    const first = sampleMessage(1);
    const w = setup([], new MemoryStateStore());
    w.drop
      .add('x', first)
      .add('x', sampleMessage(2))
      .add(`x#${sha(first)}`, sampleMessage(3, { body: 'a message of its own' }));
    const s = await w.run('delete');
    assert.equal(s.ok, true, JSON.stringify(s.error));
    assert.equal(s.stored, 3, 'the third message is not mistaken for a copy of the first');
    assert.equal(w.drop.messages.length, 0);
    assert.equal(w.store.rawKeys().length, 3, 'all three archived before the server deleted them');
  });
});

describe('state files of version 1', () => {
  const entry = (bytes: Buffer, i: number): IngestedEntry => ({
    id: `id-${i}`,
    sha256: sha(bytes),
    key: `raw/support/2026/11/26/${sha(bytes)}.eml`,
    size: bytes.length,
    listedSize: bytes.length,
    ingestedAt: '2026-11-26T00:00:00.000Z',
    deletedAt: null,
  });

  it('are read as version 2: a `#<sha256>` duplicate key becomes the new form, a UIDL with `#` stays itself', async () => {
    const dir = join(root, 'v1');
    const store = new FsStateStore({ dir });
    const a = sampleMessage(1);
    const b = sampleMessage(2);
    const c = sampleMessage(3);
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(
      store.pathFor('support'),
      JSON.stringify({
        version: 1,
        mailbox: 'support',
        uidls: {
          [`dup#${sha(a)}`]: entry(a, 1),
          [`dup#${sha(b)}`]: entry(b, 2),
          'real#uidl': entry(c, 3),
          [`odd#${'0'.repeat(64)}`]: entry(c, 4),
        },
        lastRun: null,
        lastError: null,
      }),
    );
    const { state } = await store.read('support');
    assert.equal(state.version, 2);
    assert.deepEqual(
      Object.keys(state.uidls).sort(),
      [duplicateKey('dup', sha(a)), duplicateKey('dup', sha(b)), `odd#${'0'.repeat(64)}`, 'real#uidl'].sort(),
    );
  });

  it('keep working: a run over a version 1 state ingests nothing again and writes version 2', async () => {
    const dir = join(root, 'v1-run');
    const state = new FsStateStore({ dir });
    const uids = ['dup', 'dup', 'has#hash', '__proto__'];
    const w = setup([], state);
    uids.forEach((u, i) => w.drop.add(u, sampleMessage(i + 1)));
    const uidls: Record<string, IngestedEntry> = {};
    w.drop.messages.forEach((m, i) => {
      Object.defineProperty(uidls, m.uid === 'dup' ? `dup#${sha(m.bytes)}` : m.uid, { value: entry(m.bytes, i), enumerable: true });
    });
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(state.pathFor('support'), JSON.stringify({ version: 1, mailbox: 'support', uidls }));
    for (const m of w.drop.messages) w.store.objects.set(`raw/support/2026/11/26/${sha(m.bytes)}.eml`, m.bytes);

    const s = await w.run();

    assert.equal(s.ok, true, JSON.stringify(s.error));
    assert.equal(s.new, 0, 'every message is known from the old state');
    assert.equal(w.publisher.ids().length, 0, 'a known duplicate is not published again');
    const saved = JSON.parse(await readFile(state.pathFor('support'), 'utf8')) as MailboxState;
    assert.equal(saved.version, 2);
    assert.equal(Object.keys(saved.uidls).length, 4, 'every entry kept, __proto__ included');
  });
});
