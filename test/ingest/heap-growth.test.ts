import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { keepHeapSmall, letHeapGrow } from '../../lib/ingest/heap-growth.ts';

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

const MODULE = new URL('../../lib/ingest/heap-growth.ts', import.meta.url).href;

/**
 * In a process of its own (V8's flags are per process): objects that live long enough to be promoted and then
 * die, as a message's do while it is stored and published. Prints the largest heap seen once it settled.
 */
const PROMOTED_GARBAGE = `
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
const { keepHeapSmall, letHeapGrow } = await import(${JSON.stringify(MODULE)});
const mode = process.argv[1];
if (mode !== 'default') keepHeapSmall();
if (mode === 'streamed') letHeapGrow();
// The young generation the same size in all three: only the old generation's growth differs.
setFlagsFromString('--semi-space-growth-factor=1');
const ring = new Array(64).fill(null);
let peak = 0;
for (let i = 0; i < 8000; i++) {
  ring[i % 64] = Array.from({ length: 1000 }, (_, k) => ({ i, k, s: 'x' + k }));
  if (i > 4000 && i % 10 === 0) peak = Math.max(peak, getHeapStatistics().total_heap_size);
}
console.log(peak);
`;

async function peakHeap(mode: 'kept' | 'default' | 'streamed'): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROMOTED_GARBAGE, mode]);
  return Number(stdout.trim());
}

// Flags are per process: this file runs in its own (node --test isolates files), and the order of the tests matters.
describe('the heap while mail is ingested (V8 flags read at run time)', () => {
  it('the old generation grows by a quarter, not V8 default of up to four times, after keepHeapSmall', async () => {
    const [kept, byDefault, streamed] = await Promise.all([peakHeap('kept'), peakHeap('default'), peakHeap('streamed')]);
    // Measured: about 32 MB kept, 51-57 MB by default (a heap of ~8 MB alive after each full collection).
    assert.ok(kept < byDefault * 0.85, `kept ${kept} bytes, by default ${byDefault}`);
    assert.ok(streamed > kept * 1.2, `after a streamed message ${streamed} bytes, kept ${kept}`);
  });

  it('the young generation keeps its size after keepHeapSmall (without it, this workload grows it)', () => {
    keepHeapSmall();
    const before = newSpace();
    survivors(60);
    // A page or two more under load (V8 still makes room for survivors), never the default's 64 MB semi-spaces.
    assert.ok(newSpace() <= Math.max(before, 16 * 1024 * 1024), `new space grew from ${before} to ${newSpace()} bytes`);
  });

  it('grows again once a message streams (letHeapGrow), and keepHeapSmall no longer stops it', () => {
    const before = newSpace();
    letHeapGrow();
    keepHeapSmall();
    survivors(60);
    assert.ok(newSpace() > Math.max(before, 16 * 1024 * 1024), `new space stayed at ${newSpace()} bytes`);
  });
});
