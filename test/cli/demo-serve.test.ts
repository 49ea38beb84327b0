import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { tempDir } from '../e2e/e2e-helpers.ts';
import { cli, startDemoServe, type DemoServe } from './cli-helpers.ts';

/** `demo --serve` as a person tries it: the server in one terminal, the commands in another. */
describe('mail-ingest demo --serve', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let serve: DemoServe;
  const json = async (command: string) => {
    const r = await cli([command, '--config', serve.config, '--json'], { cwd: t.dir });
    assert.equal(r.code, 0, `${command} exited ${r.code}: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'one JSON object on one line');
    return JSON.parse(lines[0]!);
  };

  before(async () => {
    t = await tempDir('demo-serve-');
    serve = await startDemoServe(t.dir);
  });
  after(async () => {
    await serve?.stop();
    await t?.remove();
  });

  it('prints the config it wrote, and check, run and status work against it', async () => {
    assert.match(serve.output(), /a POP3S server on 127\.0\.0\.1:\d+ with 8 messages/);
    assert.equal(JSON.parse(await readFile(serve.config, 'utf8')).mailboxes[0].port, serve.port);
    assert.match(serve.output(), /"retention": "keep"/, 'the config is printed too');
    assert.equal((await json('check')).mailboxes[0].messages, 8);
    assert.equal((await json('run')).mailboxes[0].stored, 8);
    assert.equal((await json('status')).mailboxes[0].ingested, 8);
  });

  it('new mail arrives while it runs; the next run ingests only that', async () => {
    await serve.arrive();
    assert.match(serve.output(), /new mail: .* \(9 on the server\)/);
    const {
      mailboxes: [m],
    } = await json('run');
    assert.deepEqual({ new: m.new, stored: m.stored }, { new: 1, stored: 1 });
  });

  it('retention "delete" empties the server of what is archived, and only that', async () => {
    const raw = JSON.parse(await readFile(serve.config, 'utf8'));
    raw.mailboxes[0].retention = 'delete';
    await writeFile(serve.config, JSON.stringify(raw));
    await serve.arrive();
    const {
      mailboxes: [m],
    } = await json('run');
    assert.deepEqual({ stored: m.stored, deleted: m.deleted }, { stored: 1, deleted: 10 });
    assert.equal((await json('check')).mailboxes[0].messages, 0);
  });

  it('stops cleanly on SIGTERM', async () => {
    assert.equal(await serve.stop(), 0);
    assert.match(serve.output(), /demo server stopped/);
  });
});
