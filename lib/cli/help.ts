/**
 * What `mail-ingest <command> --help` shows after the options: examples, the exit codes, and where the
 * configuration format and the error codes are documented (files shipped with the package, by absolute path).
 */
import path from 'node:path';
import { LIB_DIR } from './paths.ts';

const ROOT = path.dirname(LIB_DIR);

const EXIT_CODES = {
  run: [
    ['0', 'every mailbox succeeded'],
    ['1', 'a mailbox failed (the others still ran); each failure is printed once, with what to do'],
    ['2', 'usage or configuration error (every problem in the file is listed)'],
  ],
  check: [
    ['0', 'every mailbox connected, verified TLS, logged in and answered STAT'],
    ['1', 'a mailbox failed; the line says why (a TLS failure shows the certificate the server presented)'],
    ['2', 'usage or configuration error'],
  ],
  status: [
    ['0', "no mailbox's last run failed (a mailbox never run counts as fine)"],
    ['1', "a mailbox's last run failed"],
    ['2', 'usage or configuration error'],
  ],
  replay: [
    ['0', 'every document was published again'],
    ['1', 'publishing failed'],
    ['2', 'usage or configuration error'],
  ],
  verify: [
    ['0', 'the archive matches the state and the documents'],
    ['1', 'something does not match (or could not be read): each problem is one line with its kind and key'],
    ['2', 'usage or configuration error'],
  ],
  demo: [
    ['0', 'the demo ran (with --serve: the server was stopped by Ctrl-C or SIGTERM)'],
    ['1', 'the demo run failed'],
    ['2', 'usage error (e.g. --port taken)'],
  ],
  auth: [
    ['0', 'signed in, the refresh token stored, and the POP3 login with it worked'],
    ['1', 'the sign-in failed or was declined, or the token is stored but the POP3 login failed'],
    ['2', 'usage or configuration error (e.g. the mailbox has no oauth2 block, or uses client credentials)'],
  ],
  serve: [
    ['0', 'the server was stopped by Ctrl-C or SIGTERM'],
    ['1', 'the archive or the index could not be opened'],
    ['2', 'usage or configuration error (e.g. --port taken or not a number)'],
  ],
  index: [
    ['0', 'the index holds every document of the archive'],
    ['1', 'the archive or the index file could not be read or written'],
    ['2', 'usage or configuration error'],
  ],
  export: [
    ['0', 'the export file and its manifests were written; its sha256 is printed'],
    ['1', 'a message did not match its recorded sha256, or the file could not be written (no file is left)'],
    ['2', 'usage or configuration error (--out exists, a bad --format or date)'],
  ],
  init: [
    ['0', 'the config was written and `check` passed (OAuth 2: written; next, `mail-ingest auth`)'],
    ['1', 'the config was written but `check` failed (the file is kept: fix and run check again)'],
    ['2', 'usage error, a value the config would not accept, or the file exists (--force replaces it)'],
  ],
} as const;

const EXAMPLES: Record<keyof typeof EXIT_CODES, ReadonlyArray<readonly [string, string]>> = {
  run: [
    ['mail-ingest run -c mail.json', 'ingest once: a table per mailbox'],
    ['mail-ingest run -c mail.json -m support', 'only the mailbox "support"'],
    ['mail-ingest run -c mail.json --every 5m', 'keep polling; SIGTERM finishes the run in progress'],
    ['mail-ingest run -c mail.json --json >> runs.jsonl', 'one JSON object per run and line (cron)'],
    ['mail-ingest run -c mail.json --log-format json', 'log lines on stderr as JSON, with timestamps'],
  ],
  check: [
    ['mail-ingest check -c mail.json', 'TLS, certificate, login, capabilities, message count'],
    ['mail-ingest check -c mail.json -m support --json', 'one JSON object per line'],
  ],
  status: [
    ['mail-ingest status -c mail.json', 'last run of each mailbox, when, and its last error'],
    ['mail-ingest status -c mail.json --json', 'for monitoring (exit 1 when a last run failed)'],
  ],
  replay: [
    ['mail-ingest replay -c mail.json --since 2026-11-01', 'publish again what was filed since that day'],
    ['mail-ingest replay -c mail.json --target tickets', 'fill one new processor from the archive'],
  ],
  verify: [
    ['mail-ingest verify -c mail.json', 'read every archived message back and check it (an audit)'],
    ['mail-ingest verify -c mail.json -m support --json', 'the problems as one JSON object'],
  ],
  demo: [
    ['mail-ingest demo', 'the whole pipeline once, into ./demo-data'],
    ['mail-ingest demo --serve', 'keep the demo server up; try run, check, status, --every on it'],
    ['mail-ingest demo --serve --port 9995 --mail-every 10s', 'a fixed port, new mail every 10 s'],
  ],
  auth: [
    ['mail-ingest auth -c mail.json -m support', 'shows a URL and a code; sign in there, the token is stored'],
    ['mail-ingest auth -c mail.json -m gmail', "Google: prints a page to open in this machine's browser"],
    ['mail-ingest auth -c mail.json -m support --no-check', 'store the token without trying a POP3 login'],
  ],
  serve: [
    ['mail-ingest serve -c mail.json', 'open the printed address (it carries the access token)'],
    ['mail-ingest serve -c mail.json --port 0 --refresh 1m', 'any free port; look for new mail every minute'],
    ['mail-ingest serve -c mail.json --host 192.0.2.10', 'reachable on the network (the token is still required)'],
  ],
  index: [
    ['mail-ingest index -c mail.json', 'add what the archive holds and the index not yet'],
    ['mail-ingest index -c mail.json --rebuild', "recreate the index from the archive's documents"],
  ],
  export: [
    ['mail-ingest export -c mail.json --format eml-zip --query 見積 --out quotes.zip', 'a zip of .eml files with manifests'],
    ['mail-ingest export -c mail.json --format mbox -m support --since 2026-01-01 --out support.mbox', 'an mbox (mboxrd)'],
  ],
  init: [
    ['mail-ingest init', 'on a terminal: asks for the provider, address and where to archive'],
    ['mail-ingest init --preset ocn --user taro@example.ocn.ne.jp --id support --out mail.json', 'no questions'],
    ['mail-ingest init --preset kagoya --user kagoya-account --out mail.json', 'KAGOYA logs in with the account name'],
    [
      'mail-ingest init --preset microsoft365 --address info@contoso.co.jp --tenant contoso.onmicrosoft.com --client-id <app id>',
      'OAuth 2; then mail-ingest auth',
    ],
    [
      'mail-ingest init --preset gmail --address info@example.jp --oauth --client-id <client id>',
      'Gmail with OAuth 2 instead of an app password',
    ],
    ['mail-ingest init --list-presets', 'the providers known, with host, port and login form'],
  ],
};

function rows(list: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...list.map(([a]) => a.length));
  return list.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`).join('\n');
}

export function helpAfter(command: keyof typeof EXIT_CODES): string {
  return [
    '',
    'Examples:',
    rows(EXAMPLES[command]),
    '',
    'Exit codes:',
    rows(EXIT_CODES[command]),
    '',
    `Configuration file: ${path.join(ROOT, 'README.md')} (section "Configuration"),`,
    `  JSON Schema: ${path.join(ROOT, 'lib', 'config', 'config.schema.json')}`,
    `Error codes and what to do: ${path.join(ROOT, 'docs', 'errors.md')}`,
  ].join('\n');
}
