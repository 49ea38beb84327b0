import type { Flags } from '../document/metadata-schema.ts';
import { isValidMailboxId } from '../store/keys.ts';
import { QueryError, type QueryIssue } from './errors.ts';

/** A validated search: what the Search page, its JSON twin and `export --query` all run. */
export interface SearchQuery {
  /** Free text as typed. */
  readonly q: string;
  /** Free-text terms: each must occur (a substring, case-insensitive) in the subject, addresses, names, attachment names or body. */
  readonly terms: readonly string[];
  readonly mailbox?: string;
  /** Substring of a sender's name or address. */
  readonly from?: string;
  /** Substring of a To or Cc name or address. */
  readonly to?: string;
  /** Inclusive, `YYYY-MM-DD` (UTC), on the message's date. */
  readonly since?: string;
  /** Inclusive, `YYYY-MM-DD` (UTC). */
  readonly until?: string;
  /** Every one of these flags is set. */
  readonly flags: ReadonlyArray<keyof Flags>;
  /** true: has attachments; false: has none. */
  readonly attachment?: boolean;
  /** 1-based. */
  readonly page: number;
  readonly pageSize: number;
}

/** URL spelling of each flag. */
export const FLAG_PARAMS: Readonly<Record<string, keyof Flags>> = {
  'auto-reply': 'autoReply',
  bounce: 'bounce',
  list: 'list',
  bulk: 'bulk',
  spam: 'spam',
  oversized: 'oversized',
};

export const PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;
const MAX_Q = 500;
const MAX_TERMS = 12;
const MAX_FIELD = 200;
const PARAMS = new Set(['q', 'mailbox', 'from', 'to', 'since', 'until', 'flag', 'attachment', 'page', 'limit', 'format']);

/** Splits free text into terms; "double quotes" keep spaces inside one term. */
export function splitTerms(q: string): string[] {
  const out: string[] = [];
  for (const m of q.matchAll(/"([^"]*)"|(\S+)/gu)) {
    const term = (m[1] ?? m[2] ?? '').trim();
    if (term !== '') out.push(term);
  }
  return out;
}

function day(value: string, param: string, issues: QueryIssue[]): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m === null ? null : new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (d === null || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    issues.push({ param, message: `expected a day as YYYY-MM-DD, got ${JSON.stringify(value.slice(0, 40))}` });
    return undefined;
  }
  return value;
}

function positive(value: string, param: string, max: number, issues: QueryIssue[]): number | undefined {
  if (!/^\d{1,7}$/.test(value) || Number(value) < 1 || Number(value) > max) {
    issues.push({ param, message: `expected a whole number from 1 to ${max}, got ${JSON.stringify(value.slice(0, 40))}` });
    return undefined;
  }
  return Number(value);
}

/**
 * Validates search parameters (a URL's, or the export command's), reporting every problem at once. Empty values
 * mean "no filter", as an HTML form sends them.
 */
export function parseSearchQuery(params: URLSearchParams, options: { readonly strict?: boolean } = {}): SearchQuery {
  const issues: QueryIssue[] = [];
  const one = (name: string): string | undefined => {
    const all = params
      .getAll(name)
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (all.length > 1) issues.push({ param: name, message: 'given more than once' });
    return all[0];
  };
  if (options.strict) {
    for (const key of new Set(params.keys()))
      if (!PARAMS.has(key)) issues.push({ param: key, message: `unknown parameter (known: ${[...PARAMS].join(', ')})` });
  }
  const q = one('q') ?? '';
  if (q.length > MAX_Q) issues.push({ param: 'q', message: `longer than ${MAX_Q} characters` });
  const terms = splitTerms(q);
  if (terms.length > MAX_TERMS) issues.push({ param: 'q', message: `more than ${MAX_TERMS} terms` });
  const mailbox = one('mailbox');
  if (mailbox !== undefined && !isValidMailboxId(mailbox))
    issues.push({ param: 'mailbox', message: `not a mailbox id: ${JSON.stringify(String(mailbox).slice(0, 70))}` });
  const from = one('from');
  const to = one('to');
  for (const [name, v] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (v !== undefined && v.length > MAX_FIELD) issues.push({ param: name, message: `longer than ${MAX_FIELD} characters` });
  }
  const sinceText = one('since');
  const untilText = one('until');
  const since = sinceText === undefined ? undefined : day(sinceText, 'since', issues);
  const until = untilText === undefined ? undefined : day(untilText, 'until', issues);
  if (since !== undefined && until !== undefined && since > until)
    issues.push({ param: 'until', message: `${until} is before since ${since}` });
  const flags: Array<keyof Flags> = [];
  for (const f of params
    .getAll('flag')
    .map((v) => v.trim())
    .filter((v) => v !== '')) {
    const flag = FLAG_PARAMS[f];
    if (flag === undefined)
      issues.push({
        param: 'flag',
        message: `unknown flag ${JSON.stringify(f.slice(0, 40))} (known: ${Object.keys(FLAG_PARAMS).join(', ')})`,
      });
    else if (!flags.includes(flag)) flags.push(flag);
  }
  const attachmentText = one('attachment');
  let attachment: boolean | undefined;
  if (attachmentText === 'yes') attachment = true;
  else if (attachmentText === 'no') attachment = false;
  else if (attachmentText !== undefined)
    issues.push({ param: 'attachment', message: `expected yes or no, got ${JSON.stringify(attachmentText.slice(0, 40))}` });
  const pageText = one('page');
  const limitText = one('limit');
  const page = pageText === undefined ? 1 : (positive(pageText, 'page', 1_000_000, issues) ?? 1);
  const pageSize = limitText === undefined ? PAGE_SIZE : (positive(limitText, 'limit', MAX_PAGE_SIZE, issues) ?? PAGE_SIZE);
  if (issues.length > 0) throw new QueryError(issues);
  return {
    q,
    terms,
    flags,
    page,
    pageSize,
    ...(mailbox === undefined ? {} : { mailbox }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(attachment === undefined ? {} : { attachment }),
  };
}

/** The query's own URL parameters (for links to other pages of the same search, and the export link). */
export function queryParams(q: SearchQuery, extra: Record<string, string> = {}): URLSearchParams {
  const p = new URLSearchParams();
  if (q.q !== '') p.set('q', q.q);
  for (const k of ['mailbox', 'from', 'to', 'since', 'until'] as const) if (q[k] !== undefined) p.set(k, q[k]!);
  for (const f of q.flags) p.append('flag', Object.keys(FLAG_PARAMS).find((k) => FLAG_PARAMS[k] === f)!);
  if (q.attachment !== undefined) p.set('attachment', q.attachment ? 'yes' : 'no');
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p;
}
