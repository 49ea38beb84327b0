import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Checkpointer } from '../../lib/ingest/checkpointer.ts';
import { StateTracker } from '../../lib/ingest/state-tracker.ts';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';
import { fakeMetadataDocument, MemoryStateStore } from '../helpers/memory-adapters.ts';
import { sampleMessage } from '../helpers/memory-pop3.ts';
import { world } from './pipeline-helpers.ts';

// Each checkpoint rewrites the whole state: with a fixed interval a run's state writes grow with the square of the
// mailbox. The interval grows with the state instead.
describe('checkpoints as the state grows', () => {
  it('a run over a mailbox with a large state rewrites it a few times, not once per `every` messages', async () => {
    const w = world(300);
    const first = await w.run({ retention: 'keep' }, { checkpointEvery: 10 });
    assert.equal(first.stored, 300);
    for (let i = 301; i <= 500; i++) w.drop.add(`uid-${i}`, sampleMessage(i));
    const before = w.state.stateWrites;
    const second = await w.run({ retention: 'keep' }, { checkpointEvery: 10 });
    assert.equal(second.ok, true, JSON.stringify(second.error));
    assert.equal(second.stored, 200);
    assert.equal(Object.keys(w.state.get('support')?.uidls ?? {}).length, 500);
    // Every 10 messages would be 20 checkpoints and the run's own commit; a tenth of 300-500 entries: about 6.
    const writes = w.state.stateWrites - before;
    assert.ok(writes <= 9, `${writes} state writes for 200 new messages over a state of 300`);
    assert.ok(writes >= 3, `${writes} state writes: checkpoints still happen`);
  });

  it('a small state keeps the configured interval', async () => {
    const w = world(30);
    await w.run({ retention: 'keep' }, { checkpointEvery: 10 });
    // Three checkpoints of 10, the last one empty-handed at the end is skipped, then the run's own commit.
    assert.ok(w.state.stateWrites >= 3 && w.state.stateWrites <= 5, `${w.state.stateWrites} state writes`);
  });

  it('the time between checkpoints is at least ten times what the last one took', async () => {
    let clock = 0;
    const tracker = new StateTracker(new MemoryStateStore(), 'support');
    await tracker.load();
    const checkpointer = new Checkpointer({
      publisher: {
        publish: async (docs: readonly MetadataDocument[]) => {
          clock += 1_000; // a slow target: the checkpoint takes a second
          return { published: docs.length, perTarget: { slow: docs.length } };
        },
      },
      tracker,
      log: () => undefined,
      now: () => clock,
    });
    clock = 2_000;
    assert.equal(checkpointer.due(0), true, 'due after 2 s while checkpoints are quick');
    checkpointer.add(1, 'uid-1', fakeMetadataDocument(), true);
    await checkpointer.run();
    clock += 5_000;
    assert.equal(checkpointer.due(0), false, 'not 5 s after a checkpoint that took 1 s');
    clock += 5_000;
    assert.equal(checkpointer.due(0), true, '10 s after it');
  });
});
