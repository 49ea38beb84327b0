import { setFlagsFromString } from 'node:v8';

/**
 * How large V8 lets the young generation grow while mail is ingested. By default it doubles its semi-spaces
 * whenever many objects survive a scavenge, up to 64 MB on a machine with plenty of memory, and keeps them: for
 * small mail that was 34 MB of the main thread's 56 MB heap at the peak, almost all of it garbage. Small messages
 * are handled in memory and die young, so a young generation that stays at its initial size costs them nothing
 * (2,000 x 5 KB: the same time, 30 MB less peak RSS, measured on tmpfs). A streamed message is another matter:
 * chunks in flight survive a small young generation's frequent scavenges and get promoted (a 200 MB message took
 * 0.6 s more CPU), so the first one lets it grow again, as V8 would, for the rest of the process.
 *
 * V8 reads this flag each time it decides to grow the young generation, so it can be set while the process runs
 * (test/ingest/young-generation.test.ts checks that it still takes effect).
 */
let streamed = false;

/** At the start of a run: the young generation keeps its size (unless a streamed message was seen). */
export function keepYoungGenerationSmall(): void {
  if (!streamed) setFlagsFromString('--semi-space-growth-factor=1');
}

/** A message streams: from now on the young generation may grow as V8 sees fit (its default factor, 2). */
export function letYoungGenerationGrow(): void {
  if (streamed) return;
  streamed = true;
  setFlagsFromString('--semi-space-growth-factor=2');
}
