import type { MailboxRunSummary } from '../ingest/pipeline-types.ts';
import { hintFor, type ClassifiedError } from '../error-codes.ts';
import type { FailureClass } from '../coded-error.ts';
import { formatBytes } from '../format-bytes.ts';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Terminal columns a string takes: East Asian wide and full-width characters take two (UAX #11). */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x300 && c <= 0x36f)) continue;
    const wide =
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0x303e) ||
      (c >= 0x3041 && c <= 0x33ff) ||
      (c >= 0x3400 && c <= 0x4dbf) ||
      (c >= 0x4e00 && c <= 0x9fff) ||
      (c >= 0xa000 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1f300 && c <= 0x1faff) ||
      (c >= 0x20000 && c <= 0x3fffd) ||
      (c >= 0x2460 && c <= 0x24ff) ||
      (c >= 0x3200 && c <= 0x32ff);
    w += wide ? 2 : 1;
  }
  return w;
}

/**
 * C0 and C1 controls (ESC starts CSI and OSC sequences, U+009B is CSI on its own, BEL ends an OSC), DEL, and the
 * bidirectional overrides: a terminal acts on them. Server text (CAPA words, certificate names, -ERR lines) must
 * never reach one raw, or a server could retitle the window, rewrite earlier lines or hide text.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_FOR_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every terminal control shown as an escape (`\x1b`, `\u{202e}`) instead of acted on. */
export function printable(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, (c) => {
    const n = c.codePointAt(0)!;
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}

/** `printable` line by line: a message of several lines (every problem of a config) keeps its line breaks. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/** A copy of a record of server-given strings (certificate names, TLS details) with each made `printable`. */
export function printableFields<T extends object>(value: T | null): T | null {
  if (value === null) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = typeof v === 'string' ? printable(v) : Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? printable(x) : x)) : v;
  }
  return out as T;
}

/**
 * JSON for a terminal or a log: JSON.stringify escapes C0 controls but writes DEL, C1 and bidi controls raw; they
 * are escaped here too (`\u009b`), which any JSON reader decodes back to the same value.
 */
export function terminalJson(value: unknown, indent?: number): string {
  // Not C0: JSON.stringify has escaped those already, and the line breaks of the indentation are ours.
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function pad(text: string, width: number, left: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return left ? fill + text : text + fill;
}

/** A plain-text table: columns padded by display width, numbers right-aligned. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => printable(String(c))));
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...cells.map((r) => displayWidth(r[i] ?? ''))));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => pad(c, widths[i] ?? 0, numeric[i] ?? false))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function summaryTable(summaries: readonly MailboxRunSummary[]): string {
  return table(
    ['mailbox', 'new', 'stored', 'published', 'deleted', 'skipped', 'failed', 'bytes', 'time', 'result'],
    summaries.map((s) => [
      s.mailbox,
      s.new,
      s.stored,
      s.published,
      s.deleted,
      s.skipped + s.oversized,
      s.failed,
      formatBytes(s.bytes),
      formatDuration(s.durationMs),
      s.leasedBy !== undefined ? 'skipped (running elsewhere)' : s.ok ? 'ok' : `FAILED (${s.error?.class ?? 'storage'})`,
    ]),
  );
}

/** What to do, from the table of codes; none for ETLS, whose message already says it for the failure seen. */
export function hintText(e: { readonly class: FailureClass; readonly code: string }): string | null {
  return e.code === 'ETLS' ? null : hintFor(e);
}

/** "auth error EAUTH: PASS failed: -ERR ... (what to do)". */
export function errorText(e: ClassifiedError & { readonly retryAfterSeconds?: number }): string {
  if (e.retryAfterSeconds !== undefined) {
    // RFC 2449 LOGIN-DELAY: nothing is wrong but the schedule; say when the server takes the next login.
    return (
      `login refused as too soon (${e.code}), retry after ${e.retryAfterSeconds} s: ${e.message} ` +
      `(the server allows one login every ${e.retryAfterSeconds} s: poll this mailbox at least that far apart)`
    );
  }
  const hint = hintText(e);
  return `${e.class} error ${e.code}: ${e.message}${hint === null ? '' : ` (${hint})`}`;
}

/** The error a failed run reports: its first failure, else how many messages could not be stored. */
export function summaryError(s: MailboxRunSummary): ClassifiedError {
  return s.error ?? { class: 'storage', code: 'EFAILED', message: `${s.failed} message(s) could not be stored` };
}

/** One line a person can act on: which mailbox, which class of problem, what happened, what to do. */
export function failureLine(s: MailboxRunSummary): string {
  return printable(`${s.mailbox}: ${errorText(summaryError(s))}`);
}
