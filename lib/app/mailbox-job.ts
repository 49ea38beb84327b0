import { readFile } from 'node:fs/promises';
import type { MailboxJob } from '../ingest/pipeline-types.ts';
import type { Pop3ConnectOptions } from '../pop3/types.ts';
import { ConfigError } from '../config/errors.ts';
import type { MailboxConfig, SecretRef } from '../config/types.ts';
import type { AccessTokenSource } from '../oauth2/access-tokens.ts';

export interface MailboxCredentials {
  readonly password?: string;
  readonly accessToken?: string;
}

/**
 * The mailbox's password and access token, whichever are configured, resolved (env, Secrets Manager...) at once.
 * With an `oauth2` block the access token comes from `tokens` (lib/oauth2): cached, or refreshed just now.
 */
export async function resolveCredentials(
  m: MailboxConfig,
  resolve: (ref: SecretRef) => Promise<string>,
  tokens?: AccessTokenSource,
): Promise<MailboxCredentials> {
  const [password, accessToken] = await Promise.all([
    m.password === undefined ? undefined : resolve(m.password),
    tokens !== undefined ? tokens.get() : m.accessToken === undefined ? undefined : resolve(m.accessToken),
  ]);
  return { ...(password === undefined ? {} : { password }), ...(accessToken === undefined ? {} : { accessToken }) };
}

async function loadCa(m: MailboxConfig): Promise<string> {
  const ca = m.ca!;
  const path = `mailboxes(${m.id}).ca`;
  let pem: string;
  if (ca.includes('-----BEGIN ')) {
    pem = ca;
  } else {
    try {
      pem = await readFile(ca, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'error';
      throw new ConfigError([{ path, message: `mailbox ${JSON.stringify(m.id)}: cannot read CA file ${ca} (${code})` }], { cause: err });
    }
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError([
      {
        path,
        message: `mailbox ${JSON.stringify(m.id)}: ${ca.includes('-----BEGIN ') ? 'the inline CA' : `CA file ${ca}`} holds no PEM certificate`,
      },
    ]);
  }
  return pem;
}

/**
 * What the pipeline needs to run one mailbox: the connection options with the resolved credentials and the CA
 * read from disk, and the limits and retention. Every default was applied when the config was normalised
 * (lib/config/parse-config.ts): this only maps.
 */
export async function toMailboxJob(m: MailboxConfig, creds: MailboxCredentials): Promise<MailboxJob> {
  if (creds.password === undefined && creds.accessToken === undefined) {
    throw new ConfigError([
      { path: `mailboxes(${m.id})`, message: `mailbox ${JSON.stringify(m.id)}: no password or access token resolved` },
    ]);
  }
  const connect: Omit<Pop3ConnectOptions, 'signal'> = {
    host: m.host,
    port: m.port,
    tls: m.tls,
    ...(m.ca === undefined ? {} : { ca: await loadCa(m) }),
    ...(m.servername === undefined ? {} : { servername: m.servername }),
    allowInsecureAuth: m.allowInsecureAuth,
    user: m.user,
    ...(creds.password === undefined ? {} : { password: creds.password }),
    ...(creds.accessToken === undefined ? {} : { accessToken: creds.accessToken }),
    auth: m.auth,
    pipelining: m.pipelining,
    ...(m.timeouts === undefined ? {} : { timeouts: m.timeouts }),
    ...definedOnly({ maxListingEntries: m.maxListingEntries, maxListingBytes: m.maxListingBytes, minBytesPerSecond: m.minBytesPerSecond }),
  };
  return {
    id: m.id,
    connect,
    retention: m.retention,
    maxMessageBytes: m.maxMessageBytes,
    deleteOversized: m.deleteOversized,
    ...(m.maxMessagesPerRun === undefined ? {} : { maxMessagesPerRun: m.maxMessagesPerRun }),
    acceptUidlReset: m.acceptUidlReset,
    maxSessionSeconds: m.maxSessionSeconds,
  };
}

/** The POP3 client applies its own defaults to what is left out. */
function definedOnly<T extends Record<string, number | undefined>>(values: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: number };
}
