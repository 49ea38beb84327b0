import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeSnippet } from '../../lib/parse/snippet.ts';

/** The definition makeSnippet must keep: the whole text collapsed, then cut (it now reads only a prefix). */
function reference(text: string, max: number): string {
  const collapsed = text
    .replace(/[\u0000-\u0008\u000e-\u001f\u007f\u200b\ufeff]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(collapsed.slice(0, max * 2 + 2));
  return chars.length <= max ? chars.join('') : chars.slice(0, max).join('').trimEnd();
}

describe('makeSnippet', () => {
  it('collapses whitespace, drops control characters, cuts at a code point', () => {
    assert.equal(makeSnippet('  Hello,\r\n\r\n\tworld\u0001\u200b!  ', 280), 'Hello, world!');
    assert.equal(makeSnippet('日本語のメール😀です', 7), '日本語のメール');
    assert.equal(makeSnippet('ab😀cd', 3), 'ab😀');
    assert.equal(makeSnippet('word '.repeat(100), 12), 'word word wo');
  });

  it('reads a long body by its prefix, with the result of reading it whole', () => {
    const body = `${' \n'.repeat(5000)}${'本文 '.repeat(60_000)}`;
    assert.equal(makeSnippet(body, 280), reference(body, 280));
    assert.equal(makeSnippet(body, 280).length, 280);
  });

  it('equals the whole-text definition on any text (whitespace runs, surrogates, lone halves)', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.constantFrom(
        ' ',
        '\n\n  ',
        '\t',
        '\u3000',
        ' \u3000 ',
        '\u00a0',
        '\r\n',
        '\u0001',
        '\u200b',
        '\ufeff',
        '😀',
        '\ud800',
        '\udc00',
        '日本語',
        'a'.repeat(50),
        ' '.repeat(700),
      ),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 300 }), fc.integer({ min: 1, max: 300 }), (parts, max) => {
        const text = parts.join('');
        assert.equal(makeSnippet(text, max), reference(text, max));
      }),
      { numRuns: 3000 },
    );
  });
});
