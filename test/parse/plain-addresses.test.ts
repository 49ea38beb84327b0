import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsedAddresses, plainAddresses } from '../../lib/parse/addresses.ts';
import { decodeRawHeader } from '../../lib/parse/decode-headers.ts';
import { HeaderMap, parseHeaderBlock } from '../../lib/parse/header-block.ts';
import { corpusDir, corpusSkip } from './corpus-location.ts';

const FIXTURES = new URL('../fixtures/messages/', import.meta.url).pathname;
const FIELDS = ['from', 'to', 'cc', 'bcc', 'reply-to', 'sender'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.(eml|msg|txt)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

function headerTexts(paths: readonly string[]): string[] {
  return paths.flatMap((file) => {
    const h = new HeaderMap(parseHeaderBlock(readFileSync(file)).headers);
    return FIELDS.flatMap((name) => h.all(name).map((raw) => decodeRawHeader(raw, null)));
  });
}

/** The shortcut either declines or gives what the full parser gives; returns how many it took. */
function agree(texts: readonly string[]): number {
  let taken = 0;
  for (const text of texts) {
    const plain = plainAddresses(text);
    if (plain === null) continue;
    taken++;
    assert.deepEqual(plain, parsedAddresses(text), JSON.stringify(text));
  }
  return taken;
}

describe('plain address headers read without the full parser', () => {
  it('gives what the full parser gives on every address header of the fixtures', () => {
    const texts = headerTexts(files(FIXTURES));
    const taken = agree(texts);
    assert.ok(taken > 50 && taken < texts.length, `${taken} of ${texts.length} headers taken the short way`);
  });

  it('gives what the full parser gives on the real-world corpus', { skip: corpusSkip }, () => {
    const texts = headerTexts(files(corpusDir));
    assert.ok(agree(texts) > 0);
  });

  it('gives what the full parser gives on generated headers, and declines what it cannot read', () => {
    const names = [
      '',
      'John',
      'John Smith',
      'John  Smith',
      ' John ',
      "O'Brien",
      'Mary-Jane',
      'J. Smith',
      'j_smith',
      '"John Smith"',
      '"Smith, John"',
      '"  spaced  "',
      '""',
      '"J. R. R."',
      'A1',
      '-x',
      "x'",
      '"a\\"b"',
      'Jöhn',
      '=?utf-8?q?J=C3=B6hn?=',
      '(c) John',
      'John\t Smith',
    ];
    const addrs = [
      'a@b.example',
      'A.B@Example.COM',
      'first.last+tag@sub.example.co.jp',
      'x%y@b.example',
      'a@b',
      'a..b@b.example',
      '.a@b.example',
      'a@-b.example',
      'a@b-.example',
      'a@b.example.',
      'a@[10.0.0.1]',
      'a b@c.example',
      '"q"@b.example',
      'a@b.ex_ample',
      'user@xn--bcher-kva.example',
      'a@b.c',
      '_@b.example',
      'a-@b.example',
    ];
    const seps = [',', ', ', ' , ', ',,', ';', ',\t'];
    let seed = 11;
    const pick = <T>(xs: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return xs[(seed >>> 16) % xs.length]!;
    };
    const mailbox = (): string => {
      const name = pick(names);
      const addr = pick(addrs);
      const form = pick([0, 1, 1, 2]);
      return form === 0
        ? addr
        : form === 1
          ? `${name} <${addr}>`
          : `${pick(['', ' ', '\t'])}${name}${pick(['', ' ', '  '])}<${addr}>${pick(['', ' '])}`;
    };
    const texts: string[] = [];
    for (let i = 0; i < 6000; i++) {
      let text = mailbox();
      for (let k = pick([0, 0, 1, 2]); k > 0; k--) text += pick(seps) + mailbox();
      if (pick([0, 0, 0, 1]) === 1) text += pick([',', ' ', ', ']);
      texts.push(text);
    }
    const taken = agree(texts);
    assert.ok(taken > 500 && taken < 5500, `${taken} of 6000 taken the short way`);
  });
});
