/** The interface's languages. Message text is shown as sent; only the interface around it is translated. */
export type Lang = 'en' | 'ja';

const EN = {
  appName: 'mail-ingest archive',
  navSearch: 'Search',
  navMailboxes: 'Mailboxes',
  searchPlaceholder: 'Words, names, addresses, attachment names (見積 finds 見積書)',
  searchButton: 'Search',
  filterMailbox: 'Mailbox',
  filterAny: 'any',
  filterFrom: 'From',
  filterTo: 'To',
  filterSince: 'Since',
  filterUntil: 'Until',
  filterFlag: 'Flag',
  filterAttachment: 'Attachments',
  attachmentYes: 'with attachments',
  attachmentNo: 'without attachments',
  flagAutoReply: 'auto-reply',
  flagBounce: 'bounce',
  flagList: 'list',
  flagBulk: 'bulk',
  flagSpam: 'spam',
  flagOversized: 'oversized',
  colDate: 'Date',
  colFrom: 'From',
  colSubject: 'Subject',
  colMailbox: 'Mailbox',
  colFlags: 'Flags',
  colAttachments: 'Attachments',
  results: '{count} messages',
  resultsMore: 'more than {count} messages',
  noResults: 'No messages match.',
  scanLimited:
    'Terms shorter than three characters were looked for in the newest {count} messages only; add a filter or a longer word to search everything.',
  bodiesPending: '{count} messages are searchable by subject, people and attachment names; their body text is still being indexed.',
  previous: 'Previous',
  next: 'Next',
  page: 'Page {page}',
  exportMbox: 'Export as mbox',
  exportZip: 'Export as .eml zip',
  noSubject: '(no subject)',
  headerFrom: 'From',
  headerTo: 'To',
  headerCc: 'Cc',
  headerReplyTo: 'Reply-To',
  headerDate: 'Date',
  headerSubject: 'Subject',
  headerMessageId: 'Message-ID',
  allHeaders: 'All headers',
  verified: 'Verified: the archived bytes still hash to the recorded SHA-256',
  notVerified: 'NOT verified: the archived bytes do not match the recorded SHA-256 ({detail})',
  rawDownload: 'Download the raw message (.eml)',
  attachments: 'Attachments',
  download: 'Download',
  thread: 'Thread',
  threadViaSubject: 'same subject',
  loadRemote: 'Load remote content',
  remoteBlocked: 'Remote images and styles are blocked.',
  remoteLoaded: 'Remote content is loaded for this message.',
  hideRemote: 'Block remote content again',
  noBody: 'This message has no text body.',
  oversizedNote: 'This message was larger than the size limit: only its headers were archived.',
  parseErrorNote: 'Parsing was incomplete: {reason}',
  truncatedNote: 'The text shown is cut at {limit}.',
  mailboxesTitle: 'Mailboxes',
  lastRun: 'Last run',
  lastSuccess: 'Last success',
  lastError: 'Last error',
  never: 'never',
  none: 'none',
  ok: 'ok',
  failed: 'FAILED',
  runCounts: '{stored} stored, {deleted} deleted, {failed} failed',
  keptOnServer: 'Kept on the server',
  keptOnServerValue: '{kept} of {ingested} ingested messages (retention: {retention})',
  oversizedCount: '{count} over the size limit',
  perDay: 'Messages and bytes per day (last {days} days)',
  messages: 'messages',
  bytes: 'bytes',
  archived: 'Archived',
  archivedValue: '{messages} messages, {bytes}',
  processors: 'Local processors',
  processorPosition: 'Position',
  processorFailures: 'Failures',
  noProcessorInfo: 'no position recorded',
  processorBehind: 'byte {offset} of {bytes}; {behind} events behind',
  processorDeadLetters: '{retrying} retrying, {givenUp} given up',
  disabled: 'disabled',
  notFound: 'Not found',
  notFoundText: 'There is no message with this id in the index.',
  badRequest: 'The request has problems',
  forbidden: 'Access denied',
  forbiddenText: 'Open the address with the token that mail-ingest serve printed.',
  errorTitle: 'Something went wrong',
} as const;

export type MessageKey = keyof typeof EN;

const JA: Record<MessageKey, string> = {
  appName: 'mail-ingest アーカイブ',
  navSearch: '検索',
  navMailboxes: 'メールボックス',
  searchPlaceholder: '語句・名前・アドレス・添付ファイル名（「見積」で「見積書」も見つかります）',
  searchButton: '検索',
  filterMailbox: 'メールボックス',
  filterAny: 'すべて',
  filterFrom: '差出人',
  filterTo: '宛先',
  filterSince: '開始日',
  filterUntil: '終了日',
  filterFlag: 'フラグ',
  filterAttachment: '添付ファイル',
  attachmentYes: '添付あり',
  attachmentNo: '添付なし',
  flagAutoReply: '自動応答',
  flagBounce: 'エラーメール',
  flagList: 'メーリングリスト',
  flagBulk: '一括送信',
  flagSpam: '迷惑メール',
  flagOversized: 'サイズ超過',
  colDate: '日時',
  colFrom: '差出人',
  colSubject: '件名',
  colMailbox: 'メールボックス',
  colFlags: 'フラグ',
  colAttachments: '添付',
  results: '{count} 件',
  resultsMore: '{count} 件以上',
  noResults: '該当するメールはありません。',
  scanLimited: '3 文字未満の語句は新しい {count} 件の中だけで探しました。すべてを探すには条件を加えるか、長い語句にしてください。',
  bodiesPending: '{count} 件は件名・差出人・宛先・添付ファイル名で検索できます。本文は索引を作成中です。',
  previous: '前へ',
  next: '次へ',
  page: '{page} ページ',
  exportMbox: 'mbox で書き出す',
  exportZip: '.eml の zip で書き出す',
  noSubject: '（件名なし）',
  headerFrom: '差出人',
  headerTo: '宛先',
  headerCc: 'Cc',
  headerReplyTo: '返信先',
  headerDate: '日時',
  headerSubject: '件名',
  headerMessageId: 'Message-ID',
  allHeaders: 'すべてのヘッダー',
  verified: '検証済み：保存されたバイト列は記録された SHA-256 と一致します',
  notVerified: '検証できません：保存されたバイト列が記録された SHA-256 と一致しません（{detail}）',
  rawDownload: '元のメッセージをダウンロード（.eml）',
  attachments: '添付ファイル',
  download: 'ダウンロード',
  thread: 'スレッド',
  threadViaSubject: '同じ件名',
  loadRemote: '外部コンテンツを読み込む',
  remoteBlocked: '外部の画像とスタイルはブロックしています。',
  remoteLoaded: 'このメッセージの外部コンテンツを読み込んでいます。',
  hideRemote: '外部コンテンツを再びブロック',
  noBody: 'このメッセージには本文がありません。',
  oversizedNote: 'このメッセージはサイズ上限を超えていたため、ヘッダーのみ保存されています。',
  parseErrorNote: '解析は一部のみです：{reason}',
  truncatedNote: '表示している本文は {limit} で切れています。',
  mailboxesTitle: 'メールボックス',
  lastRun: '前回の実行',
  lastSuccess: '前回の成功',
  lastError: '前回のエラー',
  never: 'なし',
  none: 'なし',
  ok: '正常',
  failed: '失敗',
  runCounts: '保存 {stored} 件・削除 {deleted} 件・失敗 {failed} 件',
  keptOnServer: 'サーバーに残っているメール',
  keptOnServerValue: '取り込み済み {ingested} 件のうち {kept} 件（保存方針：{retention}）',
  oversizedCount: 'サイズ上限超過 {count} 件',
  perDay: '1 日あたりの件数と容量（直近 {days} 日）',
  messages: '件',
  bytes: 'バイト',
  archived: '保存済み',
  archivedValue: '{messages} 件、{bytes}',
  processors: 'ローカル処理',
  processorPosition: '処理位置',
  processorFailures: '失敗',
  noProcessorInfo: '処理位置の記録なし',
  processorBehind: '{bytes} バイト中 {offset} バイトまで処理、未処理 {behind} 件',
  processorDeadLetters: '再試行中 {retrying} 件、断念 {givenUp} 件',
  disabled: '無効',
  notFound: '見つかりません',
  notFoundText: 'この ID のメッセージは索引にありません。',
  badRequest: 'リクエストに問題があります',
  forbidden: 'アクセスできません',
  forbiddenText: 'mail-ingest serve が表示したトークン付きのアドレスを開いてください。',
  errorTitle: 'エラーが発生しました',
};

const CATALOGUE: Record<Lang, Record<MessageKey, string>> = { en: EN, ja: JA };

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The interface language from an Accept-Language header (RFC 9110 12.5.4): the first of ours by weight, else English. */
export function negotiateLang(header: string | undefined): Lang {
  if (header === undefined || header === '') return 'en';
  const ranges = header
    .split(',')
    .slice(0, 20)
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)).find((m) => m !== null);
      return { tag: tag.trim().toLowerCase(), q: q ? Number(q[1]) : 1, i };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    const primary = r.tag.split('-')[0];
    if (primary === 'ja') return 'ja';
    if (primary === 'en') return 'en';
  }
  return 'en';
}

export function translator(lang: Lang): Translate {
  const table = CATALOGUE[lang];
  return (key, params) => {
    let text = table[key];
    if (params !== undefined) text = text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
    return text;
  };
}

/**
 * One formatter per language, made once: an Intl formatter holds ICU memory outside the JavaScript heap, which
 * a new one per date would pile up faster than the collector notices (seen: 1.5 MB per page of results).
 */
const DATE_PARTS: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
};
const DATE_FORMATS: Record<Lang, Intl.DateTimeFormat> = {
  // en-CA writes the day as ISO 8601 does (2025-03-03): no day/month order to guess.
  en: new Intl.DateTimeFormat('en-CA', DATE_PARTS),
  ja: new Intl.DateTimeFormat('ja-JP', DATE_PARTS),
};
const NUMBER_FORMATS: Record<Lang, Intl.NumberFormat> = { en: new Intl.NumberFormat('en'), ja: new Intl.NumberFormat('ja') };

/** Dates as the reader's language writes them, in this machine's time zone: serve is a local application. */
export function formatDate(iso: string | null, lang: Lang): string {
  if (iso === null) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return DATE_FORMATS[lang].format(d);
}

export function formatNumber(n: number, lang: Lang): string {
  return NUMBER_FORMATS[lang].format(n);
}
