import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseMessage } from '../../lib/parse/parse-message.ts';

const FIXTURES = new URL('../fixtures/messages/', import.meta.url).pathname;

function emlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? emlFiles(join(dir, e.name)) : e.name.endsWith('.eml') ? [join(dir, e.name)] : [],
  );
}

// The pipeline hands a small message over whole; a large one, and every other caller, as a stream.
describe('parseMessage on a Buffer', () => {
  it('gives what it gives on the same bytes as a stream, for every fixture message', async () => {
    const files = emlFiles(FIXTURES);
    assert.ok(files.length > 100, `${files.length} fixtures`);
    for (const file of files) {
      const bytes = readFileSync(file);
      // Chunks of 1 KB for the stream: the Buffer path must not depend on how the bytes arrive.
      const chunks = Array.from({ length: Math.ceil(bytes.length / 1024) }, (_, i) => bytes.subarray(i * 1024, (i + 1) * 1024));
      assert.deepEqual(await parseMessage(bytes), await parseMessage(Readable.from(chunks)), file);
    }
  });

  it('an empty Buffer is an empty message, as an empty stream is', async () => {
    const empty = await parseMessage(Buffer.alloc(0));
    assert.deepEqual(empty, await parseMessage(Readable.from([])));
    assert.equal(empty.parseError, 'empty message');
  });
});
