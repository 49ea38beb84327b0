/**
 * Records what the parser shows for every fixture (and the shared corpus, when present) into
 * fidelity-expectations.json: `node test/parse/record-fidelity.ts`.
 *
 * By default only messages without an expectation are added, and messages whose reading changed are listed but
 * kept as recorded: the file holds what a mail client shows, reviewed by hand, and a change in the parser must
 * not silently become the new truth. `--rewrite KEY...` re-records the named messages after such a review.
 */
import { writeFileSync } from 'node:fs';
import { expectationsFile, loadExpectations, messageFiles, seenIn, type Seen } from './fidelity.ts';

const args = process.argv.slice(2);
const rewrite = new Set(args[0] === '--rewrite' ? args.slice(1) : []);
const recorded = loadExpectations();
const next: Record<string, Seen> = {};
let added = 0;
const changed: string[] = [];

for (const file of messageFiles()) {
  const now = await seenIn(file);
  const before = recorded[file.key];
  if (before === undefined || rewrite.has(file.key)) {
    next[file.key] = now;
    if (before === undefined) added++;
    continue;
  }
  next[file.key] = before;
  if (JSON.stringify(before) !== JSON.stringify(now)) changed.push(file.key);
}
// Entries for messages not present in this run (the corpus elsewhere) are kept.
for (const [key, value] of Object.entries(recorded)) next[key] ??= value;

const sorted = Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(expectationsFile, `${JSON.stringify(sorted, null, 1)}\n`);
console.log(`${added} added, ${Object.keys(sorted).length} in ${expectationsFile}`);
if (changed.length > 0)
  console.log(`reading differs from the recorded expectation (kept; review, then --rewrite): \n  ${changed.join('\n  ')}`);
