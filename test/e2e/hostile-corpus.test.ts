/**
 * Every hostile message (test/fixtures/messages) and every message of the shared real-world corpus, served by a
 * real Dovecot, goes through the whole pipeline in one run: none crashes or hangs it, each is archived byte for
 * byte as the server sent it, and each gets a valid metadata document (parseError set where parsing failed).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { metadataDocumentSchema } from '../../lib/document/metadata-schema.ts';
import { dovecotSkipReason, startDovecot, toCrlf, type DovecotServer } from '../helpers/dovecot.ts';
import { dovecotJob, runInto, sha256, storedShas, tempDir } from './e2e-helpers.ts';

const skip = dovecotSkipReason();
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/messages');
const CORPUS = path.resolve(import.meta.dirname, '../../../shared/corpus');

async function emlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.eml')) out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

describe('hostile and real-world mail through the whole pipeline (real Dovecot, fs store)', { skip: skip ?? false }, () => {
  let dovecot: DovecotServer;
  before(async () => {
    dovecot = await startDovecot({
      users: [
        { user: 'fixtures', password: 'pw-f' },
        { user: 'corpus', password: 'pw-c' },
      ],
    });
  });
  after(async () => {
    await dovecot?.stop();
  });

  const ingestAll = async (user: string, files: string[]): Promise<void> => {
    const messages = await Promise.all(files.map((f) => readFile(f)));
    await dovecot.seed(user, messages);
    const t = await tempDir('e2e-hostile-');
    try {
      const job = dovecotJob(dovecot, user, { maxMessageBytes: 50 * 1024 * 1024 });
      const s = await runInto(t.dir, job);
      assert.equal(s.ok, true, JSON.stringify(s.error));
      assert.equal(s.failed, 0);
      // What the server sends for a Maildir file: Dovecot turns bare LF into CRLF (and serves an empty file as one
      // empty line); identical files collapse to one object.
      const served = (m: Buffer): Buffer => (m.length === 0 ? Buffer.from('\r\n') : toCrlf(m));
      const expected = [...new Set((await dovecot.maildirMessages(user)).map((m) => sha256(served(m))))].sort();
      assert.deepEqual(await storedShas(t.dir), expected, 'every message archived byte for byte');
      const lines = (await readFile(path.join(t.dir, 'events.jsonl'), 'utf8')).trim().split('\n');
      assert.equal(lines.length, files.length, 'every message published');
      for (const line of lines) metadataDocumentSchema.parse(JSON.parse(line));
    } finally {
      await t.remove();
    }
  };

  it('the project fixtures (nested 30 deep, 2 MB header, no headers, NUL bytes, 1,000 parts, raw Japanese headers...)', async () => {
    await ingestAll('fixtures', await emlFiles(FIXTURES));
  });

  it('the shared corpus of real-world and broken messages', {
    skip: existsSync(CORPUS) ? false : `no shared corpus at ${CORPUS} (a user's clone does not have it)`,
  }, async () => {
    await ingestAll('corpus', await emlFiles(CORPUS));
  });
});
