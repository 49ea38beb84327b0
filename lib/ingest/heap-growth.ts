import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the heap grow while small mail is ingested. Two of its defaults suit a browser tab better than a
 * process that handles thousands of messages of a few KB, each parsed, stored and published and then garbage:
 *
 * - The young generation doubles its semi-spaces whenever many objects survive a scavenge, up to 64 MB on a
 *   machine with plenty of memory, and keeps them: for small mail that was 34 MB of a 56 MB heap at the peak,
 *   almost all of it garbage. Kept at its initial size (`--semi-space-growth-factor=1`) it costs small mail nothing.
 * - The old generation is allowed to grow by up to four times what a full collection left alive before the next
 *   one, when collections are fast: with ~20 MB alive (mostly code) and ~40 KB per message promoted (objects alive
 *   across two scavenges), it reached 54 MB, with the native memory of the buffers it kept in step. A factor of 1.25
 *   (`--heap-growing-percent=25`) keeps it near 30 MB: more full collections, run concurrently on V8's helper
 *   threads, for about 50 MB less peak RSS (2,000 x 5 KB on tmpfs: 125-135 MB instead of 175-185, the same wall time).
 *
 * A streamed message is another matter: its chunks in flight survive a small young generation's frequent
 * scavenges and get promoted (a 200 MB message took 0.6 s more CPU with the small young generation, and 0.7 s more
 * and 25 MB more RSS with the old generation held in), so the first one restores V8's defaults for the rest of the
 * process.
 *
 * V8 reads both flags at each decision to grow, so they can be set while the process runs
 * (test/ingest/heap-growth.test.ts checks that they still take effect).
 */
let streamed = false;

/** At the start of a run: both generations kept near their needs (unless a streamed message was seen). */
export function keepHeapSmall(): void {
  if (streamed) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=25');
}

/** A message streams: from now on the heap grows as V8 sees fit (its defaults: factor 2, dynamic growth). */
export function letHeapGrow(): void {
  if (streamed) return;
  streamed = true;
  setFlagsFromString('--semi-space-growth-factor=2');
  setFlagsFromString('--heap-growing-percent=0');
}
