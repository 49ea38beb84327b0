/**
 * From the answers of `mail-ingest init` (flags or questions) to a configuration file parseConfig accepts. Pure:
 * no prompt, no file. A value the config would refuse is reported against the flag that gave it.
 */
import path from 'node:path';
import { ConfigError, parseConfig } from '../../config/index.ts';
import { presetHost, presetLogin, type Preset } from '../../presets/index.ts';
import { UsageError } from '../usage-error.ts';

export interface InitAnswers {
  readonly preset: Preset;
  readonly address?: string;
  readonly user?: string;
  readonly host?: string;
  readonly port?: number;
  readonly tls?: 'implicit' | 'starttls';
  readonly id?: string;
  /** Name of the environment variable holding the password (or, for an OAuth2 preset, the access token). */
  readonly secretEnv?: string;
  readonly store?: string;
  readonly retention?: string;
  /** An extra CA (PEM file), as given on the command line: written relative to the config file. */
  readonly ca?: string;
  readonly servername?: string;
}

/** What is still unknown, as the flags that would give it. */
export function missingAnswers(a: InitAnswers): string[] {
  const missing: string[] = [];
  if (resolvedUser(a) === null) missing.push(a.preset.login === 'account' ? `--user (the account name, e.g. ${a.preset.loginExample ?? '...'})` : '--address (or --user)');
  if (resolvedHost(a) === null) missing.push(`--host (e.g. ${a.preset.hostExample ?? a.preset.host ?? 'pop.example.jp'})`);
  return missing;
}

export function resolvedUser(a: InitAnswers): string | null {
  if (a.user !== undefined && a.user !== '') return a.user;
  return a.address === undefined ? null : presetLogin(a.preset, a.address);
}

export function resolvedHost(a: InitAnswers): string | null {
  if (a.host !== undefined && a.host !== '') return a.host;
  return presetHost(a.preset, a.address);
}

/** A mailbox id from the address or user: "support@example.jp" -> "support". */
export function defaultId(a: InitAnswers): string {
  const base = (a.address ?? resolvedUser(a) ?? 'mailbox').split('@')[0]!.toLowerCase();
  const id = base.replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64);
  return id === '' ? 'mailbox' : id;
}

export function defaultSecretEnv(preset: Preset, id: string): string {
  const name = id.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  return `MAIL_INGEST_${name}_${preset.auth === 'xoauth2' ? 'TOKEN' : 'PASSWORD'}`;
}

function storeConfig(text: string): Record<string, unknown> {
  const s3 = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(text);
  if (s3 !== null) return { type: 's3', bucket: s3[1], ...(s3[2] ? { prefix: s3[2].replace(/\/+$/, '') } : {}) };
  return { type: 'fs', dir: text };
}

function retentionConfig(text: string): unknown {
  const days = /^(\d+)d$/.exec(text);
  if (days !== null) return { deleteAfterDays: Number(days[1]) };
  if (text === 'keep' || text === 'delete') return text;
  throw new UsageError(`--retention: expected keep, delete or a number of days such as 30d, got ${JSON.stringify(text)}`);
}

/** Relative to the config file when beside or below it (the pair moves together), else absolute. */
function caPath(baseDir: string, file: string): string {
  const rel = path.relative(baseDir, path.resolve(file));
  return rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(file) : `./${rel}`;
}

const FLAG_OF: Record<string, string> = {
  id: '--id', host: '--host', port: '--port', tls: '--tls', user: '--user', password: '--password-env', accessToken: '--password-env',
  retention: '--retention', servername: '--servername', ca: '--ca',
};

/** The file's content, validated; `baseDir` is the config file's folder (a relative store dir is relative to it). */
export function buildInitConfig(a: InitAnswers, baseDir: string): Record<string, unknown> {
  const missing = missingAnswers(a);
  if (missing.length > 0) throw new UsageError(`init needs ${missing.join(' and ')} (or run it on a terminal to be asked)`);
  const id = a.id ?? defaultId(a);
  const env = a.secretEnv ?? defaultSecretEnv(a.preset, id);
  const raw = {
    store: storeConfig(a.store ?? './data'),
    mailboxes: [{
      id,
      preset: a.preset.id,
      host: resolvedHost(a),
      port: a.port ?? a.preset.port,
      tls: a.tls ?? a.preset.tls,
      user: resolvedUser(a),
      ...(a.ca === undefined ? {} : { ca: caPath(baseDir, a.ca) }),
      ...(a.servername === undefined ? {} : { servername: a.servername }),
      // Never the secret itself: the file names where it comes from.
      ...(a.preset.auth === 'xoauth2' ? { auth: 'xoauth2', accessToken: { env } } : { password: { env } }),
      retention: retentionConfig(a.retention ?? 'keep'),
    }],
  };
  try {
    parseConfig(raw, { baseDir });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.issues.map((i) => {
      const field = /^mailboxes\[0\]\.([A-Za-z]+)/.exec(i.path)?.[1];
      const flag = i.path.startsWith('store') ? '--store' : field === undefined ? i.path : FLAG_OF[field] ?? i.path;
      return `${flag}: ${i.message}`;
    });
    throw new UsageError(`the config would not be valid:\n  ${problems.join('\n  ')}`);
  }
  return raw;
}
