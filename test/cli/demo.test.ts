import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../e2e/e2e-helpers.ts';
import { cli } from './cli-helpers.ts';

describe('mail-ingest demo (npm start)', () => {
  it('runs the whole pipeline with no configuration, and a second run finds nothing new', async () => {
    const t = await tempDir('demo-');
    try {
      const first = await cli(['demo'], { cwd: t.dir });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /8 messages ingested/);
      // Japanese as a mail client shows it: ISO-2022-JP with NEC/IBM extensions, and a raw Shift_JIS Subject.
      assert.match(first.stdout, /【至急】①請求書の件 ㈱髙橋商事/);
      assert.match(first.stdout, /見積書送付のお願い～/);
      assert.match(first.stdout, /仕様書\.pdf/);
      assert.match(first.stdout, /autoReply/);
      assert.match(first.stdout, /bounce/);

      // The local processors: the login question and its reply are one thread; the auto-reply, the bounce and the
      // list mail open no ticket; two messages carry attachments; every message has an index row.
      assert.match(first.stdout, /4 ticket threads, 2 attachments extracted, 8 index rows/);
      const ticketsDir = path.join(t.dir, 'demo-data', 'processors', 'tickets');
      const tickets = await Promise.all(
        (await readdir(ticketsDir))
          .filter((n) => n.startsWith('T-'))
          .map(async (n) => JSON.parse(await readFile(path.join(ticketsDir, n), 'utf8'))),
      );
      const login = tickets.find((x) => /log in to the portal/.test(x.subject));
      assert.equal(login.subject, 'Cannot log in to the portal', 'the thread is opened by the first message, published first');
      assert.equal(login.comments.length, 2);

      const events = (await readFile(path.join(t.dir, 'demo-data', 'events.jsonl'), 'utf8')).trim().split('\n');
      assert.equal(events.length, 8);
      const broken = events.map((l) => JSON.parse(l)).find((d) => d.from[0]?.address?.startsWith('broken'));
      assert.ok(broken, 'the broken message is archived and published too');

      const second = await cli(['demo'], { cwd: t.dir });
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /Nothing new this time/);
      const days = await readdir(path.join(t.dir, 'demo-data', 'raw', 'demo', '2026', '11'));
      assert.deepEqual(days, ['25'], 'filed under the day the ISP received the mail');

      const status = await cli(['status', '--config', 'demo-data/demo-config.json', '--json'], { cwd: t.dir });
      assert.equal(status.code, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).mailboxes[0].ingested, 8);
    } finally {
      await t.remove();
    }
  });
});
