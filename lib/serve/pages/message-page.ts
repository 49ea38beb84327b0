import type { Address, MetadataDocument } from '../../document/metadata-schema.ts';
import type { ThreadEntry } from '../../search/thread.ts';
import { formatDate, type Lang, type Translate } from '../i18n.ts';
import { html, layout } from '../html.ts';
import { formatBytes } from '../../format-bytes.ts';
import type { MessageContent } from '../message-content.ts';
import { flagBadges, messageUrl, senderText } from './search-page.ts';

export interface MessageModel {
  readonly doc: MetadataDocument;
  readonly content: MessageContent;
  readonly thread: readonly ThreadEntry[];
  readonly remote: boolean;
}

export function attachmentUrl(id: string, n: number): string {
  return `${messageUrl(id)}/attachments/${n}`;
}

export function messageJson(m: MessageModel) {
  const id = m.doc.id;
  return {
    document: m.doc,
    verified: m.content.verified,
    headers: m.content.headers,
    text: m.content.text,
    hasHtml: m.content.html !== null,
    limited: m.content.limited,
    attachments: m.doc.attachments.map((a, n) => ({ ...a, url: attachmentUrl(id, n) })),
    thread: m.thread.map((e) => ({ ...e, url: messageUrl(e.id) })),
    links: { page: messageUrl(id), raw: `${messageUrl(id)}/raw`, body: m.content.html === null ? null : `${messageUrl(id)}/body` },
  };
}

function addresses(list: readonly Address[]): string {
  return list.map((a) => (a.name === '' ? a.address : `${a.name} <${a.address}>`)).join(', ');
}

export function renderMessage(m: MessageModel, lang: Lang, t: Translate): string {
  const d = m.doc;
  const id = d.id;
  const v = m.content.verified;
  const row = (label: string, value: string | null) =>
    value === null || value === '' ? '' : html`<tr><th>${label}</th><td>${value}</td></tr>`;
  const bodyUrl = `${messageUrl(id)}/body${m.remote ? '?remote=1' : ''}`;
  const bodyPart =
    m.content.html !== null
      ? html`<div class="remote">${
          m.remote
            ? html`<span>${t('remoteLoaded')}</span> <a href="${messageUrl(id)}">${t('hideRemote')}</a>`
            : html`<span>${t('remoteBlocked')}</span> <a id="load-remote" href="${messageUrl(id)}?remote=1">${t('loadRemote')}</a>`
        }</div>
<iframe id="message-body" class="body" src="${bodyUrl}" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" title="${d.subject ?? t('noSubject')}"></iframe>`
      : m.content.text !== null
        ? html`<pre id="message-text" class="text">${m.content.text}</pre>`
        : html`<p class="empty">${t('noBody')}</p>`;
  const body = html`<article class="message">
<h1 id="subject">${d.subject ?? t('noSubject')}</h1>
<p class="${v.ok ? 'verified' : 'not-verified'}" id="verified">${v.ok ? `✔ ${t('verified')}` : `✘ ${t('notVerified', { detail: `${v.size} bytes` })}`}</p>
<table class="headers">
${row(t('headerFrom'), addresses(d.from))}
${row(t('headerTo'), addresses(d.to))}
${row(t('headerCc'), addresses(d.cc))}
${row(t('headerReplyTo'), addresses(d.replyTo))}
${row(t('headerDate'), formatDate(d.date, lang))}
${row(t('headerMessageId'), d.messageId)}
<tr><th>${t('colMailbox')}</th><td>${d.mailbox} ${flagBadges(d.flags, t)}</td></tr>
</table>
<details class="all-headers"><summary>${t('allHeaders')}</summary><table>${m.content.headers.map((h) => html`<tr><th>${h.name}</th><td>${h.value}</td></tr>`)}</table></details>
${d.flags.oversized ? html`<p class="note">${t('oversizedNote')}</p>` : ''}
${d.parseError !== null ? html`<p class="note">${t('parseErrorNote', { reason: d.parseError })}</p>` : ''}
${m.content.limited !== null ? html`<p class="note">${t('truncatedNote', { limit: m.content.limited })}</p>` : ''}
<p class="downloads"><a id="raw-download" class="button" href="${messageUrl(id)}/raw" download>${t('rawDownload')}</a> <span class="size">${formatBytes(d.raw.size)}</span></p>
${d.attachments.length === 0 ? '' : html`<section class="attachments"><h2>${t('attachments')}</h2><ul>${d.attachments.map((a, n) => html`<li><a class="attachment" href="${attachmentUrl(id, n)}" download>${a.filename ?? `attachment-${n + 1}`}</a> <span class="type">${a.contentType}</span> <span class="size">${formatBytes(a.size)}</span></li>`)}</ul></section>`}
<section class="body-part">${bodyPart}</section>
${m.thread.length <= 1 ? '' : html`<section class="thread"><h2>${t('thread')}</h2><ol>${m.thread.map((e) => html`<li${e.id === id ? html` class="current"` : ''}>${e.id === id ? html`<strong>${e.subject ?? t('noSubject')}</strong>` : html`<a href="${messageUrl(e.id)}">${e.subject ?? t('noSubject')}</a>`} <span class="from">${senderText(e.from)}</span> <span class="date">${formatDate(e.date, lang)}</span>${e.via === 'subject' ? html` <span class="via">(${t('threadViaSubject')})</span>` : ''}</li>`)}</ol></section>`}
</article>`;
  return layout({ lang, t, title: d.subject ?? t('noSubject'), active: 'message', body });
}
