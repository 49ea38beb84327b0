import type { Lang, Translate } from './i18n.ts';

/** Markup we wrote ourselves (or that the sanitizer produced): inserted as is. Everything else is escaped. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an element or a double- or single-quoted attribute. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function piece(v: unknown): string {
  if (v instanceof SafeHtml) return v.value;
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return v.map(piece).join('');
  return esc(String(v));
}

/**
 * The only way pages build markup: every interpolated value is escaped unless it is SafeHtml, so message text (a
 * subject, a name, a file name) can never become markup, whatever it holds.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

export interface LayoutOptions {
  readonly lang: Lang;
  readonly t: Translate;
  readonly title: string;
  readonly active: 'search' | 'mailboxes' | 'message' | 'error';
  readonly body: SafeHtml;
}

export function layout(o: LayoutOptions): string {
  const nav = (href: string, label: string, key: LayoutOptions['active']) =>
    html`<a href="${href}"${o.active === key ? new SafeHtml(' aria-current="page"') : ''}>${label}</a>`;
  return `<!doctype html>\n${
    html`<html lang="${o.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${o.title} - ${o.t('appName')}</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>
<header class="top"><span class="brand">${o.t('appName')}</span><nav>${nav('/search', o.t('navSearch'), 'search')}${nav('/mailboxes', o.t('navMailboxes'), 'mailboxes')}</nav></header>
<main>
${o.body}
</main>
</body>
</html>`.value
  }\n`;
}
