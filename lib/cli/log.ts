/**
 * The CLI's log lines on stderr, each with a timestamp: `text` for a person (local time with its offset),
 * `json` for a machine (one object per line, UTC). Values are ours (codes, counts, keys), never a secret or
 * message content. A failure is printed once: when the pipeline reports it as it happens, the end-of-run
 * summary does not repeat it.
 */
import type { ClassifiedError } from '../error-codes.ts';
import { redact } from '../redact.ts';
import { errorText, hintText, printable, terminalJson } from './format.ts';
import { createProgress, type ProgressReporter } from './progress.ts';
import { localTimestamp } from './time-format.ts';
import { UsageError } from './usage-error.ts';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

export function parseLogFormat(text: string | undefined): LogFormat {
  if (text === undefined) return 'text';
  if ((LOG_FORMATS as readonly string[]).includes(text)) return text as LogFormat;
  throw new UsageError(`--log-format: expected ${LOG_FORMATS.join(' or ')}, got ${JSON.stringify(text)}`);
}

export interface CliLog {
  readonly format: LogFormat;
  line(level: LogLevel, message: string, fields?: LogFields): void;
  /** A mailbox's failure, with what to do; printed once per mailbox and error. */
  failure(mailbox: string, error: ClassifiedError, message?: string, fields?: LogFields): void;
  /** Whether failure() already printed this error for this mailbox. */
  reported(mailbox: string, error: ClassifiedError): boolean;
}

function isClassified(v: unknown): v is ClassifiedError {
  const e = v as ClassifiedError | null;
  return typeof e === 'object' && e !== null && typeof e.class === 'string' && typeof e.code === 'string' && typeof e.message === 'string';
}

/** key=value, for the text format. */
export function renderFields(fields: LogFields | undefined): string {
  if (fields === undefined) return '';
  return Object.entries(fields)
    .filter(([k, v]) => k !== 'mailbox' && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export function createLog(o: { format: LogFormat; write?: (line: string) => void; now?: () => Date }): CliLog {
  const out =
    o.write ??
    ((line: string) => {
      process.stderr.write(`${line}\n`);
    });
  // Log lines carry server words (an -ERR text): no secret a server echoed, and no control a terminal would act on.
  const write = (line: string): void => out(redact(line));
  const now = o.now ?? (() => new Date());
  const seen = new Set<string>();
  const key = (mailbox: string, e: ClassifiedError): string => `${mailbox}\0${e.code}\0${e.message}`;

  const line = (level: LogLevel, message: string, fields: LogFields = {}): void => {
    const t = now();
    if (o.format === 'json') {
      const { mailbox, ...rest } = fields;
      write(terminalJson({ time: t.toISOString(), level, ...(mailbox === undefined ? {} : { mailbox }), message, ...rest }));
      return;
    }
    const who = fields.mailbox === undefined ? '' : `${String(fields.mailbox)}: `;
    const { error, ...rest } = fields;
    const what = isClassified(error) ? `${message}: ${errorText(error)}` : message;
    const tail = renderFields(isClassified(error) ? rest : fields);
    write(printable(`${localTimestamp(t)} ${level.padEnd(5)} ${who}${what}${tail === '' ? '' : ` ${tail}`}`));
  };

  return {
    format: o.format,
    line,
    failure(mailbox, error, message = 'mailbox run failed', fields = {}) {
      seen.add(key(mailbox, error));
      const hint = hintText(error);
      line('error', message, { mailbox, error, ...fields, ...(o.format === 'json' && hint !== null ? { hint } : {}) });
    },
    reported: (mailbox, error) => seen.has(key(mailbox, error)),
  };
}

/** The pipeline's log callback: an error it reports (with its classified `error`) counts as that failure's one line. */
export function pipelineLog(log: CliLog, verbose: boolean): (level: LogLevel, message: string, fields?: LogFields) => void {
  return (level, message, fields = {}) => {
    const mailbox = typeof fields.mailbox === 'string' ? fields.mailbox : undefined;
    if (level === 'error' && mailbox !== undefined && isClassified(fields.error)) {
      const { mailbox: _m, error, ...rest } = fields;
      log.failure(mailbox, error as ClassifiedError, message, rest);
    } else if (level === 'warn' || level === 'error' || verbose) {
      log.line(level, message, fields);
    }
  };
}

/**
 * Progress and log lines on stderr together: bars on a terminal with text logs; plain progress lines otherwise,
 * in the log's format, so `--log-format json` gives nothing but JSON lines on stderr.
 */
export function createConsole(format: LogFormat, o: { progress: boolean }): { log: CliLog; progress: ProgressReporter } {
  let log: CliLog | undefined;
  const progress = createProgress({
    bars: o.progress && format === 'text',
    plainLine: (e) =>
      log?.line(
        'info',
        `${e.done}/${e.total} messages`,
        format === 'json' ? { mailbox: e.mailbox, done: e.done, total: e.total } : { mailbox: e.mailbox },
      ),
  });
  log = createLog({ format, write: (line) => progress.write(line) });
  return { log, progress: o.progress ? progress : { update() {}, write: (line) => progress.write(line), stop() {} } };
}
