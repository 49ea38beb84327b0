import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { normalizePrefix } from '../store/keys.ts';
import { ConfigError } from './errors.ts';
import type { ConfigIssue } from './errors.ts';
import { configSchema, KEY_MESSAGE_SEPARATOR } from './schema.ts';
import type { ConfigInput } from './schema.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_SESSION_SECONDS, SESSION_LIMIT_KEYS } from './types.ts';
import type { Config, MailboxConfig, MailboxDefaults, OAuth2Config, PublishConfig, SessionLimits, StoreConfig } from './types.ts';
import { crossFieldIssues } from './validate-rules.ts';
import { findJsonSyntaxProblem, lineAndColumn } from './json-syntax.ts';

export interface ParseConfigOptions {
  /** Folder that relative paths (store.dir, ca) are resolved against: the config file's folder. */
  readonly baseDir: string;
  /** Named in the error message (the file path). */
  readonly source?: string;
}

/** `['mailboxes', 1, 'port']` -> `mailboxes[1].port`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const iss of error.issues) {
    if (iss.code === 'unrecognized_keys') {
      const messages = iss.message.split(KEY_MESSAGE_SEPARATOR);
      iss.keys.forEach((key, i) => out.push({ path: formatPath([...iss.path, key]), message: messages[i] ?? 'unknown key' }));
    } else {
      out.push({ path: formatPath(iss.path), message: iss.message });
    }
  }
  return out;
}

function rangeMessage(iss: {
  code: 'too_small' | 'too_big';
  origin: string;
  inclusive?: boolean;
  minimum?: unknown;
  maximum?: unknown;
}): string {
  const small = iss.code === 'too_small';
  const n = Number(small ? iss.minimum : iss.maximum);
  const bound = iss.inclusive === false ? (small ? n + 1 : n - 1) : n;
  const word = small ? 'at least' : 'at most';
  if (iss.origin === 'array') return `must have ${word} ${bound} ${bound === 1 ? 'entry' : 'entries'}`;
  if (iss.origin === 'string') return small && bound === 1 ? 'must not be empty' : `must be ${word} ${bound} characters`;
  return `must be ${word} ${bound}`;
}

function comparePaths(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Validates a parsed JSON value and returns the configuration with defaults applied and paths made absolute.
 * Throws ConfigError listing every problem found.
 */
export function parseConfig(json: unknown, options: ParseConfigOptions): Config {
  const result = configSchema.safeParse(json, {
    error: (iss) => {
      if (iss.code === 'invalid_type' && iss.input === undefined) return 'is required';
      if (iss.code === 'invalid_type')
        return `must be ${iss.expected === 'int' ? 'a whole number' : `a${/^[aeiou]/.test(iss.expected) ? 'n' : ''} ${iss.expected}`}`;
      if (iss.code === 'too_small' || iss.code === 'too_big') return rangeMessage(iss);
      if (iss.code === 'invalid_value')
        return `must be ${iss.values
          .map((v) => JSON.stringify(v))
          .join(', ')
          .replace(/, ([^,]*)$/, ' or $1')}`;
      return undefined;
    },
  });
  const issues = [...(result.success ? [] : zodIssues(result.error)), ...crossFieldIssues(json)];
  if (issues.length > 0 || !result.success) {
    // Stable sort: issues of one mailbox come together, in the order they were found.
    throw new ConfigError(
      issues.sort((a, b) => comparePaths(a.path, b.path)),
      options.source === undefined ? undefined : { source: options.source },
    );
  }
  return normalize(result.data, options.baseDir);
}

function isPem(value: string): boolean {
  return value.includes('-----BEGIN ');
}

/** The limits a mailbox or `defaults` sets itself, as written: inheritance and built-in defaults come later, once. */
function sessionLimits(input: SessionLimits): SessionLimits {
  const out: { -readonly [K in keyof SessionLimits]: SessionLimits[K] } = {};
  for (const key of SESSION_LIMIT_KEYS) if (input[key] !== undefined) out[key] = input[key];
  return out;
}

function normalize(input: ConfigInput, baseDir: string): Config {
  const base = resolve(baseDir);
  const store: StoreConfig =
    input.store.type === 'fs'
      ? { type: 'fs', dir: resolve(base, input.store.dir) }
      : {
          type: 's3',
          bucket: input.store.bucket,
          prefix: normalizePrefix(input.store.prefix ?? ''),
          forcePathStyle: input.store.forcePathStyle ?? false,
          ...(input.store.region === undefined ? {} : { region: input.store.region }),
          ...(input.store.endpoint === undefined ? {} : { endpoint: input.store.endpoint }),
          ...(input.store.kmsKeyId === undefined ? {} : { kmsKeyId: input.store.kmsKeyId }),
          ...(input.store.sse !== undefined
            ? { sse: input.store.sse }
            : input.store.kmsKeyId !== undefined
              ? { sse: 'aws:kms' as const }
              : {}),
        };
  const publish: PublishConfig =
    input.publish === undefined || input.publish.type === 'local'
      ? {
          type: 'local',
          ...(input.publish?.processors === undefined
            ? {}
            : {
                processors: input.publish.processors.map((p) => ({
                  name: p.name,
                  kind: p.kind,
                  ...(p.filter === undefined ? {} : { filter: p.filter }),
                })),
              }),
        }
      : {
          type: 'sqs',
          ...(input.publish.region === undefined ? {} : { region: input.publish.region }),
          ...(input.publish.endpoint === undefined ? {} : { endpoint: input.publish.endpoint }),
          targets: input.publish.targets.map((t) => ({
            name: t.name,
            queueUrl: t.queueUrl,
            ...(t.filter === undefined ? {} : { filter: t.filter }),
          })),
        };
  const d = input.defaults ?? {};
  const defaults: MailboxDefaults = {
    retention: d.retention ?? 'keep',
    maxMessageBytes: d.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    deleteOversized: d.deleteOversized ?? false,
    ...(d.maxMessagesPerRun === undefined ? {} : { maxMessagesPerRun: d.maxMessagesPerRun }),
    ...sessionLimits(d),
  };
  const defaultLimits = sessionLimits(d);
  const mailboxes = input.mailboxes.map((m): MailboxConfig => {
    const tls = m.tls ?? 'implicit';
    const maxMessagesPerRun = m.maxMessagesPerRun ?? defaults.maxMessagesPerRun;
    return {
      id: m.id,
      host: m.host,
      port: m.port ?? (tls === 'implicit' ? 995 : 110),
      tls,
      ...(m.ca === undefined ? {} : { ca: isPem(m.ca) || isAbsolute(m.ca) ? m.ca : resolve(base, m.ca) }),
      ...(m.servername === undefined ? {} : { servername: m.servername }),
      user: m.user,
      ...(m.password === undefined ? {} : { password: m.password }),
      ...(m.accessToken === undefined ? {} : { accessToken: m.accessToken }),
      ...(m.oauth2 === undefined ? {} : { oauth2: normalizeOAuth2(m.oauth2, base) }),
      auth: m.auth ?? 'auto',
      allowInsecureAuth: m.allowInsecureAuth ?? false,
      pipelining: m.pipelining ?? true,
      retention: m.retention ?? defaults.retention,
      maxMessageBytes: m.maxMessageBytes ?? defaults.maxMessageBytes,
      deleteOversized: m.deleteOversized ?? defaults.deleteOversized,
      ...(maxMessagesPerRun === undefined ? {} : { maxMessagesPerRun }),
      acceptUidlReset: m.acceptUidlReset ?? false,
      ...sessionLimits({ ...defaultLimits, ...sessionLimits(m) }),
      maxSessionSeconds: m.maxSessionSeconds ?? defaults.maxSessionSeconds ?? DEFAULT_MAX_SESSION_SECONDS,
      enabled: m.enabled ?? true,
      ...(m.timeouts === undefined ? {} : { timeouts: m.timeouts }),
      ...(m.preset === undefined ? {} : { preset: m.preset }),
    };
  });
  return { store, publish, concurrency: input.concurrency ?? DEFAULT_CONCURRENCY, defaults, mailboxes };
}

function normalizeOAuth2(o: NonNullable<ConfigInput['mailboxes'][number]['oauth2']>, base: string): OAuth2Config {
  const { refreshToken, flow, ...rest } = o;
  return {
    ...rest,
    flow: flow ?? 'delegated',
    ...(refreshToken === undefined
      ? {}
      : { refreshToken: 'file' in refreshToken ? { file: resolve(base, refreshToken.file) } : refreshToken }),
  };
}

/**
 * Parses JSON text; a syntax error becomes a ConfigError with its line and column and what was expected there. The
 * message never quotes the file (V8's does: the characters around the error, often a literal password beside a
 * missing quote), and the SyntaxError is not kept as the cause for the same reason.
 */
export function parseConfigText(text: string, options: ParseConfigOptions): Config {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let json: unknown;
  try {
    json = JSON.parse(src);
  } catch {
    const problem = findJsonSyntaxProblem(src) ?? { offset: 0, message: 'not parseable' };
    const { line, column } = lineAndColumn(src, problem.offset);
    throw new ConfigError(
      [{ path: '(file)', message: `not valid JSON at line ${line}, column ${column}: ${problem.message}` }],
      options.source === undefined ? undefined : { source: options.source },
    );
  }
  return parseConfig(json, options);
}

/** Reads and validates a config file; relative paths in it are relative to the file's folder. */
export async function loadConfig(file: string): Promise<Config> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : String(code ?? err);
    throw new ConfigError([{ path: '(file)', message: `cannot read ${path}: ${why}` }], { cause: err, source: path });
  }
  return parseConfigText(text, { baseDir: dirname(path), source: path });
}
