import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { printable, printableLines, table, terminalJson } from '../../lib/cli/format.ts';

describe('terminal-safe output', () => {
  it('printable shows C0, DEL, C1 and bidi controls as escapes and leaves other text, Japanese included, alone', () => {
    assert.equal(printable('a\x1b[2Jb\x07\x7f\u009b\u202eZ'), 'a\\x1b[2Jb\\x07\\x7f\\x9b\\u{202e}Z');
    assert.equal(printable('件名: 見積書 (café)'), '件名: 見積書 (café)');
    assert.equal(printable('tab\there\nline'), 'tab\\x09here\\x0aline');
  });

  it('table escapes every cell, so a server string cannot move the cursor', () => {
    const out = table(['word'], [['X-\x1b]0;t\x07']]);
    assert.doesNotMatch(out, /\x1b|\x07/);
    assert.match(out, /X-\\x1b\]0;t\\x07/);
  });

  it('terminalJson escapes DEL, C1 and bidi controls that JSON.stringify writes raw, and decodes to the same value', () => {
    const value = { s: 'a\u009b2J\u007f\u202e\x1b', n: 1 };
    const text = terminalJson(value);
    assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
    assert.deepEqual(JSON.parse(text), value);
  });
});

describe('multi-line messages', () => {
  it('printableLines keeps the line breaks of a message and escapes everything else', () => {
    assert.equal(printableLines('problems:\n  a\x1b[1m\n  b'), 'problems:\n  a\\x1b[1m\n  b');
  });
});
