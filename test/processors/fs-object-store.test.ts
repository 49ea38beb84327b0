import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore, fsRawOpener } from '../../lib/processors/fs-object-store.ts';
import { PreconditionFailedError } from '../../lib/processors/object-store.ts';
import { TicketIntake } from '../../lib/processors/tickets.ts';
import { makeDoc } from './doc-factory.ts';

describe('FsObjectStore (processors from the CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-object-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes, reads and honours ifNoneMatch / ifMatch like S3', async () => {
    const store = new FsObjectStore(dir);
    const { etag } = await store.put('a/b.json', '{"v":1}', { ifNoneMatch: '*' });
    await assert.rejects(store.put('a/b.json', 'x', { ifNoneMatch: '*' }), PreconditionFailedError);
    await assert.rejects(store.put('a/b.json', 'x', { ifMatch: '"stale"' }), PreconditionFailedError);
    await store.put('a/b.json', '{"v":2}', { ifMatch: etag });
    assert.equal((await store.get('a/b.json'))!.body.toString(), '{"v":2}');
    assert.equal(await store.get('missing.json'), null);
    assert.equal(await store.exists('a/b.json'), true);
  });

  it("writes extracted content privately (mode 0600), leaving no temp file behind, like the archive's own files", async () => {
    const store = new FsObjectStore(dir);
    await store.put('attachments/sha256/abc', Buffer.from('attachment bytes'));
    assert.equal(statSync(join(dir, 'attachments/sha256/abc')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'attachments/sha256')), ['abc']);
  });

  it('refuses keys that escape the folder', async () => {
    const store = new FsObjectStore(dir);
    await assert.rejects(store.put('../escape', 'x'), /escapes the store folder/);
    await assert.rejects(fsRawOpener(dir)({ key: '../../etc/passwd' }), /escapes the archive folder/);
  });

  it('runs ticket intake over a folder', async () => {
    const store = new FsObjectStore(join(dir, 'tickets'));
    const intake = new TicketIntake(store);
    const a = await intake.process(makeDoc({ messageId: '<f1@x>' }));
    const b = await intake.process(makeDoc({ messageId: '<f2@x>', inReplyTo: '<f1@x>' }));
    assert.equal(b.action, 'commented');
    const ticket = JSON.parse(readFileSync(join(dir, 'tickets', `${(a as { ticketId: string }).ticketId}.json`), 'utf8'));
    assert.equal(ticket.comments.length, 2);
  });
});
