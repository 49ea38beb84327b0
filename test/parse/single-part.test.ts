import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseMessage } from '../../lib/parse/parse-message.ts';
import { singlePartText } from '../../lib/parse/single-part.ts';
import { findHeaderEnd } from '../../lib/parse/header-block.ts';
import { corpusDir, corpusSkip, toCrlf } from './corpus-location.ts';

/**
 * A message in memory that is one text/plain part is read without mailparser (lib/parse/single-part.ts); a
 * message given as a stream always goes through mailparser. Both must give the same ParsedMessage.
 */
async function assertSameAsMailparser(raw: Buffer, label: string): Promise<void> {
  const viaMailparser = await parseMessage(Readable.from([raw]));
  const inMemory = await parseMessage(raw);
  assert.deepEqual(inMemory, viaMailparser, label);
}

const FIXTURES = join(import.meta.dirname, '../fixtures/messages');

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.eml'))
    .map((e) => join(e.parentPath, e.name));
}

const iso2022 = Buffer.from([0x1b, 0x24, 0x42, 0x46, 0x7c, 0x4b, 0x5c, 0x38, 0x6c, 0x1b, 0x28, 0x42, 0x20, 0x74, 0x65, 0x78, 0x74, 0x0a]);
const sjis = Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x81, 0x60, 0x0a]);
const eucjp = Buffer.from([0xc6, 0xfc, 0xcb, 0xdc, 0xb8, 0xec, 0x0a]);
const utf8 = Buffer.from('日本語のテキスト、確認お願いします。\nSecond line ünïcödé\n');

function qp(bytes: Buffer): Buffer {
  let out = '';
  for (const b of bytes)
    out +=
      b === 0x0a
        ? '\n'
        : b >= 0x21 && b <= 0x7e && b !== 0x3d
          ? String.fromCharCode(b)
          : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return Buffer.from(out.replace(/(.{70})/g, '$1=\n'), 'latin1');
}

function b64(bytes: Buffer): Buffer {
  return Buffer.from(`${bytes.toString('base64').replace(/(.{76})/g, '$1\n')}\n`, 'latin1');
}

function message(headers: string[], body: Buffer, eol: '\n' | '\r\n'): Buffer {
  const head = [
    'From: Sender <sender@example.com>',
    'To: support@example.jp',
    'Subject: =?UTF-8?B?56K66KqN?= test',
    'Date: Wed, 02 Dec 2026 10:00:00 +0900',
    'Message-ID: <m@example.com>',
    ...headers,
  ].join('\n');
  const text = `${head}\n\n`;
  const raw = Buffer.concat([Buffer.from(text, 'latin1'), body]);
  return eol === '\n' ? raw : Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

describe('single-part text read without mailparser (lib/parse/single-part.ts)', () => {
  it('agrees with mailparser on every message of the fixtures', async () => {
    for (const file of files(FIXTURES)) await assertSameAsMailparser(readFileSync(file), file);
  });

  it('agrees with mailparser on every message of the shared corpus', { skip: corpusSkip }, async () => {
    for (const file of files(corpusDir)) await assertSameAsMailparser(toCrlf(readFileSync(file)), file);
  });

  it('agrees with mailparser across charsets, transfer encodings, line ends and odd headers', async () => {
    const bodies: Array<[string, Buffer]> = [
      ['utf-8', utf8],
      ['iso-2022-jp', iso2022],
      ['shift_jis', sjis],
      ['euc-jp', eucjp],
      ['us-ascii', Buffer.from('plain ascii text\n')],
      ['empty', Buffer.alloc(0)],
      ['no final newline', Buffer.from('no newline at the end')],
    ];
    const charsets = ['', 'utf-8', 'UTF-8', '"utf-8"', 'iso-2022-jp', 'shift_jis', 'x-sjis', 'euc-jp', 'us-ascii', 'x-unknown-label'];
    const encodings: Array<[string | null, (b: Buffer) => Buffer]> = [
      [null, (b) => b],
      ['7bit', (b) => b],
      ['8bit', (b) => b],
      ['binary', (b) => b],
      ['base64', b64],
      ['BASE64', b64],
      ['quoted-printable', qp],
      ['Quoted-Printable (comment)', qp],
      ['"base64"', b64],
      ['x-uuencode', (b) => b],
    ];
    let cases = 0;
    for (const [name, body] of bodies) {
      for (const charset of charsets) {
        for (const [cte, encode] of encodings) {
          for (const eol of ['\n', '\r\n'] as const) {
            const headers = [`Content-Type: text/plain${charset ? `; charset=${charset}` : ''}`];
            if (cte !== null) headers.push(`Content-Transfer-Encoding: ${cte}`);
            await assertSameAsMailparser(message(headers, encode(body), eol), `${name} ${charset} ${cte} ${JSON.stringify(eol)}`);
            cases++;
          }
        }
      }
    }
    assert.ok(cases > 1000);
  });

  it('agrees with mailparser where the headers make it another kind of part, or are odd', async () => {
    const body = Buffer.from('Hello,\nthe order has shipped.\n');
    const variants: string[][] = [
      [],
      ['MIME-Version: 1.0'],
      ['Content-Type: TEXT/PLAIN; CHARSET=UTF-8'],
      ['Content-Type: text/plain; charset=utf-8 (a comment)'],
      ['Content-Type: text/plain;\n charset="iso-2022-jp"'],
      ['Content-Type: text/plain; charset=utf-8', 'Content-Type: text/html; charset=utf-8'],
      ['Content-Type: text/html; charset=utf-8', 'Content-Type: text/plain; charset=utf-8'],
      ['Content-Type: text/plain; format=flowed'],
      ['Content-Type: text/plain; format=flowed; delsp=yes'],
      ['Content-Type: text/plain; name="notes.txt"'],
      ['Content-Type: text/plain', 'Content-Disposition: inline'],
      ['Content-Type: text/plain', 'Content-Disposition: attachment; filename="a.txt"'],
      ['Content-Disposition: attachment'],
      ['Content-Type: text/html; charset=utf-8'],
      ['Content-Type: text/calendar; method=REQUEST'],
      ['Content-Type: application/octet-stream'],
      ['Content-Type: message/rfc822'],
      ['Content-Type: multipart/mixed; boundary="x"'],
      ['Content-Type:'],
      ['Content-Type: ;charset=utf-8'],
      ['Content-Transfer-Encoding: base64', 'Content-Transfer-Encoding: 7bit'],
      ['Auto-Submitted: auto-replied', 'Subject: Out of office'],
      ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'],
    ];
    for (const headers of variants) {
      for (const eol of ['\n', '\r\n'] as const) {
        const encoded = headers.some((h) => /base64$/.test(h)) ? b64(body) : body;
        await assertSameAsMailparser(message(headers, encoded, eol), `${headers.join(' | ')} ${JSON.stringify(eol)}`);
      }
    }
  });

  it('agrees with mailparser on damaged encodings and where the text is cut at its cap', async () => {
    const long = Buffer.from('長い本文の一行です。'.repeat(12_000));
    const cases: Array<[string[], Buffer]> = [
      [['Content-Type: text/plain; charset=utf-8'], long],
      [['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'], b64(long)],
      [
        ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'],
        Buffer.from('5pel5pys6Kqe!!\n===\n44OG44Kt\n-_ 44K544OI\n'),
      ],
      [
        ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable'],
        Buffer.from('=E6=97=A5=E6=9C=AC=\n=ZZ=E8=AA=9E =\n=E3'),
      ],
      [['Content-Type: text/plain; charset=iso-2022-jp'], Buffer.from([0x1b, 0x24, 0x42, 0x46, 0x7c, 0x0a, 0x4b])],
      [['Content-Type: text/plain; charset=utf-8'], Buffer.from([0xe6, 0x97, 0xa5, 0xff, 0xfe, 0x0a, 0x93, 0xfa])],
    ];
    for (const [headers, body] of cases) {
      for (const eol of ['\n', '\r\n'] as const)
        await assertSameAsMailparser(message(headers, body, eol), `${headers.join(' | ')} ${JSON.stringify(eol)}`);
    }
  });

  it('reads only single plain text parts, and decodes their charset and transfer encoding', async () => {
    const read = async (raw: Buffer): Promise<string | null> => singlePartText(raw, findHeaderEnd(raw), 256 * 1024);
    assert.equal(await read(message(['Content-Type: text/plain; charset=iso-2022-jp'], iso2022, '\r\n')), '日本語 text\n');
    assert.equal(
      await read(message(['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'], b64(utf8), '\n')),
      utf8.toString(),
    );
    assert.equal(
      await read(message(['Content-Type: text/plain; charset=shift_jis', 'Content-Transfer-Encoding: quoted-printable'], qp(sjis), '\n')),
      '日本語～\n',
    );
    assert.equal(await read(message(['Content-Type: text/html'], Buffer.from('<p>x</p>'), '\n')), null);
    assert.equal(await read(message(['Content-Type: multipart/mixed; boundary=b'], Buffer.from('--b\n\nx\n--b--\n'), '\n')), null);
    assert.equal(await read(message(['Content-Type: text/plain; format=flowed'], Buffer.from('a \nb\n'), '\n')), null);
    assert.equal(
      await read(message(['Content-Type: text/plain', 'Content-Transfer-Encoding: x-uuencode'], Buffer.from('x\n'), '\n')),
      null,
    );
  });
});
