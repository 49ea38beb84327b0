/**
 * A crash at each step of ingest, then a clean run: whatever the step, every message ends up stored exactly once,
 * every message deleted from the server was stored first, and every message was published at least once, always
 * under one id. (A real kill -9 of the CLI is covered end to end in test/e2e.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { FaultPoint } from '../../lib/ingest/pipeline-types.ts';
import { storedShas, world } from './pipeline-helpers.ts';

const PER_MESSAGE: FaultPoint[] = ['after-retr', 'after-store', 'after-verify'];
const PER_CHECKPOINT: FaultPoint[] = ['after-publish', 'after-state-commit'];
const PER_RUN: FaultPoint[] = ['after-dele', 'before-quit'];
const CASES: Array<[FaultPoint, number]> = [
  ...PER_MESSAGE.flatMap(
    (p): Array<[FaultPoint, number]> => [
      [p, 1],
      [p, 3],
    ],
  ),
  ...PER_CHECKPOINT.flatMap(
    (p): Array<[FaultPoint, number]> => [
      [p, 1],
      [p, 2],
    ],
  ),
  ...PER_RUN.map((p): [FaultPoint, number] => [p, 1]),
];
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

class Crash extends Error {
  constructor(point: string) {
    super(`crash at ${point}`);
    this.name = 'Crash';
  }
}

describe('a crash at any step', () => {
  for (const [point, nth] of CASES) {
    it(`${point} (call ${nth}; 4 messages, a checkpoint every 2) loses nothing and duplicates nothing`, async () => {
      const w = world(4);
      const everything = new Map(w.drop.messages.map((m) => [m.uid, sha(m.bytes)]));
      let calls = 0;
      const crashed = await w.run(
        { retention: 'delete' },
        {
          checkpointEvery: 2,
          faults: {
            [point]: () => {
              if (++calls === nth) throw new Crash(point);
            },
          },
        },
      );
      assert.equal(crashed.ok, false, 'the crash is reported');
      // Whatever is still on the server may or may not be stored yet; whatever left it must be stored.
      const gone = [...everything.keys()].filter((u) => !w.drop.uids().includes(u));
      for (const uid of gone) assert.ok(storedShas(w.store).includes(everything.get(uid)!), `${uid} was deleted before it was stored`);

      const after = await w.run({ retention: 'delete' });
      assert.equal(after.ok, true, JSON.stringify(after.error));
      assert.equal(w.drop.messages.length, 0, 'the clean run finishes the job');
      assert.deepEqual(storedShas(w.store).sort(), [...everything.values()].sort(), 'each message stored exactly once');
      const idsByUid = new Map<string, Set<string>>();
      for (const d of w.publisher.published) idsByUid.set(d.uidl, (idsByUid.get(d.uidl) ?? new Set()).add(d.id));
      for (const uid of everything.keys()) assert.equal(idsByUid.get(uid)?.size, 1, `${uid} published at least once, under one id`);
    });
  }
});
