/** The demo mailbox: the kinds of mail a Japanese business's support address really receives. */
import Encoding from 'encoding-japanese';

const crlf = (lines: Array<string | Buffer>): Buffer =>
  Buffer.concat(lines.flatMap((l) => [typeof l === 'string' ? Buffer.from(l, 'utf8') : l, Buffer.from('\r\n')]));

function jis(text: string): Buffer {
  return Buffer.from(Encoding.convert(Encoding.stringToCode(text), { to: 'JIS', from: 'UNICODE' }));
}
function sjis(text: string): Buffer {
  return Buffer.from(Encoding.convert(Encoding.stringToCode(text), { to: 'SJIS', from: 'UNICODE' }));
}
/** RFC 2047 B-encoding of ISO-2022-JP, as Japanese mailers write Subject and display names. */
function encodedWord(text: string): string {
  return `=?ISO-2022-JP?B?${jis(text).toString('base64')}?=`;
}

function received(date: string): string {
  return `Received: from mx1.example.net (mx1.example.net [192.0.2.10]) by pop.example.jp with ESMTP; ${date}`;
}

export function demoMessages(): Buffer[] {
  const pdf = Buffer.from(
    '%PDF-1.4\n% mail-ingest demo attachment\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
  );
  return [
    crlf([
      received('Wed, 25 Nov 2026 09:12:03 +0900'),
      'From: Alice Smith <alice@customer.example.com>',
      'To: support@example.jp',
      'Subject: Cannot log in to the portal',
      'Message-ID: <login-1@customer.example.com>',
      'Date: Wed, 25 Nov 2026 09:11:58 +0900',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Hello, since this morning the portal rejects my password. Could you help?',
      '.A line that starts with a dot survives byte-stuffing.',
      '',
      'Alice',
    ]),
    crlf([
      received('Wed, 25 Nov 2026 10:02:11 +0900'),
      `From: ${encodedWord('山田 太郎')} <yamada@torihiki.example.co.jp>`,
      'To: support@example.jp',
      `Subject: ${encodedWord('【至急】①請求書の件 ㈱髙橋商事')}`,
      'Message-ID: <invoice-2@torihiki.example.co.jp>',
      'Date: Wed, 25 Nov 2026 10:02:05 +0900',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=ISO-2022-JP',
      'Content-Transfer-Encoding: 7bit',
      '',
      jis('いつもお世話になっております。㈱髙橋商事の山田です。'),
      jis('①の請求書について確認をお願いいたします。'),
    ]),
    crlf([
      received('Wed, 25 Nov 2026 11:30:45 +0900'),
      Buffer.concat([Buffer.from('From: '), sjis('佐藤 花子'), Buffer.from(' <sato@old-mailer.example.jp>')]),
      'To: support@example.jp',
      // Raw Shift_JIS bytes in the Subject, as some old Japanese mailers still send.
      Buffer.concat([Buffer.from('Subject: '), sjis('見積書送付のお願い～')]),
      'Message-ID: <quote-3@old-mailer.example.jp>',
      'Date: Wed, 25 Nov 2026 11:30:40 +0900',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b-demo-3"',
      '',
      '--b-demo-3',
      'Content-Type: text/plain; charset=Shift_JIS',
      'Content-Transfer-Encoding: 8bit',
      '',
      sjis('見積書をお送りください。添付の仕様書をご確認ください。'),
      '--b-demo-3',
      'Content-Type: application/pdf; name="spec.pdf"',
      "Content-Disposition: attachment; filename*=UTF-8''%E4%BB%95%E6%A7%98%E6%9B%B8.pdf",
      'Content-Transfer-Encoding: base64',
      '',
      pdf.toString('base64'),
      '--b-demo-3--',
    ]),
    crlf([
      received('Wed, 25 Nov 2026 12:00:00 +0900'),
      'From: Alice Smith <alice@customer.example.com>',
      'To: support@example.jp',
      'Subject: Re: Cannot log in to the portal',
      'Message-ID: <login-4@customer.example.com>',
      'In-Reply-To: <login-1@customer.example.com>',
      'References: <login-1@customer.example.com>',
      'Date: Wed, 25 Nov 2026 11:59:50 +0900',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Never mind, a password reset fixed it. Thanks!',
    ]),
    crlf([
      received('Wed, 25 Nov 2026 12:05:00 +0900'),
      'From: Bob Jones <bob@partner.example.org>',
      'To: support@example.jp',
      'Subject: Automatic reply: Out of office',
      'Auto-Submitted: auto-replied',
      'X-Auto-Response-Suppress: All',
      'Message-ID: <ooo-5@partner.example.org>',
      'Date: Wed, 25 Nov 2026 12:04:58 +0900',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'I am out of the office until Monday.',
    ]),
    crlf([
      received('Wed, 25 Nov 2026 12:10:00 +0900'),
      'From: Mail Delivery System <MAILER-DAEMON@mx1.example.net>',
      'To: support@example.jp',
      'Subject: Undelivered Mail Returned to Sender',
      'Message-ID: <bounce-6@mx1.example.net>',
      'Date: Wed, 25 Nov 2026 12:09:59 +0900',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b-dsn"',
      '',
      '--b-dsn',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Your message to nobody@customer.example.com could not be delivered.',
      '--b-dsn',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx1.example.net',
      '',
      'Final-Recipient: rfc822; nobody@customer.example.com',
      'Action: failed',
      'Status: 5.1.1',
      '--b-dsn--',
    ]),
    crlf([
      received('Wed, 25 Nov 2026 13:00:00 +0900'),
      'From: JP Users Group <announce@lists.example.org>',
      'To: support@example.jp',
      'Subject: [jp-users] November newsletter',
      'List-Id: JP Users <jp-users.lists.example.org>',
      'List-Unsubscribe: <mailto:leave@lists.example.org>',
      'Precedence: list',
      'Message-ID: <news-7@lists.example.org>',
      'Date: Wed, 25 Nov 2026 12:59:00 +0900',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<html><body><h1>November</h1><p>Meetup on <b>Friday</b> &amp; more.</p></body></html>',
    ]),
    // Broken on purpose: a NUL byte, an unknown charset, broken base64 and a boundary that never closes.
    crlf([
      received('Wed, 25 Nov 2026 14:00:00 +0900'),
      'From: broken@@example..com',
      'Subject: =?x-unknown-charset?B?!!!not-base64?=',
      'Content-Type: multipart/mixed; boundary="never-closed"',
      '',
      '--never-closed',
      'Content-Type: text/plain; charset=x-klingon',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from([0x61, 0x00, 0x62, 0x21, 0x21, 0xff, 0xfe]),
      '--never-closed',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      'SGVsbG8gd29y$$$bGQ',
    ]),
  ];
}

const ARRIVING: ReadonlyArray<{ from: string; address: string; subject: string; body: string; japanese: boolean }> = [
  {
    from: '鈴木 一郎',
    address: 'suzuki@torihiki.example.co.jp',
    subject: '【問い合わせ】請求書の再発行について',
    body: 'お世話になっております。先月分の請求書の再発行をお願いできますでしょうか。',
    japanese: true,
  },
  {
    from: 'Carol White',
    address: 'carol@customer.example.com',
    subject: 'Order delivery date?',
    body: 'Hello, when will my order ship? Thanks, Carol',
    japanese: false,
  },
  {
    from: '田中 美咲',
    address: 'tanaka@shop.example.jp',
    subject: '納品書の件（ご確認のお願い）',
    body: '納品書を確認いたしました。一点だけ数量が異なっております。',
    japanese: true,
  },
  {
    from: 'Dave Brown',
    address: 'dave@partner.example.org',
    subject: 'Meeting next week',
    body: 'Could we meet on Tuesday to go over the contract?',
    japanese: false,
  },
];

/**
 * The n-th message that "arrives" while `demo --serve` runs (n from 1): a new Message-ID, today's Received and
 * Date, so each is new mail to mail-ingest; Japanese ones in ISO-2022-JP as Japanese mailers send them.
 */
export function arrivingMessage(n: number, now: Date = new Date()): Buffer {
  const t = ARRIVING[(n - 1) % ARRIVING.length]!;
  const date = now.toUTCString().replace('GMT', '+0000');
  const subject = `${t.subject} (#${n})`;
  return crlf([
    received(date),
    `From: ${t.japanese ? encodedWord(t.from) : t.from} <${t.address}>`,
    'To: support@example.jp',
    `Subject: ${t.japanese ? encodedWord(subject) : subject}`,
    `Message-ID: <arriving-${n}-${now.getTime()}@demo.example.jp>`,
    `Date: ${date}`,
    'MIME-Version: 1.0',
    t.japanese ? 'Content-Type: text/plain; charset=ISO-2022-JP' : 'Content-Type: text/plain; charset=utf-8',
    t.japanese ? 'Content-Transfer-Encoding: 7bit' : 'Content-Transfer-Encoding: 8bit',
    '',
    t.japanese ? jis(t.body) : t.body,
  ]);
}

/** The subject as a mail client shows it (for the line `demo --serve` prints when mail arrives). */
export function arrivingSubject(n: number): string {
  return `${ARRIVING[(n - 1) % ARRIVING.length]!.subject} (#${n})`;
}
