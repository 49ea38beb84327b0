import { createHash } from 'node:crypto';
import { buildDocument } from '../../lib/document/document.ts';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';
import { rawKey } from '../../lib/store/keys.ts';

/** The synthetic archive of bench:search: Japanese and English business mail, deterministic for a seed. */
export const MAILBOXES = ['support', 'sales', 'billing', 'info'];

const SUBJECTS_JA = [
  '見積書の送付について',
  'ご注文の確認',
  '請求書在中',
  '打ち合わせ日程のご相談',
  '納品のご連絡',
  '契約更新のお知らせ',
  'お問い合わせありがとうございます',
  '出荷完了のお知らせ',
  '資料送付の件',
  '会議室予約の変更',
];
const SUBJECTS_EN = [
  'Invoice for March',
  'Order confirmation',
  'Meeting next week',
  'Shipping update',
  'Password reset',
  'Quarterly report',
  'Contract renewal',
  'Support ticket opened',
  'Delivery delayed',
  'Welcome aboard',
];
const NAMES = [
  '山田 太郎',
  '佐藤 花子',
  '鈴木 一郎',
  '高橋 美咲',
  'John Smith',
  'Maria Garcia',
  'Chen Wei',
  'Anna Müller',
  '田中 健',
  '伊藤 さくら',
];
const WORDS_JA =
  'お世話になっております。 ご確認のほどよろしくお願いいたします。 添付の資料をご覧ください。 納期は来週の金曜日を予定しております。 ご不明な点がございましたらお気軽にお問い合わせください。 請求金額は下記のとおりです。'.split(
    ' ',
  );
const WORDS_EN =
  'thank you for your order. please find the attached invoice. the shipment left our warehouse today. let me know if you have any questions. the meeting is moved to thursday afternoon. your ticket number is below.'.split(
    '. ',
  );

/** Deterministic pseudo-random numbers: the same corpus every run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function makeCorpus(n: number): Array<{ doc: MetadataDocument; body: string }> {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: Array<{ doc: MetadataDocument; body: string }> = [];
  const start = Date.parse('2025-01-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const ja = r() < 0.6;
    const subject = `${ja ? pick(SUBJECTS_JA) : pick(SUBJECTS_EN)} #${i}`;
    const name = pick(NAMES);
    const sentences = Array.from({ length: 6 + Math.floor(r() * 20) }, () => (ja ? pick(WORDS_JA) : `${pick(WORDS_EN)}.`));
    const body = `${sentences.join(ja ? '' : ' ')} ref-${i.toString(36)}`;
    const sha = createHash('sha256').update(`msg-${i}`).digest('hex');
    const mailbox = MAILBOXES[i % MAILBOXES.length]!;
    const at = new Date(start + i * 60_000);
    const attachments =
      r() < 0.2
        ? [
            {
              filename: ja ? `見積書_${i}.pdf` : `invoice-${i}.pdf`,
              contentType: 'application/pdf',
              size: 20_000,
              sha256: sha,
              contentId: null,
              inline: false,
            },
          ]
        : [];
    const doc = buildDocument({
      mailbox,
      uidl: `u${i}`,
      ingestedAt: at,
      oversized: false,
      ref: { key: rawKey(mailbox, at, sha), size: 1500 + body.length, sha256: sha },
      parsed: {
        messageId: `<m${i}@example.jp>`,
        inReplyTo: i % 5 === 0 && i > 0 ? `<m${i - 1}@example.jp>` : null,
        references: [],
        date: at.toISOString(),
        subject,
        from: [{ name, address: `user${i % 997}@example.co.jp` }],
        to: [{ name: '', address: `${mailbox}@example.jp` }],
        cc: [],
        replyTo: [],
        attachments,
        snippet: body.slice(0, 280),
        flags: { autoReply: false, bounce: false, list: r() < 0.1, bulk: false, spam: r() < 0.05, oversized: false },
        headers: { listId: null, authenticationResults: [], spamFlag: null, spamStatus: null, autoSubmitted: null, returnPath: null },
        parseError: null,
      },
    });
    out.push({ doc, body });
  }
  return out;
}
