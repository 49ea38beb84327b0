import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';
import { FsRawStore } from '../../lib/store/fs-store.ts';
import { FsStateStore } from '../../lib/store/fs-state.ts';
import { verifyMailbox } from '../../lib/store/verify-archive.ts';
import { cli } from '../cli/cli-helpers.ts';
import { ingestFsArchive, writeFsConfig } from '../helpers/fs-archive.ts';
import { MemoryMaildrop, sampleMessage } from '../helpers/memory-pop3.ts';

async function ingestInto(dir: string): Promise<MetadataDocument[]> {
  const drop = new MemoryMaildrop();
  drop.add('uid-1', sampleMessage(1));
  drop.add('uid-1-again', sampleMessage(1));
  drop.add('uid-2', sampleMessage(2, { body: '見積書を添付します。' }));
  drop.add('uid-3', sampleMessage(3));
  const store = await ingestFsArchive(dir, drop, 4);
  const docs: MetadataDocument[] = [];
  for await (const d of store.listMetadata()) docs.push(d);
  return docs;
}

describe('mail-ingest verify: the archive re-read against the state and the documents', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'verify-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds nothing wrong in an archive as written', async () => {
    const dir = join(root, 'clean');
    await ingestInto(dir);
    const audit = await verifyMailbox(new FsRawStore({ dir }), new FsStateStore({ dir }), 'support');
    assert.deepEqual(audit.problems, []);
    assert.equal(audit.documents, 4);
    assert.equal(audit.stateEntries, 4);
    assert.equal(audit.rawChecked, 3, 'the twins share one raw message, read once');
  });

  it('reports bit rot, a lost raw file and a lost document, each by kind and key; exits 1 with --json', async () => {
    const dir = join(root, 'damaged');
    const docs = await ingestInto(dir);
    const byUidl = (u: string) => docs.find((d) => d.uidl === u)!;
    // Bit rot in one raw message (same size), another one gone, and the document of a third removed from its pack.
    const rotten = join(dir, byUidl('uid-2').raw.key);
    const bytes = await readFile(rotten);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0x20, bytes.length - 3);
    await writeFile(rotten, bytes);
    await unlink(join(dir, byUidl('uid-1').raw.key));
    const partition = join(dir, byUidl('uid-3').raw.key, '..');
    for (const name of (await readdir(partition)).filter((n) => n.endsWith('.jsonl'))) {
      const lines = (await readFile(join(partition, name), 'utf8'))
        .split('\n')
        .filter((l) => l !== '' && !l.includes(`"id":"${byUidl('uid-3').id}"`));
      await writeFile(join(partition, name), lines.map((l) => `${l}\n`).join(''));
    }

    const config = await writeFsConfig(dir);
    const out = await cli(['verify', '--config', config, '--json']);
    assert.equal(out.code, 1, out.stderr);
    const report = JSON.parse(out.stdout) as {
      ok: boolean;
      mailboxes: Array<{ problems: Array<{ kind: string; key: string; id?: string }> }>;
    };
    assert.equal(report.ok, false);
    const found = report.mailboxes[0]!.problems.map((p) => `${p.kind} ${p.id}`).sort();
    assert.deepEqual(
      found,
      [
        `document-missing ${byUidl('uid-3').id}`,
        `raw-mismatch ${byUidl('uid-2').id}`,
        `raw-missing ${byUidl('uid-1').id}`,
        `raw-missing ${byUidl('uid-1-again').id}`,
      ].sort(),
    );

    const plain = await cli(['verify', '--config', config]);
    assert.equal(plain.code, 1);
    assert.match(
      plain.stdout,
      /support: raw-mismatch raw\/support\/\S+\.eml \(document [0-9a-f]{12}\): stored \d+ bytes sha256 [0-9a-f]{64}; its document says/,
    );
    assert.match(plain.stdout, /the archive does not match: nothing was changed/);
  });

  it('reports a damaged document where it is and goes on with the rest', async () => {
    const dir = join(root, 'damaged-document');
    const docs = await ingestInto(dir);
    const victim = docs.find((d) => d.uidl === 'uid-3')!;
    const partition = join(dir, victim.raw.key, '..');
    let damaged = '';
    for (const name of (await readdir(partition)).filter((n) => n.endsWith('.jsonl'))) {
      const lines = (await readFile(join(partition, name), 'utf8')).split('\n');
      const at = lines.findIndex((l) => l.includes(`"id":"${victim.id}"`));
      if (at < 0) continue;
      lines[at] = lines[at]!.slice(0, 30); // cut short: no longer JSON
      damaged = `${name} line ${at + 1}`;
      await writeFile(join(partition, name), lines.join('\n'));
    }
    assert.ok(damaged !== '');
    const audit = await verifyMailbox(new FsRawStore({ dir }), new FsStateStore({ dir }), 'support');
    assert.deepEqual(
      audit.problems.map((p) => `${p.kind} ${p.id ?? p.key.split('/').pop()}`).sort(),
      [`document-missing ${victim.id}`, `unreadable ${damaged}`].sort(),
    );
    assert.equal(audit.documents, 3, 'the other documents were all read and checked');
  });
});
