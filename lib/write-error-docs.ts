/** Regenerates docs/errors.md from lib/error-codes.ts: `npm run docs:errors` (a test checks it is current). */
import { writeFile } from 'node:fs/promises';
import type { FailureClass } from './coded-error.ts';
import { CLASS_HINTS, ERROR_CODES, type ErrorCodeInfo } from './error-codes.ts';

export const ERROR_DOCS_FILE = new URL('../docs/errors.md', import.meta.url);

const CLASS_ORDER: readonly FailureClass[] = ['auth', 'tls', 'network', 'protocol', 'storage', 'publish', 'config', 'internal'];

const cell = (text: string): string => text.replace(/\|/g, '\\|');

export function renderErrorDocs(): string {
  const out = [
    '# Error codes',
    '',
    'Generated from `lib/error-codes.ts` by `npm run docs:errors`; do not edit by hand.',
    '',
    'Every failure mail-ingest reports carries a **class** (where to look) and a stable **code** (what happened).',
    'The CLI prints them as `<mailbox>: <class> error <code>: <message> (<what to do>)`, the state keeps the last one',
    'per mailbox (`mail-ingest status`), and the Lambda poller logs them as `errorCode` / `failureClass`.',
    'Whatever the error, nothing is deleted from a server unless its message is durably archived first.',
    '',
  ];
  const entries = Object.entries(ERROR_CODES) as Array<[string, ErrorCodeInfo]>;
  for (const cls of CLASS_ORDER) {
    const rows = entries.filter(([, e]) => e.class === cls);
    if (rows.length === 0) continue;
    out.push(`## ${cls}`, '', `${CLASS_HINTS[cls]}.`, '', '| code | meaning | what to do | retried | raised by |', '|---|---|---|---|---|');
    for (const [code, e] of rows)
      out.push(`| \`${code}\` | ${cell(e.meaning)} | ${cell(e.action)} | ${e.retryable ? 'yes' : 'no'} | ${e.source} |`);
    out.push('');
  }
  return `${out.join('\n')}`;
}

if (import.meta.main) {
  await writeFile(ERROR_DOCS_FILE, renderErrorDocs());
  console.log(`wrote ${ERROR_DOCS_FILE.pathname}`);
}
