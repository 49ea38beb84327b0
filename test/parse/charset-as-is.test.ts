import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBytes, utf8AsIs } from '../../lib/parse/charset.ts';

const LABELS = [
  null,
  '',
  'utf-8',
  'UTF8',
  '"utf-8"',
  'us-ascii',
  'ascii',
  'x-unknown',
  'iso-8859-1',
  'windows-1252',
  'shift_jis',
  'iso-2022-jp',
  'euc-jp',
  'utf-7',
  'unicode-1-1-utf-7',
];

// Text parts whose bytes are passed on as they are must read exactly as decodeBytes would have read them.
describe('utf8AsIs', () => {
  it('holds only where decodeBytes reads the bytes as UTF-8, and holds for most plain text', () => {
    const bytes = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
      fc.string({ unit: 'binary-ascii', maxLength: 200 }).map((s) => Buffer.from(s, 'latin1')),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc.constantFrom(
        Buffer.from('\ufeffwith a byte order mark', 'utf8'),
        Buffer.from('\x1b$B$3$s$K$A$O\x1b(B', 'latin1'),
        Buffer.from('plain +ZeVnLIqe- text', 'latin1'),
        Buffer.from('caf\xe9', 'latin1'),
        Buffer.alloc(0),
      ),
    );
    let held = 0;
    fc.assert(
      fc.property(bytes, fc.constantFrom(...LABELS), (buf, label) => {
        if (!utf8AsIs(buf, label)) return;
        held++;
        assert.equal(decodeBytes(buf, label), buf.toString('utf8'));
      }),
      { numRuns: 5000 },
    );
    assert.ok(held > 500, `${held} of 5000 held`);
  });

  it('does not hold for text a label asks to be read otherwise', () => {
    assert.equal(utf8AsIs(Buffer.from('plain ascii'), 'utf-7'), false);
    assert.equal(utf8AsIs(Buffer.from('\x1b$B$3$s\x1b(B', 'latin1'), null), false);
    assert.equal(utf8AsIs(Buffer.from('caf\xe9', 'latin1'), 'utf-8'), false);
    assert.equal(utf8AsIs(Buffer.from('日本語', 'utf8'), 'shift_jis'), false);
    assert.equal(utf8AsIs(Buffer.from('日本語', 'utf8'), 'utf-8'), true);
    assert.equal(utf8AsIs(Buffer.from('Hello', 'utf8'), 'us-ascii'), true);
  });
});
