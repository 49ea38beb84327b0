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
  /** Name of the environment variable holding the password (not for OAuth 2). */
  readonly secretEnv?: string;
  /** OAuth 2 instead of a password, for a preset that offers it (Gmail); a preset that requires it needs no flag. */
  readonly oauth?: boolean;
  /** Microsoft: the Directory (tenant) ID or a domain. */
  readonly tenant?: string;
  /** The app registration's (Microsoft) or OAuth client's (Google) client id. */
  readonly clientId?: string;
  /** Name of the environment variable holding the OAuth client secret (Google's Desktop app needs one). */
  readonly clientSecretEnv?: string;
  readonly store?: string;
  readonly retention?: string;
  /** An extra CA (PEM file), as given on the command line: written relative to the config file. */
  readonly ca?: string;
  readonly servername?: string;
}

/** Whether the mailbox logs in with OAuth 2: always where the provider refuses passwords, else when asked. */
export function usesOAuth2(a: InitAnswers): boolean {
  return a.preset.oauth2 !== undefined && (a.preset.oauth2.required || a.oauth === true);
}

/** Flags that contradict the preset or each other, reported before anything is asked or written. */
export function conflictingAnswers(a: InitAnswers): string[] {
  const given: Array<[string, boolean]> = [
    ['--oauth', a.oauth === true],
    ['--tenant', a.tenant !== undefined],
    ['--client-id', a.clientId !== undefined],
    ['--client-secret-env', a.clientSecretEnv !== undefined],
  ];
  const oauthFlags = given
    .filter(([, g]) => g)
    .map(([flag]) => flag)
    .join(', ');
  if (a.preset.oauth2 === undefined) {
    return oauthFlags === ''
      ? []
      : [`${oauthFlags}: preset "${a.preset.id}" has no OAuth 2 sign-in (the OAuth 2 presets: microsoft365, gmail)`];
  }
  const problems: string[] = [];
  if (!usesOAuth2(a) && oauthFlags !== '')
    problems.push(`${oauthFlags}: for an OAuth 2 sign-in; add --oauth, or leave them out for a password`);
  if (usesOAuth2(a) && a.secretEnv !== undefined) {
    problems.push(
      `--password-env: ${a.preset.name} signs in with OAuth 2 here, which needs no password (leave it out${a.preset.oauth2.required ? '' : ', or drop --oauth for an app password'})`,
    );
  }
  return problems;
}

/** What is still unknown, as the flags that would give it. */
export function missingAnswers(a: InitAnswers): string[] {
  const missing: string[] = [];
  if (resolvedUser(a) === null)
    missing.push(
      a.preset.login === 'account' ? `--user (the account name, e.g. ${a.preset.loginExample ?? '...'})` : '--address (or --user)',
    );
  if (resolvedHost(a) === null) missing.push(`--host (e.g. ${a.preset.hostExample ?? a.preset.host ?? 'pop.example.jp'})`);
  if (usesOAuth2(a)) {
    const microsoft = a.preset.oauth2?.provider === 'microsoft';
    if (microsoft && a.tenant === undefined)
      missing.push('--tenant (the Directory (tenant) ID, or a domain such as contoso.onmicrosoft.com)');
    if (a.clientId === undefined)
      missing.push(`--client-id (the ${microsoft ? "app registration's Application (client) ID" : 'OAuth client ID of your Desktop app'})`);
  }
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
  const id = base
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64);
  return id === '' ? 'mailbox' : id;
}

const envStem = (id: string) => `MAIL_INGEST_${id.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;

export function defaultSecretEnv(id: string): string {
  return `${envStem(id)}_PASSWORD`;
}

export function defaultClientSecretEnv(id: string): string {
  return `${envStem(id)}_CLIENT_SECRET`;
}

/**
 * Where `mail-ingest auth` keeps the refresh token: a file beside the config (FsTokenFile creates it mode 0600 in
 * a 0700 folder), so that the config itself never holds a secret and may be shared.
 */
export function refreshTokenFile(id: string): string {
  return `tokens/${id}.json`;
}

/** The mailbox's login: a password from the environment, or an oauth2 block (Google's client secret likewise). */
function loginConfig(a: InitAnswers, id: string): Record<string, unknown> {
  if (!usesOAuth2(a)) return { password: { env: a.secretEnv ?? defaultSecretEnv(id) } };
  const provider = a.preset.oauth2!.provider;
  const secretEnv = a.clientSecretEnv ?? (provider === 'google' ? defaultClientSecretEnv(id) : undefined);
  return {
    auth: 'xoauth2',
    oauth2: {
      provider,
      // Written as given, even for google: parseConfig then refuses it against --tenant rather than it being dropped.
      ...(a.tenant === undefined ? {} : { tenant: a.tenant }),
      clientId: a.clientId,
      ...(secretEnv === undefined ? {} : { clientSecret: { env: secretEnv } }),
      refreshToken: { file: refreshTokenFile(id) },
    },
  };
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
  id: '--id',
  host: '--host',
  port: '--port',
  tls: '--tls',
  user: '--user',
  password: '--password-env',
  retention: '--retention',
  servername: '--servername',
  ca: '--ca',
  'oauth2.tenant': '--tenant',
  'oauth2.clientId': '--client-id',
  'oauth2.clientSecret': '--client-secret-env',
};

/** The file's content, validated; `baseDir` is the config file's folder (a relative store dir is relative to it). */
export function buildInitConfig(a: InitAnswers, baseDir: string): Record<string, unknown> {
  const conflicts = conflictingAnswers(a);
  if (conflicts.length > 0) throw new UsageError(conflicts.join('\n'));
  const missing = missingAnswers(a);
  if (missing.length > 0) throw new UsageError(`init needs ${missing.join(' and ')} (or run it on a terminal to be asked)`);
  const id = a.id ?? defaultId(a);
  const raw = {
    store: storeConfig(a.store ?? './data'),
    mailboxes: [
      {
        id,
        preset: a.preset.id,
        host: resolvedHost(a),
        port: a.port ?? a.preset.port,
        tls: a.tls ?? a.preset.tls,
        user: resolvedUser(a),
        ...(a.ca === undefined ? {} : { ca: caPath(baseDir, a.ca) }),
        ...(a.servername === undefined ? {} : { servername: a.servername }),
        // Never the secret itself: the file names where it comes from.
        ...loginConfig(a, id),
        retention: retentionConfig(a.retention ?? 'keep'),
      },
    ],
  };
  try {
    parseConfig(raw, { baseDir });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.issues.map((i) => {
      const field = /^mailboxes\[0\]\.((?:oauth2\.)?[A-Za-z]+)/.exec(i.path)?.[1];
      const flag = i.path.startsWith('store') ? '--store' : field === undefined ? i.path : (FLAG_OF[field] ?? i.path);
      return `${flag}: ${i.message}`;
    });
    throw new UsageError(`the config would not be valid:\n  ${problems.join('\n  ')}`);
  }
  return raw;
}
