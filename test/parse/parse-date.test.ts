import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDate } from '../../lib/parse/header-fields.ts';

/** The definition parseDate keeps: comments dropped, whitespace collapsed, then three readings in turn. */
function reference(value: string | null): string | null {
  if (value === null) return null;
  const cleaned = value
    .replace(/\([^()]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!cleaned) return null;
  for (const candidate of [cleaned, cleaned.replace(/^[A-Za-z]{3},?\s*/, ''), cleaned.replace(/\s+[A-Z]{3,4}$/, '')]) {
    const t = Date.parse(candidate);
    if (Number.isFinite(t)) {
      const d = new Date(t);
      const year = d.getUTCFullYear();
      if (year >= 1970 && year <= 9999) return d.toISOString();
    }
  }
  return null;
}

describe('parseDate', () => {
  it('reads RFC 5322 dates, with comments, zone names and stray weekdays', () => {
    assert.equal(parseDate('Tue, 1 Dec 2026 09:30:00 +0900 (JST)'), '2026-12-01T00:30:00.000Z');
    assert.equal(parseDate('Tue,  1 Dec 2026\t09:30:00 +0900'), '2026-12-01T00:30:00.000Z');
    assert.equal(parseDate('1 Dec 2026 09:30:00 GMT'), '2026-12-01T09:30:00.000Z');
    assert.equal(parseDate('Xyz, 1 Dec 2026 09:30:00 +0000'), '2026-12-01T09:30:00.000Z');
    assert.equal(parseDate('1 Dec 1950 09:30:00 +0000'), null);
    assert.equal(parseDate('not a date'), null);
    assert.equal(parseDate('  '), null);
  });

  it('gives what its definition gives on generated dates', () => {
    const piece = fc.constantFrom(
      'Tue,',
      'Mon',
      'Xyz,',
      ' ',
      '  ',
      '\t',
      '\r\n ',
      '1',
      '01',
      '31',
      'Dec',
      'dec',
      '2026',
      '1969',
      '26',
      '09:30',
      '09:30:00',
      '+0900',
      '-0000',
      'GMT',
      'JST',
      'EST',
      'UT',
      '(JST)',
      '(comment (nested))',
      '(',
      ')',
      'x',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const text = parts.join(' ');
        assert.equal(parseDate(text), reference(text), JSON.stringify(text));
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1960-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        fc.constantFrom('', ' (UTC)', ' GMT', '  '),
        (d, tail) => {
          const text = d.toUTCString().replace('GMT', '+0000') + tail;
          assert.equal(parseDate(text), reference(text), text);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
