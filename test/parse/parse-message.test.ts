import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseFixture } from './parse-helpers.ts';

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

describe('parseMessage: Japanese mail as a mail client shows it', () => {
  it('raw ISO-2022-JP Subject, From, To and attachment filename (no RFC 2047 at all)', async () => {
    const m = await parseFixture('raw-iso2022jp-headers.eml');
    assert.equal(m.subject, '会議のお知らせ①㈱髙');
    assert.deepEqual(m.from, [{ name: '山田太郎', address: 'Taro.Yamada@example.co.jp' }]);
    assert.deepEqual(m.to, [
      { name: '鈴木', address: 'suzuki@example.jp' },
      { name: '佐藤', address: 'sato@example.jp' },
    ]);
    assert.equal(m.attachments[0]?.filename, '見積書.pdf');
    assert.equal(m.snippet, '本文です。');
    assert.equal(m.date, '2024-01-03T00:00:00.000Z');
    assert.equal(m.parseError, null);
  });

  it('raw 8-bit Shift_JIS From and Subject, with CP932 ～', async () => {
    const m = await parseFixture('raw-sjis-from.eml');
    assert.deepEqual(m.from, [{ name: '営業部 高橋', address: 'takahashi@example.jp' }]);
    assert.equal(m.subject, 'お見積り\uFF5Eご確認ください');
    assert.equal(m.snippet, 'よろしくお願いします。');
  });

  it('raw 8-bit EUC-JP and UTF-8 headers', async () => {
    const euc = await parseFixture('raw-eucjp-subject.eml');
    assert.equal(euc.subject, '日本語の件名です');
    assert.deepEqual(euc.from, [{ name: '渡辺', address: 'watanabe@example.jp' }]);
    const utf8 = await parseFixture('raw-utf8-headers.eml');
    assert.equal(utf8.subject, 'UTF-8 の生ヘッダー ✓');
    assert.deepEqual(utf8.from, [{ name: '伊藤 花子', address: 'hanako@example.jp' }]);
    assert.deepEqual(utf8.to, [{ name: 'Zoë Müller', address: 'zoe@example.de' }]);
  });

  it('RFC 2047 words split inside a character (UTF-8, Shift_JIS, ISO-2022-JP), and no address smuggled through a name', async () => {
    const m = await parseFixture('rfc2047-split.eml');
    assert.equal(m.subject, '日本語の件名');
    assert.deepEqual(m.from, [{ name: '①髙橋\uFF5E', address: 'split@example.jp' }]);
    assert.deepEqual(m.to, [{ name: '株式会社テスト', address: 'kaisha@example.jp' }]);
    assert.deepEqual(m.cc, [{ name: '"Evil" <evil@example.com>', address: 'real@example.com' }]);
  });

  it('RFC 2231 filenames: continuations, UTF-8, ISO-2022-JP, Shift_JIS, and an RFC 2047 word in name=', async () => {
    const m = await parseFixture('rfc2231-japanese-filename.eml');
    assert.deepEqual(
      m.attachments.map((a) => a.filename),
      ['請求書_2024年1月分.pdf', '議事録①.txt', '\uFF5E資料.xls', '添付.zip'],
    );
    assert.equal(m.attachments[1]?.contentType, 'text/plain');
    assert.equal(m.attachments[1]?.size, 'minutes'.length);
    assert.equal(m.attachments[1]?.sha256, sha256('minutes'));
  });

  it('ISO-2022-JP body with ①㈱髙 and 〜 (decoded as CP50220: FULLWIDTH TILDE)', async () => {
    const m = await parseFixture('iso2022jp-body.eml');
    assert.equal(m.snippet, '①㈱髙橋\uFF5E本日は晴天なり');
  });

  it('Shift_JIS body as CP932 (～ ― ∥ － ￢ ① ㈱ 髙), preferring text/plain over the HTML alternative', async () => {
    const m = await parseFixture('cp932-body.eml');
    assert.equal(m.snippet, '\uFF5E\u2015\u2225\uFF0D\uFFE2①㈱髙');
  });

  it('EUC-JP body', async () => {
    assert.equal((await parseFixture('eucjp-body.eml')).snippet, 'ＥＵＣ－ＪＰの本文です');
  });

  it('unknown charset labels fall back to detection (UTF-8, Shift_JIS) without crashing', async () => {
    assert.equal((await parseFixture('unknown-charset.eml')).snippet, '未知の文字コードでもUTF-8なら読める');
    assert.equal((await parseFixture('unknown-charset-sjis.eml')).snippet, 'ラベルが不明でもシフトJISは読める');
  });
});

describe('parseMessage: identifiers, dates, addresses', () => {
  it('normalises Message-ID, In-Reply-To and folded References to <...>', async () => {
    const m = await parseFixture('auto-reply.eml');
    assert.equal(m.messageId, '<Out-of-office-Re-your-request@example.com>');
    assert.equal(m.inReplyTo, '<original@example.jp>');
    assert.deepEqual(m.references, ['<a@example.jp>', '<original@example.jp>']);
    assert.equal(m.date, '2024-01-02T01:00:00.000Z');
  });

  it('lower-cases the domain only', async () => {
    const m = await parseFixture('raw-iso2022jp-headers.eml');
    assert.equal(m.from[0]?.address, 'Taro.Yamada@example.co.jp');
  });
});

describe('parseMessage: flags', () => {
  it('auto-reply by RFC 3834 Auto-Submitted', async () => {
    const m = await parseFixture('auto-reply.eml');
    assert.equal(m.flags.autoReply, true);
    assert.equal(m.headers.autoSubmitted, 'auto-replied');
    assert.equal(m.flags.bounce, false);
  });

  it('Outlook mail with X-Auto-Response-Suppress is NOT an auto-reply', async () => {
    const m = await parseFixture('outlook-x-auto-response-suppress.eml');
    assert.deepEqual(m.flags, { autoReply: false, bounce: false, list: false, bulk: false, spam: false, oversized: false });
  });

  it('an Outlook out-of-office (X-Auto-Response-Suppress and an automatic-reply subject) is one', async () => {
    const m = await parseFixture('outlook-oof.eml');
    assert.equal(m.subject, '自動応答: 会議の件');
    assert.equal(m.flags.autoReply, true);
  });

  it('bounce: multipart/report; report-type=delivery-status from MAILER-DAEMON with Return-Path <>', async () => {
    const m = await parseFixture('bounce-dsn.eml');
    assert.equal(m.flags.bounce, true);
    assert.equal(m.headers.returnPath, '<>');
    assert.equal(m.snippet, 'This is the mail system. Your message could not be delivered.');
    assert.deepEqual(
      m.attachments.map((a) => a.contentType),
      ['text/rfc822-headers'],
    );
    // A report without a Diagnostic-Code: the status decides, not the report's "rfc822;" address type.
    assert.deepEqual(m.bounce, {
      recipient: 'nobody@example.jp',
      status: '5.1.1',
      reason: 'userunknown',
      diagnostic: null,
      mta: 'rfc3464',
    });
  });

  it('list mail: List-Id, List-Unsubscribe, Precedence bulk; Authentication-Results kept in order, unfolded', async () => {
    const m = await parseFixture('list-mail.eml');
    assert.equal(m.flags.list, true);
    assert.equal(m.flags.bulk, true);
    assert.equal(m.flags.spam, false);
    assert.equal(m.flags.autoReply, false);
    assert.equal(m.headers.listId, 'Developers <dev.lists.example.org>');
    assert.deepEqual(m.headers.authenticationResults, [
      'mx.example.jp; spf=pass smtp.mailfrom=lists.example.org; dkim=pass header.d=example.org',
      'other.example.jp; dmarc=pass',
    ]);
    assert.equal(m.headers.spamFlag, 'NO');
    assert.equal(m.headers.spamStatus, 'No, score=-1.0');
  });

  it('spam: X-Spam-Flag YES; Precedence junk is bulk', async () => {
    const m = await parseFixture('spam.eml');
    assert.equal(m.flags.spam, true);
    assert.equal(m.flags.bulk, true);
    assert.equal(m.flags.list, false);
    assert.equal(m.flags.oversized, false);
  });
});

describe('parseMessage: bodies and attachments', () => {
  it('HTML-only mail: snippet from visible text, entities decoded, head/script/style/comments dropped', async () => {
    const m = await parseFixture('html-only.eml');
    assert.equal(m.snippet, 'Hello & welcome, café ☃ <ok>');
    assert.deepEqual(
      m.attachments.map((a) => [a.filename, a.contentType, a.size, a.inline]),
      [['a.zip', 'application/zip', 4, false]],
    );
    assert.equal(m.attachments[0]?.sha256, sha256(Buffer.from('UEsDBA==', 'base64')));
  });

  it('inline images: Content-ID normalised, inline by disposition or by multipart/related', async () => {
    const m = await parseFixture('inline-image.eml');
    assert.equal(m.snippet, 'logo:');
    assert.deepEqual(
      m.attachments.map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        contentId: a.contentId,
        inline: a.inline,
        size: a.size,
      })),
      [
        { filename: null, contentType: 'image/png', contentId: '<logo@example>', inline: true, size: 8 },
        { filename: 'spacer.gif', contentType: 'image/gif', contentId: '<spacer@example>', inline: true, size: 6 },
      ],
    );
  });

  it('an attached message/rfc822 is one attachment (hash of the embedded message), not parsed into', async () => {
    const m = await parseFixture('attached-message.eml');
    assert.equal(m.snippet, 'forwarding this');
    assert.equal(m.attachments.length, 1);
    assert.equal(m.attachments[0]?.contentType, 'message/rfc822');
    assert.ok(m.attachments[0]!.size > 100);
  });
});
