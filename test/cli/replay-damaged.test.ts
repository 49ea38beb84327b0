import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli-helpers.ts';
import { ingestFsArchive, writeFsConfig } from '../helpers/fs-archive.ts';
import { MemoryMaildrop, sampleMessage } from '../helpers/memory-pop3.ts';

describe('replay past a damaged document', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'replay-damaged-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names it on stderr, publishes the others and exits 1', async () => {
    const drop = new MemoryMaildrop();
    for (const n of [1, 2, 3]) drop.add(`uid-${n}`, sampleMessage(n));
    await ingestFsArchive(dir, drop, 3);
    const packs = (await readdir(join(dir, 'raw'), { recursive: true })).filter((f) => f.endsWith('.jsonl'));
    assert.equal(packs.length, 1, packs.join(' '));
    const pack = join(dir, 'raw', packs[0]!);
    const lines = (await readFile(pack, 'utf8')).split('\n');
    lines[1] = lines[1]!.slice(0, 25);
    await writeFile(pack, lines.join('\n'));
    const config = await writeFsConfig(dir);

    const out = await cli(['replay', '--config', config, '--json']);
    assert.equal(out.code, 1, out.stderr);
    const report = JSON.parse(out.stdout) as { replayed: number; skipped: number };
    assert.deepEqual({ replayed: report.replayed, skipped: report.skipped }, { replayed: 2, skipped: 1 });
    assert.match(out.stderr, /skipped the damaged document at raw\/support\/\S+\.jsonl line 2 \(not JSON\); `mail-ingest verify` audits/);
  });
});
