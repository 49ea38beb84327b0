import type { Address, Flags } from '../../document/metadata-schema.ts';
import { FLAG_PARAMS, queryParams, type SearchQuery } from '../../search/search-query.ts';
import type { SearchHit, SearchResult } from '../../search/search.ts';
import { formatDate, formatNumber, type Lang, type MessageKey, type Translate } from '../i18n.ts';
import { html, layout, SafeHtml } from '../html.ts';

export const FLAG_LABELS: Readonly<Record<keyof Flags, MessageKey>> = {
  autoReply: 'flagAutoReply',
  bounce: 'flagBounce',
  list: 'flagList',
  bulk: 'flagBulk',
  spam: 'flagSpam',
  oversized: 'flagOversized',
};

export interface SearchModel {
  readonly query: SearchQuery;
  readonly result: SearchResult;
  readonly mailboxes: readonly string[];
  readonly pendingBodies: number;
}

export function messageUrl(id: string): string {
  return `/messages/${encodeURIComponent(id)}`;
}

export function senderText(from: readonly Address[]): string {
  const a = from[0];
  if (a === undefined) return '';
  return a.name !== '' ? a.name : a.address;
}

function hitJson(h: SearchHit) {
  return { ...h, url: messageUrl(h.id), api: `/api${messageUrl(h.id)}` };
}

export function searchJson(m: SearchModel) {
  return {
    query: m.query,
    total: m.result.total,
    totalIsLowerBound: m.result.totalIsLowerBound,
    scanLimited: m.result.scanLimited,
    pendingBodies: m.pendingBodies,
    page: m.result.page,
    pageSize: m.result.pageSize,
    hits: m.result.hits.map(hitJson),
    export: {
      mbox: `/export?${queryParams(m.query, { format: 'mbox' })}`,
      emlZip: `/export?${queryParams(m.query, { format: 'eml-zip' })}`,
    },
  };
}

export function searchForm(q: SearchQuery | null, mailboxes: readonly string[], t: Translate): SafeHtml {
  const flagOptions = Object.entries(FLAG_PARAMS).map(
    ([param, flag]) =>
      html`<option value="${param}"${q?.flags.includes(flag) ? new SafeHtml(' selected') : ''}>${t(FLAG_LABELS[flag])}</option>`,
  );
  const sel = (on: boolean) => (on ? new SafeHtml(' selected') : '');
  return html`<form class="search" method="get" action="/search" role="search">
<div class="row"><input type="search" name="q" value="${q?.q ?? ''}" placeholder="${t('searchPlaceholder')}" aria-label="${t('searchButton')}" autofocus>
<button type="submit">${t('searchButton')}</button></div>
<div class="filters">
<label>${t('filterMailbox')} <select name="mailbox"><option value="">${t('filterAny')}</option>${mailboxes.map((b) => html`<option${sel(q?.mailbox === b)}>${b}</option>`)}</select></label>
<label>${t('filterFrom')} <input name="from" value="${q?.from ?? ''}" size="14"></label>
<label>${t('filterTo')} <input name="to" value="${q?.to ?? ''}" size="14"></label>
<label>${t('filterSince')} <input type="date" name="since" value="${q?.since ?? ''}"></label>
<label>${t('filterUntil')} <input type="date" name="until" value="${q?.until ?? ''}"></label>
<label>${t('filterFlag')} <select name="flag"><option value="">${t('filterAny')}</option>${flagOptions}</select></label>
<label>${t('filterAttachment')} <select name="attachment"><option value="">${t('filterAny')}</option><option value="yes"${sel(q?.attachment === true)}>${t('attachmentYes')}</option><option value="no"${sel(q?.attachment === false)}>${t('attachmentNo')}</option></select></label>
</div>
</form>`;
}

export function flagBadges(flags: Flags, t: Translate): SafeHtml {
  return html`${(Object.keys(FLAG_LABELS) as Array<keyof Flags>).filter((f) => flags[f]).map((f) => html`<span class="flag flag-${f}">${t(FLAG_LABELS[f])}</span>`)}`;
}

export function renderSearch(m: SearchModel, lang: Lang, t: Translate): string {
  const r = m.result;
  const pages = Math.max(1, Math.ceil(r.total / r.pageSize));
  const link = (page: number, label: string) =>
    html`<a href="/search?${queryParams(m.query, { page: String(page) }).toString()}">${label}</a>`;
  const rows = r.hits.map(
    (h) => html`<tr>
<td class="date">${formatDate(h.date, lang)}</td>
<td class="from" title="${h.from[0]?.address ?? ''}">${senderText(h.from)}</td>
<td class="subject"><a href="${messageUrl(h.id)}">${h.subject ?? t('noSubject')}</a><div class="snippet">${h.snippet.slice(0, 140)}</div></td>
<td class="mailbox">${h.mailbox}</td>
<td class="flags">${flagBadges(h.flags, t)}</td>
<td class="attachments">${h.attachments > 0 ? String(h.attachments) : ''}</td>
</tr>`,
  );
  const body = html`<h1>${t('navSearch')}</h1>
${searchForm(m.query, m.mailboxes, t)}
<div class="summary"><span id="result-count">${r.totalIsLowerBound ? t('resultsMore', { count: formatNumber(r.total, lang) }) : t('results', { count: formatNumber(r.total, lang) })}</span>
<span class="exports"><a class="button" href="/export?${queryParams(m.query, { format: 'mbox' }).toString()}" download>${t('exportMbox')}</a>
<a class="button" href="/export?${queryParams(m.query, { format: 'eml-zip' }).toString()}" download>${t('exportZip')}</a></span></div>
${r.scanLimited ? html`<p class="note">${t('scanLimited', { count: '5,000' })}</p>` : ''}
${m.pendingBodies > 0 ? html`<p class="note">${t('bodiesPending', { count: formatNumber(m.pendingBodies, lang) })}</p>` : ''}
${
  r.hits.length === 0
    ? html`<p class="empty">${t('noResults')}</p>`
    : html`<table class="results">
<thead><tr><th>${t('colDate')}</th><th>${t('colFrom')}</th><th>${t('colSubject')}</th><th>${t('colMailbox')}</th><th>${t('colFlags')}</th><th>${t('colAttachments')}</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
<nav class="pager">${r.page > 1 ? link(r.page - 1, t('previous')) : ''} <span>${t('page', { page: r.page })} / ${pages}</span> ${r.page < pages ? link(r.page + 1, t('next')) : ''}</nav>`;
  return layout({ lang, t, title: m.query.q === '' ? t('navSearch') : m.query.q, active: 'search', body });
}
