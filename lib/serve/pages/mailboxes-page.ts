import { formatDate, formatNumber, type Lang, type Translate } from '../i18n.ts';
import { html, layout } from '../html.ts';
import { formatBytes } from '../../format-bytes.ts';
import { dayChart } from '../chart.ts';
import { CHART_DAYS, type MailboxHealth, type ProcessorHealth } from '../mailbox-health.ts';

export interface MailboxesModel {
  readonly mailboxes: readonly MailboxHealth[];
  readonly processors: readonly ProcessorHealth[];
  readonly now: Date;
  readonly index: { readonly documents: number; readonly pendingBodies: number };
}

export function mailboxesJson(m: MailboxesModel) {
  return { generatedAt: m.now.toISOString(), index: m.index, mailboxes: m.mailboxes, processors: m.processors };
}

export function renderMailboxes(m: MailboxesModel, lang: Lang, t: Translate): string {
  const when = (iso: string | null | undefined) => (iso === null || iso === undefined ? t('never') : formatDate(iso, lang));
  const sections = m.mailboxes.map((b) => {
    const run = b.lastRun ?? null;
    return html`<section class="mailbox" id="mailbox-${b.id}">
<h2>${b.id} <span class="host">${b.host}</span>${b.enabled ? '' : html` <span class="flag">${t('disabled')}</span>`}</h2>
<table class="facts">
<tr><th>${t('lastRun')}</th><td>${run === null ? t('never') : html`${when(run.finishedAt)} <span class="${run.ok ? 'ok' : 'failed'}">${run.ok ? t('ok') : t('failed')}</span> ${t('runCounts', { stored: run.stored, deleted: run.deleted, failed: run.failed })}`}</td></tr>
<tr><th>${t('lastSuccess')}</th><td>${when(b.lastSuccess)}</td></tr>
<tr><th>${t('lastError')}</th><td class="error">${b.lastError === null ? t('none') : html`<span class="class">${b.lastError.class}</span> <code>${b.lastError.code}</code> ${b.lastError.message} <span class="date">${when(b.lastError.at)}</span>`}${b.stateError === null ? '' : html` <span class="failed">${b.stateError}</span>`}</td></tr>
<tr><th>${t('keptOnServer')}</th><td>${t('keptOnServerValue', { kept: b.keptOnServer, ingested: b.ingested, retention: b.retention })}${b.oversized > 0 ? html`, ${t('oversizedCount', { count: b.oversized })}` : ''}</td></tr>
<tr><th>${t('archived')}</th><td>${t('archivedValue', { messages: formatNumber(b.archived.messages, lang), bytes: formatBytes(b.archived.bytes) })}</td></tr>
</table>
<figure><figcaption>${t('perDay', { days: CHART_DAYS })}</figcaption>${dayChart(b.perDay, CHART_DAYS, m.now, { messages: t('messages'), bytes: t('bytes') })}</figure>
</section>`;
  });
  const processors =
    m.processors.length === 0
      ? ''
      : html`<section class="processors"><h2>${t('processors')}</h2><table class="results">
<thead><tr><th>name</th><th>kind</th><th>${t('processorPosition')}</th><th>${t('processorFailures')}</th></tr></thead>
<tbody>${m.processors.map(
          (p) => html`<tr><td>${p.name}</td><td>${p.kind}</td>
<td>${p.position === null ? t('noProcessorInfo') : t('processorBehind', { offset: formatNumber(p.position.offset, lang), bytes: formatNumber(p.position.logBytes, lang), behind: formatNumber(p.position.behind, lang) })}</td>
<td>${p.failures === null ? '-' : t('processorDeadLetters', { retrying: p.failures.retrying, givenUp: p.failures.givenUp })}${p.lastFailure === null ? '' : html`<div class="error">${when(p.lastFailure.at)} ${p.lastFailure.error}</div>`}</td></tr>`,
        )}</tbody></table></section>`;
  return layout({
    lang,
    t,
    title: t('mailboxesTitle'),
    active: 'mailboxes',
    body: html`<h1>${t('mailboxesTitle')}</h1>${sections}${processors}`,
  });
}
