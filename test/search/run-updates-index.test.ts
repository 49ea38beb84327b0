import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { dovecotSkipReason, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { mail, tempDir } from '../e2e/e2e-helpers.ts';
import { cli, localMailbox, writeCliConfig } from '../cli/cli-helpers.ts';
import { SearchDb, counts, parseSearchQuery, search } from '../../lib/search/index.ts';

const skip = dovecotSkipReason();

describe('mail-ingest run keeps an existing search index current (Dovecot)', { skip: skip ?? false }, () => {
  let dovecot: DovecotServer;
  let t: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  before(async () => {
    dovecot = await startDovecot();
    t = await tempDir('mi-run-index-');
    await dovecot.seed('alice', [mail(1), mail(2)]);
    config = await writeCliConfig(t.dir, [
      localMailbox({ id: 'support', port: dovecot.tlsPort, ca: dovecot.caFile, password: { env: 'ALICE_PW' } }),
    ]);
  });
  after(async () => {
    await dovecot?.stop();
    await t?.remove();
  });

  const indexFile = () => path.join(t.dir, 'data', 'search.sqlite');
  const env = { ALICE_PW: 'secret-alice' };

  it('a run makes no index for a user who never searches', async () => {
    const r = await cli(['run', '--config', config], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(indexFile()), false);
  });

  it('once `index` made one, each run adds what it archived, bodies included', async () => {
    const made = await cli(['index', '--config', config, '--json'], { env });
    assert.equal(made.code, 0, made.stderr);
    assert.equal(JSON.parse(made.stdout).documents, 2);
    await dovecot.seed('alice', [mail(3, { extra: 'X-Note: third' })]);
    const r = await cli(['run', '--config', config, '--verbose'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /search index: 1 documents added or changed, 3 in all/);
    const index = SearchDb.open(indexFile(), { readOnly: true });
    try {
      assert.deepEqual(counts(index), { documents: 3, pendingBodies: 0 });
      assert.deepEqual(
        search(index, parseSearchQuery(new URLSearchParams({ q: 'line of message 3' }))).hits.map((h) => h.subject),
        ['request 3'],
      );
    } finally {
      index.close();
    }
  });

  it('index --rebuild recreates it from the archive with the same documents', async () => {
    const r = await cli(['index', '--config', config, '--rebuild', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.deepEqual(
      { rebuilt: summary.rebuilt, documents: summary.documents, pending: summary.pendingBodies },
      { rebuilt: true, documents: 3, pending: 0 },
    );
  });
});
