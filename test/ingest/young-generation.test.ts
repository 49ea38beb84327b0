import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapSpaceStatistics } from 'node:v8';
import { keepYoungGenerationSmall, letYoungGenerationGrow } from '../../lib/ingest/young-generation.ts';

const newSpace = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

/** Allocation in which many objects survive a scavenge or two: what makes V8 grow the young generation. */
function survivors(rounds: number): number {
  let kept: object[] = [];
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    const next: object[] = [];
    for (let i = 0; i < 100_000; i++) next.push({ r, i, s: `x${i}` });
    n += kept.length;
    kept = next;
  }
  return n;
}

// Flags are per process: this file runs in its own (node --test isolates files), and the order of the two tests matters.
describe('the young generation while mail is ingested (V8 flag read at run time)', () => {
  it('keeps its size after keepYoungGenerationSmall (without it, this workload grows it)', () => {
    keepYoungGenerationSmall();
    const before = newSpace();
    survivors(60);
    // A page or two more under load (V8 still makes room for survivors), never the default's 64 MB semi-spaces.
    assert.ok(newSpace() <= Math.max(before, 16 * 1024 * 1024), `new space grew from ${before} to ${newSpace()} bytes`);
  });

  it('grows again once a message streams (letYoungGenerationGrow), and keepYoungGenerationSmall no longer stops it', () => {
    const before = newSpace();
    letYoungGenerationGrow();
    keepYoungGenerationSmall();
    survivors(60);
    assert.ok(newSpace() > Math.max(before, 16 * 1024 * 1024), `new space stayed at ${newSpace()} bytes`);
  });
});
