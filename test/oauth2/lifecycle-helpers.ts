import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import assert from 'node:assert/strict';
import { parseConfig, resolveSecret, type Config } from '../../lib/config/index.ts';
import type { MailboxConfig, OAuth2Config } from '../../lib/config/types.ts';
import { FsTokenFile, pollDeviceToken, startDeviceAuthorization, tokenClientFor } from '../../lib/oauth2/index.ts';
import { dovecotMailbox, type DovecotServer } from '../helpers/dovecot.ts';
import type { OAuthServer } from '../helpers/oauth-server.ts';

/** A mailbox of Dovecot user `user` whose tokens come from `oauth` (its endpoints put in as overrides). */
export function oauthMailbox(
  oauth: OAuthServer,
  dovecot: DovecotServer,
  id: string,
  user: string,
  oauth2: Record<string, unknown> = {},
): Record<string, unknown> {
  return dovecotMailbox(dovecot, id, user, {
    auth: 'xoauth2',
    oauth2: {
      provider: oauth.flavor,
      ...(oauth.flavor === 'microsoft' ? { tenant: oauth.tenant } : {}),
      ...(oauth.flavor === 'generic' ? { scope: oauth.scope } : {}),
      clientId: oauth.clients.public.id,
      refreshToken: { file: `./tokens/${id}.json` },
      tokenUrl: oauth.tokenUrl,
      deviceAuthorizationUrl: oauth.deviceAuthorizationUrl,
      ...oauth2,
    },
  });
}

export function configOf(dir: string, mailboxes: Array<Record<string, unknown>>): Config {
  return parseConfig({ store: { type: 'fs', dir: './data' }, mailboxes }, { baseDir: dir });
}

export function mailboxOf(config: Config, id: string): MailboxConfig & { oauth2: OAuth2Config } {
  const m = config.mailboxes.find((x) => x.id === id);
  assert.ok(m?.oauth2 !== undefined);
  return m as MailboxConfig & { oauth2: OAuth2Config };
}

/** What `mail-ingest auth` does, through the library: device sign-in as `account`, refresh token stored. */
export async function signIn(oauth: OAuthServer, m: MailboxConfig & { oauth2: OAuth2Config }, account: string): Promise<string> {
  const client = await tokenClientFor(m, { resolve: (ref) => resolveSecret(ref) });
  const device = await startDeviceAuthorization(client);
  const [tokens] = await Promise.all([pollDeviceToken(client, device), oauth.approveDevice(device.userCode, account)]);
  const ref = m.oauth2.refreshToken;
  assert.ok(ref !== undefined && 'file' in ref && tokens.refreshToken !== undefined);
  await new FsTokenFile(ref.file).replace(tokens.refreshToken);
  return tokens.refreshToken;
}

export async function storedRefreshToken(m: MailboxConfig & { oauth2: OAuth2Config }): Promise<string> {
  const ref = m.oauth2.refreshToken;
  assert.ok(ref !== undefined && 'file' in ref);
  return (await new FsTokenFile(ref.file).read())!.refreshToken;
}

/** Every file under `dir`, as text: the state, the event log, the archive, the status records. */
export async function everyFile(dir: string): Promise<string> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(await readFile(p, 'latin1'));
    }
  };
  await walk(dir);
  return out.join('\n');
}

/** No token the server ever issued appears in `text`. */
export function assertNoToken(oauth: OAuthServer, text: string, where: string): void {
  for (const token of oauth.issued) assert.ok(!text.includes(token), `a token appears in ${where}`);
}
