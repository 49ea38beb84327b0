/**
 * Two `mail-ingest run`s at once on one mailbox of a server that does not lock the maildrop (as Courier and Cyrus
 * do not): the second skips it with a clear line and exit 0, and only one of them ever talks to the server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTestCerts } from '../helpers/certs.ts';
import { defaultHandlers, startFakePop3Server, type FakePop3Server } from '../helpers/fake-pop3-server.ts';
import { BIN, cli, localMailbox, writeCliConfig } from './cli-helpers.ts';

const mail = (i: number) => `From: a${i}@example.jp\r\nSubject: m${i}\r\nMessage-ID: <m${i}@example.jp>\r\n\r\nbody ${i}\r\n`;

describe('two runs at once on one mailbox', () => {
  let dir: string;
  let server: FakePop3Server;
  let config: string;
  let slow = true;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lease-cli-'));
    const retr = defaultHandlers().RETR!;
    server = await startFakePop3Server({
      mode: 'implicit',
      messages: [mail(1), mail(2), mail(3)],
      // Slow enough that the second run starts while the first is still fetching.
      handlers: {
        RETR: async (s, args, line) => {
          if (slow) await new Promise((r) => setTimeout(r, 1500));
          await retr(s, args, line);
        },
      },
    });
    config = await writeCliConfig(dir, [
      localMailbox({ id: 'support', port: server.port, ca: makeTestCerts().caFile, password: 'secret', retention: 'delete' }),
    ]);
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the second skips the mailbox (exit 0, one line naming the holder); the first ingests everything once', async () => {
    const first = spawn(process.execPath, [BIN, 'run', '--config', config, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let firstOut = '';
    first.stdout.setEncoding('utf8').on('data', (d: string) => {
      firstOut += d;
    });
    const firstDone = new Promise<number | null>((resolve) => first.on('close', resolve));
    const deadline = Date.now() + 30_000;
    while (!server.commands.some((c) => c.verb === 'RETR') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(
      server.commands.some((c) => c.verb === 'RETR'),
      'the first run is fetching',
    );

    const second = await cli(['run', '--config', config]);

    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`support: skipped: another run holds this mailbox's lease \\(host .*, pid ${first.pid}, run .*\\); not a failure`),
    );
    assert.match(second.stdout, /support .* skipped \(running elsewhere\)/);
    assert.equal(new Set(server.commands.map((c) => c.session)).size, 1, 'the second run never connected');

    assert.equal(await firstDone, 0);
    const summary = JSON.parse(firstOut).mailboxes[0];
    assert.deepEqual(
      { stored: summary.stored, published: summary.published, deleted: summary.deleted },
      { stored: 3, published: 3, deleted: 3 },
    );
    const events = (await readFile(path.join(dir, 'data', 'events.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(events.length, 3, 'each message published once');

    slow = false;
    const third = await cli(['run', '--config', config, '--json']);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(JSON.parse(third.stdout).mailboxes[0].leasedBy, undefined, 'the lease was released: the next run runs');
  });
});
