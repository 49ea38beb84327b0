import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Encoding from 'encoding-japanese';
import { runMailbox } from '../../lib/ingest/pipeline.ts';
import type { MailboxJob, MailboxRunSummary } from '../../lib/ingest/pipeline-types.ts';
import { FsRawStore } from '../../lib/store/fs-store.ts';
import { FsStateStore } from '../../lib/store/fs-state.ts';
import { LocalPublisher } from '../../lib/publish/local-publisher.ts';
import { MemoryMaildrop } from '../helpers/memory-pop3.ts';
import { JOB_DEFAULTS } from '../helpers/job.ts';

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

const b64 = (buf: Buffer): string => buf.toString('base64').replace(/.{1,76}/g, '$&\r\n');
const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

/** A PDF-looking attachment with bytes that a CRLF or charset conversion would change. */
export const QUOTE_PDF = Buffer.concat([
  Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\r\n', 'latin1'),
  Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256)),
  Buffer.from('\n%%EOF\n'),
]);
export const LOGO_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);

/** ISO-2022-JP, as Japanese mail clients still send: subject, sender name and body; a PDF named 見積書.pdf (RFC 2231). */
export function japaneseQuote(): Buffer {
  const jis = (s: string): Buffer => Buffer.from(Encoding.convert(Encoding.stringToCode(s), { to: 'JIS', from: 'UNICODE' }) as number[]);
  const head = crlf([
    `From: =?ISO-2022-JP?B?${jis('山田 太郎').toString('base64')}?= <yamada@example.co.jp>`,
    'To: support@example.jp',
    `Subject: =?ISO-2022-JP?B?${jis('見積書の送付について').toString('base64')}?=`,
    'Date: Mon, 03 Mar 2025 10:00:00 +0900',
    'Message-ID: <quote-1@example.co.jp>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="q1"',
    '',
    '--q1',
    'Content-Type: text/plain; charset=ISO-2022-JP',
    'Content-Transfer-Encoding: 7bit',
    '',
    '',
  ]);
  const body = Buffer.concat([
    jis('お世話になっております。\r\nご依頼の件、見積書を添付いたします。\r\n納期は三週間です。'),
    Buffer.from('\r\n'),
  ]);
  const tail = crlf([
    '--q1',
    'Content-Type: application/pdf',
    "Content-Disposition: attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf",
    'Content-Transfer-Encoding: base64',
    '',
    b64(QUOTE_PDF),
    '--q1--',
    '',
  ]);
  return Buffer.concat([head, body, tail]);
}

/** The reply to the quote, from the support desk, quoting it. */
export function quoteReply(): Buffer {
  return crlf([
    'From: Support <support@example.jp>',
    'To: yamada@example.co.jp',
    `Subject: =?UTF-8?B?${Buffer.from('Re: 見積書の送付について').toString('base64')}?=`,
    'Date: Mon, 03 Mar 2025 12:00:00 +0900',
    'Message-ID: <reply-1@example.jp>',
    'In-Reply-To: <quote-1@example.co.jp>',
    'References: <quote-1@example.co.jp>',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    '山田様',
    '',
    'From the desk: we received the quotation. Thank you.',
    '>From an mbox point of view this line and the next need quoting',
    'From here on, too.',
    '',
  ]);
}

/** Everything a hostile HTML mail tries: scripts, handlers, remote loads of every kind, javascript: links. */
export function hostileHtml(remote: string): Buffer {
  const html = [
    '<html><head>',
    `<base href="${remote}/base/">`,
    `<meta http-equiv="refresh" content="0;url=${remote}/refresh">`,
    `<link rel="stylesheet" href="${remote}/link.css">`,
    `<style>@import url("${remote}/import.css"); body { background: url("${remote}/bg.png") } @font-face { font-family: x; src: url(${remote}/font.woff) }</style>`,
    `<script>document.title = "pwned-script"; fetch("${remote}/script-fetch")</script>`,
    '</head><body onload="document.title=\'pwned-onload\'">',
    '<h1 id="greeting">Quarterly update</h1>',
    `<p style="background-image: url('${remote}/inline-style.png')">Please review the <b>attached</b> figures.</p>`,
    `<img id="tracker" src="${remote}/tracker.png" onerror="document.title='pwned-onerror'" alt="tracker">`,
    `<img src="x" onerror="fetch('${remote}/onerror-fetch')">`,
    '<a id="jslink" href="javascript:document.title=\'pwned-link\'">click me</a>',
    `<a id="safelink" href="https://example.com/docs">documentation</a>`,
    `<iframe src="${remote}/iframe"></iframe>`,
    `<form action="${remote}/form"><input name="q"><button>go</button></form>`,
    `<svg><script>document.title='pwned-svg'</script><image href="${remote}/svg.png"/></svg>`,
    `<object data="${remote}/object"></object><embed src="${remote}/embed">`,
    `<video src="${remote}/video.mp4" poster="${remote}/poster.png"></video>`,
    '</body></html>',
  ].join('\n');
  return crlf([
    'From: "Newsletter" <news@example.net>',
    'To: support@example.jp',
    'Subject: Quarterly update',
    'Date: Tue, 04 Mar 2025 09:00:00 +0000',
    'Message-ID: <hostile-1@example.net>',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    html,
    '',
  ]);
}

/** HTML with an inline (cid:) logo and a remote image, for the "load remote content" choice. */
export function newsletterWithLogo(remote: string): Buffer {
  return crlf([
    'From: Shop <shop@example.org>',
    'To: support@example.jp',
    `Subject: =?UTF-8?B?${Buffer.from('春のセールのお知らせ').toString('base64')}?=`,
    'Date: Wed, 05 Mar 2025 09:00:00 +0900',
    'Message-ID: <sale-1@example.org>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/related; boundary="r1"',
    '',
    '--r1',
    'Content-Type: text/html; charset=utf-8',
    '',
    `<p>セール開催中 <img id="logo" src="cid:logo@shop" alt="logo"> <img id="banner" src="${remote}/banner.png" alt="banner"></p>`,
    '--r1',
    'Content-Type: image/png',
    'Content-ID: <logo@shop>',
    'Content-Disposition: inline; filename="logo.png"',
    'Content-Transfer-Encoding: base64',
    '',
    b64(LOGO_PNG),
    '--r1--',
    '',
  ]);
}

export function plain(i: number, extra: { subject?: string; body?: string; date?: string } = {}): Buffer {
  return crlf([
    `From: Customer ${i} <c${i}@example.com>`,
    'To: sales@example.jp',
    `Subject: ${extra.subject ?? `request ${i}`}`,
    `Date: ${extra.date ?? 'Thu, 06 Mar 2025 10:00:00 +0000'}`,
    `Message-ID: <req-${i}@example.com>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    extra.body ?? `Body of request ${i}: the shipment tracking number is TRK-${1000 + i}.`,
    '',
  ]);
}

export interface Archive {
  readonly dir: string;
  readonly storeDir: string;
  readonly configPath: string;
  remove(): Promise<void>;
}

export interface IngestOptions {
  /** The pipeline's clock: documents are ingested "at" this time (a history of several days). */
  readonly now?: Date;
  readonly job?: Partial<MailboxJob>;
  /** The server refuses the connection with this error: the run fails and the state records it. */
  readonly failConnect?: Error;
}

/** Runs the real pipeline (memory POP3 maildrops behind the Pop3Client interface) into an fs store with the event log. */
export async function ingestInto(
  storeDir: string,
  mailbox: string,
  messages: readonly Buffer[],
  firstUid = 1,
  options: IngestOptions = {},
): Promise<MailboxRunSummary> {
  const drop = new MemoryMaildrop();
  messages.forEach((m, i) => {
    drop.add(`uid-${mailbox}-${firstUid + i}`, m);
  });
  if (options.failConnect !== undefined) drop.failConnect = options.failConnect;
  const summary = await runMailbox({
    job: {
      ...JOB_DEFAULTS,
      id: mailbox,
      connect: { host: '127.0.0.1', port: 995, tls: 'implicit', user: 'u', password: 'p' },
      ...options.job,
    },
    store: new FsRawStore({ dir: storeDir }),
    state: new FsStateStore({ dir: storeDir }),
    publisher: new LocalPublisher({ dir: storeDir }),
    connect: drop.connect,
    ...(options.now === undefined ? {} : { now: () => options.now! }),
  });
  if (!summary.ok && options.failConnect === undefined)
    throw new Error(`fixture ingest of ${mailbox} failed: ${JSON.stringify(summary.error)}`);
  return summary;
}

/** A temp folder with an fs archive of the given mailboxes and a config file naming them. */
export async function makeArchive(
  mailboxes: Record<string, readonly Buffer[]>,
  configExtra: Record<string, unknown> = {},
  mailboxExtra: Record<string, Record<string, unknown>> = {},
): Promise<Archive> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mi-archive-'));
  const storeDir = path.join(dir, 'data');
  for (const [id, messages] of Object.entries(mailboxes)) await ingestInto(storeDir, id, messages);
  const configPath = path.join(dir, 'config.json');
  await writeFile(
    configPath,
    JSON.stringify(
      {
        store: { type: 'fs', dir: './data' },
        mailboxes: Object.keys(mailboxes).map((id) => ({
          id,
          host: '127.0.0.1',
          user: id,
          password: { env: 'UNUSED_PASSWORD' },
          ...mailboxExtra[id],
        })),
        ...configExtra,
      },
      null,
      2,
    ),
  );
  return { dir, storeDir, configPath, remove: () => rm(dir, { recursive: true, force: true }) };
}
