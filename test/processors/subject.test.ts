import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseSubject } from '../../lib/processors/subject.ts';

describe('normaliseSubject', () => {
  const cases: Array<[string, string]> = [
    ['Re: Invoice 42', 'invoice 42'],
    ['RE: re: Fwd:  Invoice   42 ', 'invoice 42'],
    ['FW: Invoice 42', 'invoice 42'],
    ['Fwd:Invoice 42', 'invoice 42'],
    ['Re[2]: Invoice 42', 'invoice 42'],
    ['Re(3): Invoice 42', 'invoice 42'],
    ['Re^2: Invoice 42', 'invoice 42'],
    ['AW: WG: Rechnung', 'rechnung'],
    ['SV: Faktura', 'faktura'],
    ['TR: Facture', 'facture'],
    ['返信: 請求書について', '請求書について'],
    ['転送: Re: 見積もりの件', '見積もりの件'],
    // Full-width letters, colon and ideographic space as Japanese IMEs type them.
    ['Ｒｅ：　請求書について', '請求書について'],
    ['RE：返信：請求書について', '請求書について'],
    ['[support 123] Re: Login fails', '[support 123] login fails'],
    ['Re: [support 123] Re: Login fails', '[support 123] login fails'],
  ];
  for (const [input, key] of cases) {
    it(`strips the markers of ${JSON.stringify(input)}`, () => {
      assert.deepEqual(normaliseSubject(input), { key, hadMarker: true });
    });
  }

  it('leaves a subject without markers as it is, lower-cased, and says no marker was found', () => {
    assert.deepEqual(normaliseSubject('  Hello\tWorld '), { key: 'hello world', hadMarker: false });
  });

  it('does not take words that merely begin like a marker for one', () => {
    assert.deepEqual(normaliseSubject('Refund: order 7'), { key: 'refund: order 7', hadMarker: false });
    assert.deepEqual(normaliseSubject('Regarding your order'), { key: 'regarding your order', hadMarker: false });
    assert.deepEqual(normaliseSubject('[重要] 請求書'), { key: '[重要] 請求書', hadMarker: false });
  });

  it('gives an empty key for a missing subject or one that is only markers', () => {
    assert.deepEqual(normaliseSubject(null), { key: '', hadMarker: false });
    assert.deepEqual(normaliseSubject('Re: '), { key: '', hadMarker: true });
  });
});
