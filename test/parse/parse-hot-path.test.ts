import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { parseMessage } from '../../lib/parse/parse-message.ts';
import { QUOTED_ORIGINAL, hasOriginal } from '../../lib/parse/bounce/detect.ts';

// What every small message goes through: shortcuts taken there must give what the long way gives.
describe('hasOriginal without running the pattern on text that cannot match', () => {
  it('still finds a quoted returned message in any case, with or without dashes', () => {
    for (const text of [
      'Sorry.\n\nBELOW IS A COPY OF THE ORIGINAL MESSAGE:\n\nReceived: x',
      'Sorry.\n\nbelow is a copy of the original message\n',
      'Delivery failed.\n------ This is a copy of the message, including all the headers. ------\n',
      '配信できませんでした。\n--- 元のメッセージ ---\n',
    ]) {
      assert.equal(hasOriginal([], text), true, text);
    }
    assert.equal(hasOriginal([], 'Just a note -- nothing returned here.\n'), false);
    assert.equal(hasOriginal([], 'Plain prose without any dashes at all.\n'), false);
    assert.equal(hasOriginal(['message/rfc822'], ''), true);
  });

  it('agrees with the pattern itself on generated text', () => {
    // Line starts, dash runs, phrases in mixed case and noise, joined at random: both answers come up often.
    const pieces = [
      '\n',
      '\r\n',
      '\n-- ',
      '\n---',
      ' \t--',
      '-',
      ' ',
      'Below is a copy of the original message',
      'BELOW IS A COPY',
      'below is a copy of the ORIGINAL message',
      'Original message',
      'original MESSAGE',
      'This is a copy of the message',
      '元のメッセージ',
      'word',
      'x--y',
    ];
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 16) % n;
    };
    let matched = 0;
    for (let i = 0; i < 5000; i++) {
      let text = '';
      for (let k = next(8); k >= 0; k--) text += pieces[next(pieces.length)];
      const expected = QUOTED_ORIGINAL.test(text);
      if (expected) matched++;
      assert.equal(hasOriginal([], text), expected, JSON.stringify(text));
    }
    assert.ok(matched > 100 && matched < 4900, `${matched} of 5000 matched: the generator covers both answers`);
  });
});

describe('parseMessage builds no errors for mail it reads without trouble', () => {
  it('never ends a finished decoder (mailparser ends each part again at the end: an error object per message)', async () => {
    const multi = Buffer.from(
      'From: a@example.com\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
        '--b\r\nContent-Type: text/plain\r\n\r\nBody text.\r\n' +
        '--b\r\nContent-Type: text/html\r\n\r\n<p>Body text.</p>\r\n' +
        '--b\r\nContent-Type: application/pdf; name="x.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n',
    );
    const single = Buffer.from('From: a@example.com\r\nSubject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello there.\r\n');
    // Writable.end builds ERR_STREAM_ALREADY_FINISHED, stack trace and all, whenever it is called on a finished stream.
    const end = Duplex.prototype.end;
    let calls = 0;
    let onFinished = 0;
    Duplex.prototype.end = function (this: Duplex, ...args: unknown[]) {
      calls++;
      if (this.writableFinished) onFinished++;
      return (end as (...a: unknown[]) => Duplex).apply(this, args);
    } as typeof end;
    try {
      for (let i = 0; i < 5; i++) {
        const a = await parseMessage(single);
        const b = await parseMessage(multi);
        assert.equal(a.parseError, null);
        assert.equal(b.parseError, null);
        assert.equal(b.attachments.length, 1);
        assert.match(b.snippet, /^Body text\./);
      }
    } finally {
      Duplex.prototype.end = end;
    }
    assert.ok(calls > 0, 'the spy saw the parser end its streams');
    assert.equal(onFinished, 0);
  });
});
