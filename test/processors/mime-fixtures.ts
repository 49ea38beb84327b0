import { createHash } from 'node:crypto';

export const PDF_BYTES = Buffer.from('%PDF-1.4\n% fake pdf for tests\n%%EOF\n', 'latin1');
export const PNG_BYTES = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A multipart/mixed message with a PDF (Japanese file name, RFC 2231) and an inline image, CRLF line ends. */
export function messageWithAttachments(): Buffer {
  const b64 = (buf: Buffer) => buf.toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return Buffer.from(
    [
      'From: Customer <customer@example.com>',
      'To: support@example.jp',
      'Subject: =?UTF-8?B?6KuL5rGC5pu4?=',
      'Message-ID: <att1@example.com>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: multipart/related; boundary="b2"',
      '',
      '--b2',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>See <img src="cid:logo@x"></p>',
      '--b2',
      'Content-Type: image/png',
      'Content-ID: <logo@x>',
      'Content-Transfer-Encoding: base64',
      '',
      b64(PNG_BYTES),
      '--b2--',
      '--b1',
      'Content-Type: application/pdf',
      "Content-Disposition: attachment; filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf",
      'Content-Transfer-Encoding: base64',
      '',
      b64(PDF_BYTES),
      '--b1',
      'Content-Type: application/pdf',
      'Content-Disposition: attachment; filename="copy.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      b64(PDF_BYTES),
      '--b1--',
      '',
    ].join('\r\n'),
    'utf8',
  );
}
