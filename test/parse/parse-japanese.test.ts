import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBytes, decodeDetected } from '../../lib/parse/charset.ts';
import { decodeEncodedWords, decodeUnstructured } from '../../lib/parse/decode-headers.ts';
import { parseAddresses } from '../../lib/parse/addresses.ts';
import { parseMimeValue } from '../../lib/parse/mime-params.ts';

// Byte sequences are written out by hand (from the JIS X 0208 / CP932 tables) so that no decoder or encoder
// under test produces the input: ESC $ B ... ESC ( B is ISO-2022-JP.
const ESC = 0x1b;
const jisBytes = (...pairs: number[]): Buffer => Buffer.from([ESC, 0x24, 0x42, ...pairs, ESC, 0x28, 0x42]);
// あ = JIS 0x2422, SJIS 0x82A0, EUC 0xA4A2; ① = JIS 0x2D21 (NEC row 13), SJIS 0x8740; ㈱ = JIS 0x2D6A, SJIS 0x878A;
// 髙 = JIS 0x7C62 (NEC-selected IBM row 92), SJIS 0xFBFC (IBM) / 0xEEE0 (NEC-selected); 日本 = JIS 0x467C 0x4B5C.
const A_JIS = [0x24, 0x22];

describe('charset decoding (bodies and encoded words)', () => {
  it('decodes ISO-2022-JP including the NEC row 13 and NEC-selected IBM extension characters (CP50220)', () => {
    assert.equal(decodeBytes(jisBytes(...A_JIS, 0x2d, 0x21, 0x2d, 0x6a, 0x7c, 0x62), 'ISO-2022-JP'), 'あ①㈱髙');
  });

  it('maps JIS 0x2141 / SJIS 0x8160 to FULLWIDTH TILDE U+FF5E and 0x815C to HORIZONTAL BAR U+2015, as Windows shows them', () => {
    assert.equal(decodeBytes(jisBytes(0x21, 0x41), 'iso-2022-jp'), '\uFF5E');
    assert.equal(
      decodeBytes(Buffer.from([0x81, 0x60, 0x81, 0x5c, 0x81, 0x61, 0x81, 0x7c, 0x81, 0xca]), 'Shift_JIS'),
      '\uFF5E\u2015\u2225\uFF0D\uFFE2',
    );
  });

  for (const label of ['shift_jis', 'Shift-JIS', 'x-sjis', 'sjis', 'cp932', 'windows-31j', 'MS932', '"Shift_JIS"']) {
    it(`decodes the ${label} label as CP932 (NEC and IBM extensions included)`, () => {
      assert.equal(decodeBytes(Buffer.from([0x82, 0xa0, 0x87, 0x40, 0x87, 0x8a, 0xfb, 0xfc, 0xee, 0xe0]), label), 'あ①㈱髙髙');
    });
  }

  for (const label of ['EUC-JP', 'euc-jp', 'x-euc-jp', 'eucJP']) {
    it(`decodes the ${label} label`, () => {
      assert.equal(decodeBytes(Buffer.from([0xc6, 0xfc, 0xcb, 0xdc, 0xa4, 0xa2, 0xad, 0xa1]), label), '日本あ①');
    });
  }

  it('accepts the csISO2022JP alias and ISO-2022-JP escapes under a Shift_JIS label', () => {
    assert.equal(decodeBytes(jisBytes(0x46, 0x7c, 0x4b, 0x5c), 'csISO2022JP'), '日本');
    assert.equal(decodeBytes(jisBytes(0x46, 0x7c, 0x4b, 0x5c), 'shift_jis'), '日本');
  });

  it('falls back to detection for a missing, unknown or lying label instead of replacement characters', () => {
    const sjis = Buffer.from([0x83, 0x65, 0x83, 0x58, 0x83, 0x67, 0x93, 0xfa, 0x96, 0x7b]); // テスト日本
    assert.equal(decodeBytes(sjis, 'x-klingon'), 'テスト日本');
    assert.equal(decodeBytes(sjis, 'utf-8'), 'テスト日本');
    assert.equal(decodeBytes(sjis, undefined), 'テスト日本');
    assert.equal(decodeBytes(Buffer.from('日本語', 'utf8'), 'us-ascii'), '日本語');
  });

  it('decodes UTF-7 (RFC 2152) as Outlook and Thunderbird show it, "+-" included; IMAP\'s modified UTF-7 is not a mail charset', () => {
    assert.equal(decodeBytes(Buffer.from('Fr+APY-sche'), 'utf-7'), 'Frösche');
    assert.equal(decodeBytes(Buffer.from('Hi Mom -+Jjo--! 1 +- 1'), 'UNICODE-1-1-UTF-7'), 'Hi Mom -☺-! 1 + 1');
    assert.equal(decodeBytes(Buffer.from('+ZeVnLIqe-'), 'utf-7'), '日本語');
    assert.equal(decodeBytes(Buffer.from('Fr&APY-sche'), 'utf-7-imap'), 'Fr&APY-sche');
  });

  it('reads nearly valid UTF-8 (one stray or cut byte) as UTF-8 with one replacement character, not windows-1252', () => {
    assert.equal(decodeDetected(Buffer.from([...Buffer.from('Zoë Müller'), 0xff])), 'Zoë Müller\uFFFD');
    assert.equal(
      decodeDetected(Buffer.concat([Buffer.from('山田'), Buffer.from('太').subarray(0, 2), Buffer.from(' 様')])),
      '山田\uFFFD 様',
    );
    assert.equal(decodeBytes(Buffer.from([...Buffer.from('Jöhn '), 0x80, ...Buffer.from(' Dœ')]), 'utf-8'), 'Jöhn \uFFFD Dœ');
    // Latin-1 has no valid multibyte sequence: still windows-1252.
    assert.equal(decodeDetected(Buffer.from('M\xfcller caf\xe9', 'latin1')), 'Müller café');
  });

  it('decodes Latin text that is not Japanese as windows-1252, not as stray kanji', () => {
    assert.equal(decodeDetected(Buffer.from('Forma\xe7\xe3o Ver\xe3o', 'latin1')), 'Formação Verão');
    assert.equal(decodeDetected(Buffer.from('It\x92s here', 'latin1')), 'It’s here');
  });

  it('tells Shift_JIS from EUC-JP by what reads as Japanese', () => {
    assert.equal(decodeDetected(Buffer.from([0x8e, 0x52, 0x93, 0x63, 0x91, 0xbe, 0x98, 0x59])), '山田太郎');
    assert.equal(decodeDetected(Buffer.from([0xbb, 0xb3, 0xc5, 0xc4, 0xc2, 0xc0, 0xcf, 0xba])), '山田太郎');
  });
});

describe('RFC 2047 encoded words', () => {
  it('joins adjacent words at the byte level, so a character split across two words comes out whole', () => {
    // 日本 in UTF-8 is E6 97 A5 E6 9C AC: split after the fourth byte, inside 本.
    const first = Buffer.from([0xe6, 0x97, 0xa5, 0xe6]).toString('base64');
    const second = Buffer.from([0x9c, 0xac]).toString('base64');
    assert.equal(decodeEncodedWords(`=?UTF-8?B?${first}?=\r\n =?utf-8?B?${second}?=`), '日本');
  });

  it('joins a Shift_JIS character split across a B word and a Q word', () => {
    const w1 = Buffer.from([0x82]).toString('base64');
    assert.equal(decodeEncodedWords(`=?Shift_JIS?B?${w1}?= =?shift_jis?Q?=A0?=`), 'あ');
  });

  it('decodes ISO-2022-JP words with NEC and IBM extensions', () => {
    assert.equal(decodeEncodedWords(`=?ISO-2022-JP?B?${jisBytes(0x2d, 0x21, 0x7c, 0x62).toString('base64')}?=`), '①髙');
  });

  it('keeps the whitespace between an encoded word and plain text, drops it between two words', () => {
    assert.equal(decodeEncodedWords('Re: =?UTF-8?Q?caf=C3=A9?= =?UTF-8?Q?_ok?= done'), 'Re: café ok done');
  });

  it('leaves malformed words alone and survives unknown charsets', () => {
    assert.equal(decodeEncodedWords('=?UTF-8?X?abc?= and =?broken'), '=?UTF-8?X?abc?= and =?broken');
    assert.equal(decodeEncodedWords('=?x-unknown?Q?plain?='), 'plain');
  });
});

describe('raw (non-RFC 2047) Japanese headers', () => {
  it('decodes ISO-2022-JP escape sequences straight in a header', () => {
    assert.equal(decodeUnstructured(Buffer.concat([Buffer.from('Re: '), jisBytes(0x46, 0x7c, 0x4b, 0x5c)])), 'Re: 日本');
  });

  it('decodes 8-bit Shift_JIS, EUC-JP and UTF-8 straight in a header', () => {
    assert.equal(decodeUnstructured(Buffer.from([0x82, 0xa0, 0x81, 0x60])), 'あ～');
    assert.equal(decodeUnstructured(Buffer.from([0xa4, 0xa2, 0xa4, 0xa4, 0xa4, 0xa6])), 'あいう');
    assert.equal(decodeUnstructured(Buffer.from('件名 ✓', 'utf8')), '件名 ✓');
  });

  it('uses the message charset as the hint for raw bytes detection cannot place', () => {
    assert.equal(decodeUnstructured(Buffer.from([0x82, 0xa0]), 'Shift_JIS'), 'あ');
    assert.equal(decodeUnstructured(Buffer.from('caf\xe9', 'latin1'), 'iso-8859-1'), 'café');
  });

  it('parses a raw ISO-2022-JP display name whose bytes contain address syntax characters', () => {
    // 佐藤 = JIS 0x3A34 0x4623; "<" (0x3C) and '"' (0x22) bytes inside an escape sequence are not syntax.
    const name = Buffer.from([ESC, 0x24, 0x42, 0x3a, 0x34, 0x46, 0x23, 0x3c, 0x22, ESC, 0x28, 0x42]);
    const list = parseAddresses([Buffer.concat([name, Buffer.from(' <Sato@Example.JP>, other@example.com')])]);
    assert.equal(list.length, 2);
    assert.equal(list[0]!.address, 'Sato@example.jp');
    assert.match(list[0]!.name, /^佐藤/);
    assert.deepEqual(list[1], { name: '', address: 'other@example.com' });
  });
});

describe('addresses', () => {
  it('flattens groups and drops empty ones (undisclosed-recipients)', () => {
    assert.deepEqual(parseAddresses([Buffer.from('undisclosed-recipients:;')]), []);
    assert.deepEqual(parseAddresses([Buffer.from('Team: a@example.com, B <b@EXAMPLE.com>;, c@example.com')]), [
      { name: '', address: 'a@example.com' },
      { name: 'B', address: 'b@example.com' },
      { name: '', address: 'c@example.com' },
    ]);
  });

  it('never lets an encoded word in a display name become an address (RFC 2047 5)', () => {
    const list = parseAddresses([Buffer.from('=?utf-8?Q?=22x=22_=3Cceo=40bank=2Ecom=3E?= <real@example.com>')]);
    assert.deepEqual(list, [{ name: '"x" <ceo@bank.com>', address: 'real@example.com' }]);
  });

  it('keeps a value that is not an address as a name with an empty address', () => {
    assert.deepEqual(parseAddresses([Buffer.from('Customer Support')]), [{ name: 'Customer Support', address: '' }]);
    assert.deepEqual(parseAddresses([Buffer.from('')]), []);
    assert.deepEqual(
      parseAddresses([Buffer.from('<<<>>>,,;;"')]).filter((a) => a.address !== ''),
      [],
    );
  });
});

describe('RFC 2231 parameters', () => {
  it('joins continuations and decodes the charset (UTF-8, ISO-2022-JP, Shift_JIS)', () => {
    const utf8 = Buffer.from('請求書.pdf');
    const pct = (b: Buffer) => [...b].map((c) => `%${c.toString(16).padStart(2, '0')}`).join('');
    const v = parseMimeValue(`attachment; filename*0*=UTF-8''${pct(utf8.subarray(0, 4))}; filename*1*=${pct(utf8.subarray(4))}`);
    assert.equal(v.value, 'attachment');
    assert.equal(v.params.get('filename'), '請求書.pdf');
    assert.equal(parseMimeValue(`attachment; filename*=ISO-2022-JP'ja'${pct(jisBytes(0x2d, 0x21))}.txt`).params.get('filename'), '①.txt');
    assert.equal(parseMimeValue(`attachment; filename*=shift_jis''%81%60.xls`).params.get('filename'), '\uFF5E.xls');
  });

  it('decodes an RFC 2047 word in a quoted filename (non-standard, but what mailers send)', () => {
    assert.equal(
      parseMimeValue(`attachment; filename="=?UTF-8?B?${Buffer.from('添付.zip').toString('base64')}?="`).params.get('filename'),
      '添付.zip',
    );
  });

  it('keeps ";" inside quotes and ignores junk parameters', () => {
    const v = parseMimeValue('text/plain; name="a;b.txt"; ; =x; charset=utf-8');
    assert.equal(v.params.get('name'), 'a;b.txt');
    assert.equal(v.params.get('charset'), 'utf-8');
  });
});

describe('malformed encoded words', () => {
  it('leaves a B-encoded word with characters outside base64 as literal text, as mail clients do', async () => {
    const { decodeEncodedWords } = await import('../../lib/parse/decode-headers.ts');
    assert.equal(decodeEncodedWords('=?x-unknown-charset?B?!!!not-base64?='), '=?x-unknown-charset?B?!!!not-base64?=');
    assert.equal(decodeEncodedWords('Re: =?UTF-8?B?5pel5pys6Kqe?='), 'Re: 日本語', 'unpadded valid base64 still decodes');
  });
});
