import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { claimCheckKey, storeClaimCheck } from '../../lib/publish/claim-check.ts';
import { resolveDocument, ResolveDocumentError } from '../../lib/publish/resolve-document.ts';
import { fakeMetadataDocument, MemoryRawStore } from '../helpers/memory-adapters.ts';

const doc = fakeMetadataDocument({ id: 'a'.repeat(64), subject: '会議の件 😀', snippet: 'x'.repeat(1000) });
const fails = (code: string) => (e: unknown) => e instanceof ResolveDocumentError && e.code === code;

describe('claim checks', () => {
  it('names the stored document after its id under the prefix, hashing ids that are not safe key segments', () => {
    assert.equal(claimCheckKey('', 'abc'), 'claims/abc.json');
    assert.equal(claimCheckKey('out', 'abc'), 'out/claims/abc.json');
    assert.equal(claimCheckKey('out/', 'abc'), 'out/claims/abc.json');
    const hashed = createHash('sha256').update('../x y').digest('hex');
    assert.equal(claimCheckKey('', '../x y'), `claims/${hashed}.json`);
    assert.equal(claimCheckKey('', '..'), `claims/${createHash('sha256').update('..').digest('hex')}.json`);
  });

  it('stores the document and points at it with the SHA-256 and size of the stored bytes', async () => {
    const store = new MemoryRawStore({ kind: 's3', bucket: 'archive' });
    const pointer = await storeClaimCheck(store, 'p/', doc);
    const stored = store.objects.get(`p/claims/${doc.id}.json`)!;
    assert.deepEqual(pointer, {
      claimCheck: {
        bucket: 'archive',
        key: `p/claims/${doc.id}.json`,
        sha256: createHash('sha256').update(stored).digest('hex'),
        size: stored.length,
      },
      id: doc.id,
      mailbox: doc.mailbox,
      schemaVersion: 1,
    });
    assert.deepEqual(JSON.parse(stored.toString('utf8')), doc);
  });
});

describe('resolveDocument', () => {
  const noObjects = { getObject: async () => null };

  it('returns an inline document as it was sent', async () => {
    assert.deepEqual(await resolveDocument(JSON.stringify(doc), noObjects), doc);
  });

  it('fetches, verifies and returns a claim-checked document', async () => {
    const store = new MemoryRawStore({ kind: 's3', bucket: 'archive' });
    const pointer = await storeClaimCheck(store, '', doc);
    const asked: Array<[string, string | undefined]> = [];
    const resolved = await resolveDocument(JSON.stringify(pointer), {
      getObject: async (key, bucket) => {
        asked.push([key, bucket]);
        return store.getObject(key);
      },
    });
    assert.deepEqual(resolved, doc);
    assert.deepEqual(asked, [[`claims/${doc.id}.json`, 'archive']]);
  });

  it('refuses a claimed object whose bytes differ from the pointer (EVERIFY)', async () => {
    const store = new MemoryRawStore({ kind: 's3', bucket: 'archive' });
    const pointer = await storeClaimCheck(store, '', doc);
    const tampered = Buffer.from(JSON.stringify({ ...doc, subject: 'changed' }));
    await assert.rejects(resolveDocument(JSON.stringify(pointer), { getObject: async () => tampered }), fails('EVERIFY'));
  });

  it('refuses a claimed document of another id, even with a matching hash (EVERIFY)', async () => {
    const store = new MemoryRawStore({ kind: 's3', bucket: 'archive' });
    const other = fakeMetadataDocument({ id: 'other' });
    const pointer = await storeClaimCheck(store, '', other);
    await assert.rejects(
      resolveDocument(JSON.stringify({ ...pointer, id: doc.id }), { getObject: (k) => store.getObject(k) }),
      fails('EVERIFY'),
    );
  });

  it('reports a missing claimed object (ENOTFOUND), a malformed pointer and a non-document (EINVALID)', async () => {
    const pointer = { claimCheck: { key: 'claims/x.json', sha256: '0'.repeat(64), size: 2 }, id: 'x', mailbox: 'm', schemaVersion: 1 };
    await assert.rejects(resolveDocument(JSON.stringify(pointer), noObjects), fails('ENOTFOUND'));
    await assert.rejects(resolveDocument(JSON.stringify({ ...pointer, claimCheck: { key: 'k' } }), noObjects), fails('EINVALID'));
    await assert.rejects(resolveDocument(JSON.stringify({ ...doc, schemaVersion: 2 }), noObjects), fails('EINVALID'));
    await assert.rejects(resolveDocument('not json', noObjects), fails('EINVALID'));
    await assert.rejects(resolveDocument('null', noObjects), fails('EINVALID'));
  });
});
