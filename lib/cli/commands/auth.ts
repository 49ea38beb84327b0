/**
 * `mail-ingest auth --config FILE --mailbox ID`: the one-time sign-in of a delegated OAuth 2 mailbox. By default
 * the device authorization grant (RFC 8628): print a URL and a code, wait while the person signs in on any
 * device. For Google, whose device flow does not grant Gmail's scope, a browser on this machine (RFC 8252 with
 * PKCE). Then store the refresh token where the config says, and log in to POP3 once to show that it works.
 */
import { createAdapters } from '../../app/adapters.ts';
import { toMailboxJob } from '../../app/mailbox-job.ts';
import { selectMailboxes } from '../../app/select-mailboxes.ts';
import { loadConfig, resolveSecret } from '../../config/index.ts';
import {
  hasOAuth2,
  pollDeviceToken,
  rawStoreTokenStatus,
  refreshTokenStore,
  startDeviceAuthorization,
  startLoopbackSignIn,
  tokenClientFor,
  OAuth2Error,
  PROFILES,
  type TokenClient,
  type TokenResponse,
} from '../../oauth2/index.ts';
import { connectPop3 } from '../../pop3/index.ts';
import { UsageError } from '../usage-error.ts';
import { printJsonLine } from './shared.ts';

export interface AuthOptions {
  readonly config: string;
  readonly mailbox: string;
  /** Skip the POP3 login after signing in. */
  readonly check?: boolean;
  readonly json?: boolean;
  /** Sign in with a browser on this machine (RFC 8252) instead of a device code; Google's default. */
  readonly browser?: boolean;
  /** Sign in with a device code (RFC 8628); Microsoft's and a generic server's default. */
  readonly device?: boolean;
}

type Say = (text: string) => void;
interface Who {
  readonly id: string;
  readonly user: string;
  readonly label: string;
}

/** RFC 8628: a URL and a code for any device; we poll meanwhile. */
async function deviceSignIn(client: TokenClient, who: Who, say: Say, json: boolean, signal: AbortSignal): Promise<TokenResponse> {
  const device = await startDeviceAuthorization(client, signal);
  say(
    [
      `Sign in to mailbox "${who.id}" (${who.user}) with ${who.label}:`,
      `  1. Open        ${device.verificationUri}`,
      `  2. Enter code  ${device.userCode}`,
      `  3. Sign in as ${who.user} and accept the permissions.`,
      ...(device.verificationUriComplete === undefined
        ? []
        : [`  (or open ${device.verificationUriComplete}, which has the code filled in)`]),
      `メールボックス "${who.id}" のサインイン: 上の URL を開いてコード ${device.userCode} を入力し、${who.user} でサインインして権限を承認してください。`,
      `Waiting for the sign-in; the code expires in ${minutes(device.expiresAt - Date.now())} min (Ctrl-C to cancel)... / サインインを待っています...`,
    ].join('\n'),
  );
  // --json: the person still needs the URL and code, on stderr, while stdout stays one JSON document.
  if (json) process.stderr.write(`open ${device.verificationUri} and enter the code ${device.userCode}\n`);
  return pollDeviceToken(client, device, { signal });
}

/** RFC 8252: a browser on this machine comes back to a one-shot listener on 127.0.0.1. */
async function browserSignIn(client: TokenClient, who: Who, say: Say, json: boolean, signal: AbortSignal): Promise<TokenResponse> {
  const signIn = await startLoopbackSignIn(client, { signal });
  const port = new URL(signIn.redirectUri).port;
  say(
    [
      `Sign in to mailbox "${who.id}" (${who.user}) with ${who.label}: open this page in a browser on this machine,`,
      `sign in as ${who.user} and accept the permissions:`,
      '',
      `  ${signIn.url}`,
      '',
      `(From another computer: ssh -L ${port}:127.0.0.1:${port} <this host>, then open the page there.)`,
      `メールボックス "${who.id}" のサインイン: このコンピューターのブラウザーで上のページを開き、${who.user} でサインインして権限を承認してください。`,
      'Waiting for the browser (10 min at most, Ctrl-C to cancel)... / サインインを待っています...',
    ].join('\n'),
  );
  if (json) process.stderr.write(`open ${signIn.url}\n`);
  return signIn.done;
}

const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));

export async function authCommand(o: AuthOptions): Promise<number> {
  const config = await loadConfig(o.config);
  const [m] = selectMailboxes(config, [o.mailbox]);
  if (m === undefined || !hasOAuth2(m)) {
    throw new UsageError(
      `mailbox ${JSON.stringify(o.mailbox)} has no "oauth2" block: nothing to sign in (see the README, "OAuth 2 for Microsoft 365 and Gmail")`,
    );
  }
  if (o.browser === true && o.device === true) throw new UsageError('--browser and --device exclude each other');
  if (m.oauth2.flow !== 'delegated' || m.oauth2.refreshToken === undefined) {
    throw new UsageError(
      `mailbox ${JSON.stringify(m.id)} uses app-only access (client credentials): there is no sign-in; \`mail-ingest check --mailbox ${m.id}\` tests it`,
    );
  }
  const store = refreshTokenStore(m.oauth2.refreshToken);
  if (!store.writable) {
    throw new UsageError(
      `mailbox ${JSON.stringify(m.id)}: oauth2.refreshToken is ${store.location}, which mail-ingest cannot write; use { "file": "tokens/${m.id}.json" } or { "secretId": "..." }`,
    );
  }
  const profile = PROFILES[m.oauth2.provider];
  const client = await tokenClientFor(m, { resolve: (ref) => resolveSecret(ref) });
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const say = (text: string) => {
    if (!o.json) process.stdout.write(`${text}\n`);
  };
  try {
    const who = { id: m.id, user: m.user, label: profile.label };
    const browser = o.browser === true || (o.device !== true && profile.signIn === 'browser');
    let tokens;
    try {
      tokens = await (browser ? browserSignIn : deviceSignIn)(client, who, say, o.json === true, abort.signal);
    } catch (err) {
      if (abort.signal.aborted) throw new OAuth2Error('EOAUTH2_DENIED', 'sign-in cancelled; nothing was stored', { cause: err });
      throw err;
    }
    if (tokens.refreshToken === undefined) {
      throw new OAuth2Error(
        'EOAUTH2_SCOPE',
        `${profile.label} signed the user in but issued no refresh token, so mail-ingest could not renew access later${m.oauth2.provider === 'microsoft' ? ' (the scope needs offline_access)' : ''}; nothing was stored`,
      );
    }
    await store.replace(tokens.refreshToken);
    const storedAt = new Date().toISOString();
    say(`Signed in. The refresh token is stored in ${store.location}. / サインインしました。リフレッシュトークンを保存しました。`);
    // The first refresh is now: status shows it, and the idle-expiry clock starts from here.
    const adapters = await createAdapters(config).catch(() => null);
    if (adapters !== null) {
      await rawStoreTokenStatus(adapters.store)
        .write({ version: 1, mailbox: m.id, lastRefreshAt: storedAt, lastRotationAt: storedAt, lastFailure: null })
        .catch(() => undefined);
      await adapters.publisher.close?.();
    }

    let login: { ok: boolean; mechanism?: string; messages?: number; error?: string } | null = null;
    if (o.check !== false) {
      try {
        const job = await toMailboxJob(m, { accessToken: tokens.accessToken });
        const pop3 = await connectPop3(job.connect);
        const stat = await pop3.stat();
        await pop3.quit().catch(() => undefined);
        login = { ok: true, mechanism: pop3.authMechanism, messages: stat.count };
        say(
          `POP3 login checked: ${m.user} on ${m.host} with ${pop3.authMechanism.toUpperCase()}, ${stat.count} messages waiting. / POP3 ログインを確認しました。`,
        );
      } catch (err) {
        login = { ok: false, error: (err as Error).message };
        say(
          `The token is stored, but the POP3 login failed: ${(err as Error).message}\n(check that POP is enabled for this mailbox; \`mail-ingest check --mailbox ${m.id}\` tries again)`,
        );
      }
    }
    if (o.json)
      printJsonLine({ type: 'auth', ok: login?.ok !== false, mailbox: m.id, stored: store.location, signedInAt: storedAt, login });
    return login?.ok === false ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
