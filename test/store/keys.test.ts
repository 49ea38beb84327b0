import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hashUidl, metadataKeyFor, normalizePrefix, parseRawKey, rawKey } from '../../lib/store/keys.ts';

const SHA = 'ab'.repeat(32);

describe('store keys', () => {
  it('builds raw/<mailbox>/<yyyy>/<mm>/<dd>/<sha256>.eml from the UTC date', () => {
    // 23:30 on Dec 31 in Tokyo is still Dec 31 UTC 14:30; 08:59 JST on Jan 1 is Dec 31 UTC.
    assert.equal(rawKey('support', new Date('2025-01-01T08:59:00+09:00'), SHA), `raw/support/2024/12/31/${SHA}.eml`);
    assert.equal(rawKey('support', new Date('2025-01-01T09:00:00+09:00'), SHA), `raw/support/2025/01/01/${SHA}.eml`);
  });

  it('puts the prefix in front, normalizing slashes', () => {
    const d = new Date('2025-03-04T00:00:00Z');
    assert.equal(rawKey('m', d, SHA, 'tenant-a'), `tenant-a/raw/m/2025/03/04/${SHA}.eml`);
    assert.equal(rawKey('m', d, SHA, '/tenant-a/x/'), `tenant-a/x/raw/m/2025/03/04/${SHA}.eml`);
    assert.equal(rawKey('m', d, SHA, ''), `raw/m/2025/03/04/${SHA}.eml`);
    assert.equal(normalizePrefix('///'), '');
    for (const bad of ['a//b', 'a/../b', './a', 'a/.']) assert.throws(() => normalizePrefix(bad), TypeError, bad);
  });

  it('validates the mailbox id, the sha256 and the date', () => {
    const d = new Date('2025-03-04T00:00:00Z');
    for (const id of ['', '..', '../x', 'a/b', '-x', 'a'.repeat(65)]) assert.throws(() => rawKey(id, d, SHA), /invalid mailbox id/, id);
    for (const sha of ['', 'AB'.repeat(32), 'ab'.repeat(31), `${'ab'.repeat(31)}zz`])
      assert.throws(() => rawKey('m', d, sha), /invalid sha256/, sha);
    assert.throws(() => rawKey('m', new Date('nope'), SHA), /invalid date/);
  });

  it('metadataKeyFor swaps .eml for .json and refuses other keys', () => {
    assert.equal(metadataKeyFor(`raw/m/2025/03/04/${SHA}.eml`), `raw/m/2025/03/04/${SHA}.json`);
    assert.throws(() => metadataKeyFor('raw/m/x.json'), TypeError);
  });

  it('parseRawKey inverts rawKey, prefix included (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
        fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.stringMatching(/^[0-9a-f]{64}$/),
        fc.constantFrom('', 'p', 'a/b-c'),
        (mailbox, date, sha, prefix) => {
          const parsed = parseRawKey(rawKey(mailbox, date, sha, prefix));
          assert.ok(parsed);
          assert.equal(parsed.mailbox, mailbox);
          assert.equal(parsed.sha256, sha);
          assert.equal(parsed.prefix, prefix);
          assert.equal(parsed.date.toISOString().slice(0, 10), date.toISOString().slice(0, 10));
        },
      ),
    );
  });

  it('parseRawKey returns null for anything else', () => {
    for (const key of [
      `raw/m/2025/02/30/${SHA}.eml`,
      `raw/m/2025/13/01/${SHA}.eml`,
      `raw/m/2025/1/01/${SHA}.eml`,
      `raw/../2025/01/01/${SHA}.eml`,
      `raw/m/2025/01/01/${SHA}.json`,
      `raw/m/2025/01/01/${SHA.toUpperCase()}.eml`,
      'raw/m/2025/01/01/x.eml',
      '',
      `raw/m/2025/01/01/${SHA}.eml.tmp`,
    ])
      assert.equal(parseRawKey(key), null, key);
  });

  it('hashUidl is a stable hex sha256 that separates mailbox and UIDL unambiguously', () => {
    const h = hashUidl('support', 'UID1');
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(h, hashUidl('support', 'UID1'));
    assert.notEqual(hashUidl('a', 'bc'), hashUidl('ab', 'c'));
    assert.notEqual(hashUidl('support', 'uid1'), h, 'UIDLs are case-sensitive');
  });
});
