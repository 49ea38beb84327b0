import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { FaultPoint } from '../../lib/ingest/pipeline-types.ts';
import { dovecotSkipReason, startDovecot, toCrlf, type DovecotServer } from '../helpers/dovecot.ts';
import { dovecotJob, events, mail, runInto, sha256, storedShas, tempDir } from './e2e-helpers.ts';

const skip = dovecotSkipReason();
const CHILD = path.join(import.meta.dirname, 'crash-child.ts');
const CASES: Array<[FaultPoint, number]> = [
  ['after-retr', 1],
  ['after-retr', 4],
  ['after-store', 2],
  ['after-verify', 3],
  ['after-publish', 1],
  ['after-publish', 2],
  ['after-state-commit', 1],
  ['after-state-commit', 3],
  ['after-dele', 1],
  ['before-quit', 1],
];

describe('kill -9 at every step of a run, then a clean run (real Dovecot, fs store)', { skip: skip ?? false }, () => {
  let dovecot: DovecotServer;
  before(async () => {
    dovecot = await startDovecot();
  });
  after(async () => {
    await dovecot?.stop();
  });

  let batch = 0;
  for (const [point, nth] of CASES) {
    it(`killed at ${point} #${nth}: nothing lost, stored once, published under one id`, async () => {
      const t = await tempDir('e2e-kill-');
      try {
        batch++;
        const msgs = Array.from({ length: 5 }, (_, i) => mail(1000 * batch + i, { size: 3000 + i * 1000 }));
        await dovecot.seed('alice', msgs);
        const job = dovecotJob(dovecot, 'alice', { retention: 'delete' });
        const child = spawnSync(process.execPath, [CHILD, JSON.stringify(job), t.dir, point, String(nth)], {
          encoding: 'utf8',
          timeout: 60_000,
        });
        assert.equal(
          child.signal,
          'SIGKILL',
          `the child reached ${point} #${nth} and was killed (status ${child.status}, stderr ${child.stderr})`,
        );

        const expected = msgs.map((m) => sha256(toCrlf(m)));
        const left = (await dovecot.maildirMessages('alice')).map((m) => sha256(toCrlf(m)));
        const stored = await storedShas(t.dir);
        for (const s of expected) if (!left.includes(s)) assert.ok(stored.includes(s), 'a message left the server before it was stored');

        const clean = await runInto(t.dir, job);
        assert.equal(clean.ok, true, JSON.stringify(clean.error));
        assert.equal((await dovecot.maildirMessages('alice')).length, 0, 'the clean run finishes the job');
        assert.deepEqual(await storedShas(t.dir), [...expected].sort(), 'every message stored exactly once');
        const byUid = new Map<string, Set<string>>();
        for (const e of await events(t.dir)) byUid.set(e.uidl, (byUid.get(e.uidl) ?? new Set()).add(e.id));
        assert.equal(byUid.size, 5, 'every message published at least once');
        for (const ids of byUid.values()) assert.equal(ids.size, 1, 'always under the same id');
      } finally {
        await t.remove();
      }
    });
  }
});
