import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ParsePool } from '../../lib/ingest/parse-pool.ts';
import { parseMessage } from '../../lib/parse/parse-message.ts';

const japanese = Buffer.from(
  [
    'From: Yamada <yamada@example.jp>',
    'To: support@example.jp',
    // 四半期報告 (quarterly report) as Japanese mailers send it: an ISO-2022-JP encoded word.
    'Subject: =?ISO-2022-JP?B?GyRCO01IPjR8SnM5cBsoQg==?=',
    'Message-ID: <m1@example.jp>',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    '見積書を添付します。',
    '--b',
    'Content-Type: application/pdf; name="mitsumori.pdf"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="mitsumori.pdf"',
    '',
    Buffer.from('%PDF-1.4 not really').toString('base64'),
    '--b--',
    '',
  ].join('\r\n'),
);

describe('the parse pool (a worker thread for mailparser)', () => {
  const pools: ParsePool[] = [];
  const pool = (url?: URL | null): ParsePool => {
    const p = url === undefined ? new ParsePool() : new ParsePool(url);
    pools.push(p);
    return p;
  };
  after(async () => {
    for (const p of pools) await p.close();
  });

  it('runs in a worker and gives exactly what parseMessage gives in-process', async () => {
    const p = pool();
    assert.equal(p.threaded, true);
    const plain = Buffer.from('Subject: hello\r\nFrom: a@example.com\r\n\r\nbody\r\n');
    const [a, b] = await Promise.all([p.parse(japanese), p.parse(plain)]);
    assert.deepEqual(a, await parseMessage(Readable.from([japanese])));
    assert.deepEqual(b, await parseMessage(Readable.from([plain])));
    assert.equal(a.subject, '四半期報告');
    assert.equal(a.attachments[0]?.filename, 'mitsumori.pdf');
  });

  it('a worker that dies costs the parses it held their bodies, never the message: headers are parsed here', async () => {
    const p = pool(new URL('data:text/javascript,process.exit(3)'));
    const parsed = await p.parse(japanese);
    assert.equal(parsed.subject, '四半期報告');
    assert.equal(parsed.messageId, '<m1@example.jp>');
    assert.deepEqual(parsed.attachments, []);
    assert.match(parsed.parseError ?? '', /parser exited with code 3/);
  });

  it('parses in-process when there is no worker file', async () => {
    const p = pool(null);
    assert.equal(p.threaded, false);
    assert.deepEqual(await p.parse(japanese), await parseMessage(Readable.from([japanese])));
  });
});
