/**
 * The mailbox configuration a deployment takes, checked up front, and the runtime document the functions read
 * from the archive bucket. The schema is the CLI's (lib/config); a deployment adds two rules of its own: every
 * credential is a Secrets Manager reference, and `store` / `publish` belong to the construct.
 */
import type { ConfigInput } from '../lib/config/schema.ts';
import { ConfigError, parseConfig } from '../lib/config/index.ts';

/** The CLI configuration without the parts the construct owns (`store`, `publish`). */
export type MailIngestConfig = Omit<ConfigInput, 'store' | 'publish'>;

/** A placeholder store, so the CLI schema can check the rest of a deployment config. */
const PLACEHOLDER_STORE = { type: 's3', bucket: 'placeholder-bucket' } as const;

const CREDENTIAL_KEYS = ['password', 'accessToken'] as const;

/**
 * Every problem with `config`, as `path: message` lines. Never quotes a credential: a literal password is
 * reported by where it is, not by what it is.
 */
export function validateDeploymentConfig(config: unknown): string[] {
  const problems: string[] = [];
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    return [
      `config: must be an object with "mailboxes", got ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}`,
    ];
  }
  const input = config as Record<string, unknown>;
  for (const owned of ['store', 'publish'] as const) {
    if (input[owned] !== undefined) {
      problems.push(`config.${owned}: is set by MailIngest (the archive bucket and the processors' queues); remove it`);
    }
  }
  const mailboxes = Array.isArray(input['mailboxes']) ? (input['mailboxes'] as unknown[]) : [];
  mailboxes.forEach((mb, i) => {
    if (typeof mb !== 'object' || mb === null) return;
    for (const key of CREDENTIAL_KEYS) {
      const ref = (mb as Record<string, unknown>)[key];
      if (ref === undefined) continue;
      const where = `config.mailboxes[${i}].${key}`;
      if (typeof ref === 'string') {
        problems.push(
          `${where}: a literal ${key} is not allowed in a deployment (it would be stored in the template and the bucket); put it in AWS Secrets Manager and write { "secretId": "name-or-arn" }`,
        );
      } else if (typeof ref === 'object' && ref !== null && 'env' in ref) {
        problems.push(
          `${where}: { "env": ${JSON.stringify((ref as { env: unknown }).env)} } cannot be resolved in Lambda; put the ${key} in AWS Secrets Manager and write { "secretId": "name-or-arn" }`,
        );
      }
    }
    const oauth2 = (mb as Record<string, unknown>)['oauth2'];
    if (typeof oauth2 === 'object' && oauth2 !== null) {
      // The client secret is only read; the refresh token is also written back on rotation: both in Secrets Manager.
      for (const key of ['clientSecret', 'refreshToken'] as const) {
        const ref = (oauth2 as Record<string, unknown>)[key];
        if (ref === undefined || (typeof ref === 'object' && ref !== null && 'secretId' in ref)) continue;
        problems.push(
          `config.mailboxes[${i}].oauth2.${key}: in a deployment it must be { "secretId": "name-or-arn" } (Lambda has no token file or environment variable to keep it in, and a literal would be stored in the template)`,
        );
      }
    }
    if ((mb as Record<string, unknown>)['ca'] !== undefined && !String((mb as Record<string, unknown>)['ca']).includes('-----BEGIN')) {
      problems.push(
        `config.mailboxes[${i}].ca: ${JSON.stringify((mb as Record<string, unknown>)['ca'])} is a file path, which does not exist in Lambda; give the PEM text instead`,
      );
    }
  });
  const { store: _s, publish: _p, ...rest } = input;
  try {
    // The CLI's own parser: the same schema and cross-field rules the functions apply when they load the file.
    parseConfig({ ...rest, store: PLACEHOLDER_STORE }, { baseDir: '/', source: 'config' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) {
      // Credentials were reported above in words that fit a deployment.
      if ([...CREDENTIAL_KEYS, 'oauth2.clientSecret', 'oauth2.refreshToken'].some((k) => issue.path.endsWith(`.${k}`))) continue;
      problems.push(`${issue.path === '(root)' ? 'config' : `config.${issue.path}`}: ${issue.message}`);
    }
  }
  return problems;
}

const secretIdOf = (ref: unknown): string | undefined =>
  typeof ref === 'object' && ref !== null && 'secretId' in ref ? String((ref as { secretId: unknown }).secretId) : undefined;

/** Every Secrets Manager id (name or ARN) the mailboxes refer to, once each, in order: what the poller reads. */
export function secretIdsOf(config: MailIngestConfig): string[] {
  const out = new Set<string>();
  for (const mb of config.mailboxes) {
    for (const ref of [...CREDENTIAL_KEYS.map((k) => mb[k]), mb.oauth2?.clientSecret, mb.oauth2?.refreshToken]) {
      const id = secretIdOf(ref);
      if (id !== undefined) out.add(id);
    }
  }
  return [...out];
}

/** The OAuth 2 refresh-token secrets: the only secrets the poller may also write (PutSecretValue on rotation). */
export function refreshTokenSecretIdsOf(config: MailIngestConfig): string[] {
  return [...new Set(config.mailboxes.flatMap((mb) => secretIdOf(mb.oauth2?.refreshToken) ?? []))];
}
