import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { dovecotSkipReason, startDovecot, toCrlf, type DovecotServer } from '../helpers/dovecot.ts';
import { dovecotJob, events, mail, runInto, sha256, storedShas, tempDir } from './e2e-helpers.ts';

const skip = dovecotSkipReason();

/** Removes the message whose text contains `marker` from the Maildir, as another mail client would. */
async function removeMessage(dovecot: DovecotServer, user: string, marker: string): Promise<void> {
  for (const sub of ['new', 'cur']) {
    const dir = path.join(dovecot.maildir(user), sub);
    for (const f of await readdir(dir)) {
      if ((await readFile(path.join(dir, f), 'latin1')).includes(marker)) {
        await unlink(path.join(dir, f));
        return;
      }
    }
  }
  throw new Error(`no message with ${marker}`);
}

/** Drops Dovecot's UID list and indexes: it numbers the Maildir again from UID 1 (as after a restore or migration). */
async function forgetUids(dovecot: DovecotServer, user: string): Promise<void> {
  const dir = dovecot.maildir(user);
  for (const f of await readdir(dir)) if (f === 'dovecot-uidlist' || f.startsWith('dovecot.index')) await unlink(path.join(dir, f));
}

describe('UIDLs reused by a real Dovecot (pop3_uidl_format = %u: 1, 2, 3...)', { skip: skip ?? false }, () => {
  let dovecot: DovecotServer;
  before(async () => {
    dovecot = await startDovecot({ uidlFormat: '%u', users: [{ user: 'pat', password: 'pw-pat' }] });
  });
  after(async () => {
    await dovecot?.stop();
  });

  it('TOP n 0 gives the fingerprint RETR gave; renumbered after a deletion, the new mail is archived before anything is deleted', async () => {
    const t = await tempDir('e2e-uidl-reuse-');
    try {
      const [m11, m12, m13] = [mail(11), mail(12), mail(13)];
      assert.ok(m11.length === m12.length && m12.length === m13.length, 'one size: LIST cannot tell them apart');
      await dovecot.seed('pat', [m11, m12]);
      const job = dovecotJob(dovecot, 'pat');
      assert.equal((await runInto(t.dir, job)).stored, 2);

      const lines: Array<{ message: string; fields?: Record<string, unknown> }> = [];
      const again = await runInto(t.dir, job, { log: (_l, message, fields) => lines.push({ message, ...(fields ? { fields } : {}) }) });
      assert.deepEqual({ stored: again.stored, published: again.published }, { stored: 0, published: 0 });
      const check = lines.find((l) => l.message.startsWith('UIDLs look positional'));
      assert.deepEqual(check?.fields, { checked: 2, suspects: 0 }, "Dovecot's TOP n 0 matches the fingerprint taken from RETR");

      await removeMessage(dovecot, 'pat', 'request 11');
      await dovecot.seed('pat', [m13]);
      await forgetUids(dovecot, 'pat'); // message 12 is UIDL "1" now, the new message 13 is "2"
      const s = await runInto(t.dir, { ...job, retention: 'delete' });
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.deepEqual({ stored: s.stored, deleted: s.deleted }, { stored: 1, deleted: 2 });
      assert.deepEqual(await storedShas(t.dir), [m11, m12, m13].map((m) => sha256(toCrlf(m))).sort());
      const ids = (await events(t.dir)).map((e) => e.id);
      assert.equal(ids.length, 3, 'message 12 was not published again');
      assert.equal((await dovecot.maildirMessages('pat')).length, 0);
    } finally {
      await t.remove();
    }
  });
});
