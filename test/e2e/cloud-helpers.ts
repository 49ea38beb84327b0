/**
 * Helpers for the cloud end-to-end test (Dovecot → `mail-ingest run` → fauxqs S3 + SQS): the seeded mail, S3
 * listing and reading, and a proxy in front of fauxqs that refuses chosen S3 writes as S3 does under an outage.
 */
import { createServer, request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import Encoding from 'encoding-japanese';
import { mail } from './e2e-helpers.ts';

const jis = (s: string): Buffer => Buffer.from(Encoding.convert(Encoding.stringToCode(s), { to: 'JIS', from: 'UNICODE' }));
const sjis = (s: string): Buffer => Buffer.from(Encoding.convert(Encoding.stringToCode(s), { to: 'SJIS', from: 'UNICODE' }));
const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');

export interface SeededMail {
  /** Message-ID without brackets, to find the document again. */
  readonly messageId: string;
  readonly raw: Buffer;
  /** Whether the `tickets` target (to support@example.jp, not auto-reply, not bounce) must receive it. */
  readonly ticket: boolean;
  readonly autoReply: boolean;
  readonly bounce: boolean;
  readonly hasAttachments: boolean;
  /** Its metadata document is larger than the small queue's MaximumMessageSize. */
  readonly large: boolean;
}

function headers(id: string, lines: string[], received = 'Thu, 26 Nov 2026 10:00:00 +0900'): string {
  return [
    `Received: from mx.example.net by pop.example.jp; ${received}`,
    `Message-ID: <${id}>`,
    'Date: Thu, 26 Nov 2026 10:00:00 +0900',
    'MIME-Version: 1.0',
    ...lines,
    '',
    '',
  ].join('\n');
}

const seeded = (messageId: string, raw: Buffer | string, o: Partial<Omit<SeededMail, 'messageId' | 'raw'>> = {}): SeededMail => ({
  messageId,
  raw: Buffer.from(raw),
  ticket: false,
  autoReply: false,
  bounce: false,
  hasAttachments: false,
  large: false,
  ...o,
});

/**
 * Twelve messages covering what the fan-out filters look at: plain, Japanese (ISO-2022-JP, Shift_JIS, raw UTF-8
 * headers), an attachment, an auto-reply, a bounce, a list message, support only in Cc or in upper case, mail
 * for another address, and one whose 300 Cc recipients make a metadata document of about 20 KB.
 */
export function variedMail(): SeededMail[] {
  const subjectJis = jis('お問い合わせ：請求書について');
  const cc = Array.from({ length: 300 }, (_, i) => `Member ${i} <member${i}@lists.example.org>`).join(',\n ');
  return [
    seeded('req-1@example.com', mail(1), { ticket: true }),
    seeded(
      'jp-iso2022@example.co.jp',
      Buffer.concat([
        Buffer.from(
          headers(
            'jp-iso2022@example.co.jp',
            [
              `From: =?ISO-2022-JP?B?${b64(jis('山田太郎'))}?= <yamada@example.co.jp>`,
              'To: support@example.jp',
              `Subject: =?ISO-2022-JP?B?${b64(subjectJis)}?=`,
              'Content-Type: text/plain; charset="ISO-2022-JP"',
              'Content-Transfer-Encoding: 7bit',
              // Received early on the 25th in Japan: the 24th in UTC, the day the archive files it under.
            ],
            'Wed, 25 Nov 2026 08:30:00 +0900',
          ),
        ),
        jis('いつもお世話になっております。\n請求書の金額が①㈱の表記と異なります。\n'),
      ]),
      { ticket: true },
    ),
    seeded(
      'attach@example.com',
      headers('attach@example.com', [
        'From: Customer <attach@example.com>',
        'To: support@example.jp',
        'Subject: screenshot attached',
        'Content-Type: multipart/mixed; boundary="b1"',
      ]) +
        [
          '--b1',
          'Content-Type: text/plain; charset=utf-8',
          '',
          'See the attached file.',
          '',
          '--b1',
          'Content-Type: application/pdf; name="invoice.pdf"',
          'Content-Disposition: attachment; filename="invoice.pdf"',
          'Content-Transfer-Encoding: base64',
          '',
          b64(Buffer.alloc(3000, 0x25)).replace(/.{76}/g, '$&\n'),
          '--b1--',
          '',
        ].join('\n'),
      { ticket: true, hasAttachments: true },
    ),
    seeded(
      'oof@example.com',
      `${headers('oof@example.com', [
        'From: Away <away@example.com>',
        'To: support@example.jp',
        'Subject: Out of office',
        'Auto-Submitted: auto-replied',
        'Content-Type: text/plain; charset=utf-8',
      ])}I am away until Monday.\n`,
      { autoReply: true },
    ),
    seeded(
      'dsn@mx.example.jp',
      headers('dsn@mx.example.jp', [
        'Return-Path: <>',
        'From: Mail Delivery System <MAILER-DAEMON@mx.example.jp>',
        'To: support@example.jp',
        'Subject: Undelivered Mail Returned to Sender',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r1"',
      ]) +
        [
          '--r1',
          'Content-Type: text/plain',
          '',
          'Your message could not be delivered.',
          '',
          '--r1',
          'Content-Type: message/delivery-status',
          '',
          'Reporting-MTA: dns; mx.example.jp',
          '',
          'Final-Recipient: rfc822; nobody@example.net',
          'Action: failed',
          'Status: 5.1.1',
          '',
          '--r1--',
          '',
        ].join('\n'),
      { bounce: true },
    ),
    seeded(
      'sales-only@example.com',
      mail(6)
        .toString()
        .replace('To: support@example.jp', 'To: sales@example.jp')
        .replace('<req-6@example.com>', '<sales-only@example.com>'),
    ),
    seeded(
      'cc-support@example.com',
      mail(7)
        .toString()
        .replace('To: support@example.jp', 'To: Partner <partner@example.net>\nCc: Support <support@example.jp>')
        .replace('<req-7@example.com>', '<cc-support@example.com>'),
      { ticket: true },
    ),
    seeded(
      'upper@example.com',
      mail(8).toString().replace('To: support@example.jp', 'To: SUPPORT@Example.JP').replace('<req-8@example.com>', '<upper@example.com>'),
      { ticket: true },
    ),
    seeded(
      'list@lists.example.org',
      `${headers('list@lists.example.org', [
        'From: Announce <announce@lists.example.org>',
        'To: support@example.jp',
        'Subject: [announce] maintenance tonight',
        'List-Id: Announcements <announce.lists.example.org>',
        'List-Unsubscribe: <mailto:leave@lists.example.org>',
        'Precedence: list',
        'Content-Type: text/plain; charset=utf-8',
      ])}Maintenance from 01:00 JST.\n`,
      { ticket: true },
    ),
    seeded(
      'big-cc@example.com',
      `${headers('big-cc@example.com', [
        'From: Organizer <organizer@example.com>',
        'To: support@example.jp',
        `Cc: ${cc}`,
        'Subject: everyone in copy',
        'Content-Type: text/plain; charset=utf-8',
      ])}Hello all.\n`,
      { ticket: true, large: true },
    ),
    seeded(
      'sjis@example.jp',
      Buffer.concat([
        Buffer.from(
          headers('sjis@example.jp', [
            `From: =?UTF-8?B?${b64('佐藤花子')}?= <sato@example.jp>`,
            'To: support@example.jp',
            `Subject: =?UTF-8?B?${b64('配送の遅れ')}?=`,
            'Content-Type: text/plain; charset=Shift_JIS',
            'Content-Transfer-Encoding: 8bit',
          ]),
        ),
        sjis('商品がまだ届いていません。\n..先頭のドット\n.\n'),
      ]),
      { ticket: true },
    ),
    // Raw 8-bit UTF-8 in the headers and no line break at the very end (Dovecot adds CRLF before the dot).
    seeded(
      'raw-utf8@example.jp',
      Buffer.from(
        `${headers('raw-utf8@example.jp', [
          'From: 鈴木 <suzuki@example.jp>',
          'To: support@example.jp',
          'Subject: 返品の手続き',
          'Content-Type: text/plain; charset=utf-8',
        ])}返品したいです。`,
        'utf8',
      ),
      { ticket: true },
    ),
  ];
}

/** Every key under `prefix`. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) out.set(o.Key!, o.ETag ?? '');
    token = res.IsTruncated === true ? res.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer | null> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
    throw err;
  }
}

/**
 * An HTTP proxy to fauxqs that answers the requests `refuse` picks with S3's 500 InternalError (the SDK retries,
 * then gives up), and forwards everything else unchanged. Signatures stay valid: fauxqs does not check them.
 */
export async function startS3FaultProxy(
  targetPort: number,
  refuse: (req: IncomingMessage) => boolean,
): Promise<{ endpoint: string; refused: string[]; close(): Promise<void> }> {
  const refused: string[] = [];
  const server = createServer((req, res) => {
    if (refuse(req)) {
      refused.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        const xml =
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>FAULT</RequestId><HostId>fault</HostId></Error>';
        res.writeHead(500, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) }).end(xml);
      });
      return;
    }
    const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    refused,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
