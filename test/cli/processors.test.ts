/**
 * `mail-ingest run` with a local processor that fails on every document: the run still succeeds and commits,
 * `status` shows the processor's place and failures, and the next run retries them once the processor works.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTestCerts } from '../helpers/certs.ts';
import { startFakePop3Server, type FakePop3Server } from '../helpers/fake-pop3-server.ts';
import { cli, localMailbox, writeCliConfig } from './cli-helpers.ts';

const mail = (i: number) =>
  `From: a${i}@example.jp\r\nTo: support@example.jp\r\nSubject: =?UTF-8?B?6KaL56mN5pu4?= ${i}\r\nMessage-ID: <m${i}@example.jp>\r\nDate: Thu, 26 Nov 2026 09:00:00 +0900\r\n\r\nbody ${i}\r\n`;

describe('local processors never block ingest (CLI)', () => {
  let dir: string;
  let server: FakePop3Server;
  let config: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'processors-cli-'));
    server = await startFakePop3Server({ mode: 'implicit', messages: [mail(1), mail(2), mail(3)] });
    config = await writeCliConfig(
      dir,
      [localMailbox({ id: 'support', port: server.port, ca: makeTestCerts().caFile, password: 'secret' })],
      {
        publish: {
          type: 'local',
          processors: [
            { name: 'index', kind: 'archive-index' },
            { name: 'tickets', kind: 'ticket-intake' },
          ],
        },
      },
    );
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a broken processor: the run succeeds and commits, status names its failures, the next run retries them', async () => {
    // A file where the archive index writes its folder: every document fails for it.
    await mkdir(path.join(dir, 'data', 'processors'), { recursive: true });
    await writeFile(path.join(dir, 'data', 'processors', 'index'), 'not a folder');

    const run = await cli(['run', '--config', config, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout).mailboxes[0];
    assert.deepEqual({ ok: summary.ok, stored: summary.stored, published: summary.published }, { ok: true, stored: 3, published: 3 });
    assert.match(
      run.stderr,
      /warn +local processor index failed on 3 document\(s\); recorded as dead letters, retried next run processor=index failed=3 lastError=ENOTDIR/,
    );
    const state = JSON.parse(await readFile(path.join(dir, 'data', 'state', 'support.json'), 'utf8'));
    assert.equal(Object.keys(state.uidls).length, 3, 'the state is committed');

    const status = await cli(['status', '--config', config, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const byName = Object.fromEntries(JSON.parse(status.stdout).processors.map((p: { processor: string }) => [p.processor, p]));
    assert.deepEqual(
      { behind: byName.index.behind, retrying: byName.index.retrying, givenUp: byName.index.givenUp },
      { behind: 0, retrying: 3, givenUp: 0 },
    );
    assert.match(byName.index.lastFailure.error, /ENOTDIR|EEXIST|not a directory/i);
    assert.deepEqual(
      { behind: byName.tickets.behind, retrying: byName.tickets.retrying },
      { behind: 0, retrying: 0 },
      'the other processor is unaffected',
    );
    const plain = await cli(['status', '--config', config]);
    assert.match(plain.stdout, /processor\s+behind\s+position\s+retrying\s+given up\s+last failure/);
    assert.match(plain.stdout, /index\s+0\s+.* of .*\s+3\s+0\s+just now [0-9a-f]{64}: ENOTDIR: not a directory/);

    await rm(path.join(dir, 'data', 'processors', 'index'));
    const again = await cli(['run', '--config', config, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).mailboxes[0].new, 0);
    const after = JSON.parse((await cli(['status', '--config', config, '--json'])).stdout).processors.find(
      (p: { processor: string }) => p.processor === 'index',
    );
    assert.deepEqual(
      { retrying: after.retrying, givenUp: after.givenUp, lastFailure: after.lastFailure },
      { retrying: 0, givenUp: 0, lastFailure: null },
    );
  });
});
