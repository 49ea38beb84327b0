import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { corpusSkip } from './corpus-location.ts';
import { loadExpectations, messageFiles, seenIn } from './fidelity.ts';

/**
 * Fidelity: subject, From/To/Cc, Message-ID and attachment names of every fixture and every shared-corpus message,
 * against fidelity-expectations.json (what a mail client shows; recorded by record-fidelity.ts and reviewed by
 * hand). A regression in any field of any message fails that message's test with the field's diff.
 */
const expectations = loadExpectations();
const files = messageFiles();

describe('fidelity: every message reads as a mail client shows it', () => {
  it('every message has a recorded expectation (run node test/parse/record-fidelity.ts for new fixtures)', () => {
    assert.deepEqual(
      files.filter((f) => !(f.key in expectations)).map((f) => f.key),
      [],
    );
  });

  for (const group of ['fixtures', 'corpus'] as const) {
    const mine = files.filter((f) => f.key.startsWith(`${group}/`));
    describe(group, () => {
      if (group === 'corpus' && corpusSkip) it('the shared corpus', { skip: corpusSkip }, () => undefined);
      for (const file of mine) {
        it(file.key.slice(group.length + 1), async () => {
          const want = expectations[file.key];
          if (want === undefined) return; // reported by the test above
          assert.deepEqual(await seenIn(file), want);
        });
      }
    });
  }
});
