import type { Pop3Client } from '../pop3/types.ts';
import type { RunMailboxOptions } from './pipeline-types.ts';
import type { FetchOutcome } from './fetch-loop.ts';
import type { ListedMessage } from './listing.ts';
import type { StateTracker } from './state-tracker.ts';
import { classifyError } from './errors.ts';
import { retentionCandidates } from './plan.ts';

export type Deletion = ReturnType<typeof retentionCandidates>[number];

/**
 * Marks for deletion (DELE) every listed message whose retention is due and whose archived copy is confirmed.
 * Resolves with the messages the server accepted a DELE for: they are gone only once QUIT succeeds.
 */
export async function applyRetention(
  opts: RunMailboxOptions,
  client: Pop3Client,
  tracker: StateTracker,
  listing: readonly ListedMessage[],
  outcome: FetchOutcome,
  at: Date,
  log: NonNullable<RunMailboxOptions['log']>,
  suspects: ReadonlySet<number>,
): Promise<Deletion[]> {
  const candidates = retentionCandidates(listing, tracker.committed, opts.job, at, outcome.committed, suspects);
  const confirmed: Deletion[] = [];
  for (const c of candidates) {
    // Stored by an earlier session: make sure the archive still holds it before the server copy goes.
    if (!outcome.committed.has(c.message.n) && !(await opts.store.exists(c.entry.key))) {
      log('error', 'archived copy is missing: not deleting; the message will be ingested again', { key: c.entry.key });
      tracker.drop(c.key);
      continue;
    }
    confirmed.push(c);
  }
  if (tracker.pendingCount > 0) await tracker.commit();
  const results = await Promise.allSettled(confirmed.map((c) => client.dele(c.message.n)));
  const marked = confirmed.filter((_, i) => results[i]!.status === 'fulfilled');
  const failedDele = results.find((r) => r.status === 'rejected');
  if (failedDele !== undefined)
    log('warn', 'DELE refused for some messages', {
      refused: confirmed.length - marked.length,
      error: classifyError((failedDele as PromiseRejectedResult).reason),
    });
  await opts.faults?.['after-dele']?.({});
  return marked;
}
