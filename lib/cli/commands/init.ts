/**
 * `mail-ingest init`: a first configuration from a provider preset. On a terminal it asks for what the flags do
 * not give; otherwise the flags must say it all. The file names where the password comes from ({ "env": ... }),
 * never the password; then `check` tries it against the server. An OAuth 2 mailbox (Microsoft 365, Gmail with
 * --oauth) gets an oauth2 block instead and is not checked: it cannot log in before `mail-ingest auth`.
 */
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PRESETS, presetById, type Preset } from '../../presets/index.ts';
import { table } from '../format.ts';
import {
  buildInitConfig,
  conflictingAnswers,
  defaultClientSecretEnv,
  defaultId,
  defaultSecretEnv,
  refreshTokenFile,
  resolvedHost,
  resolvedUser,
  usesOAuth2,
  type InitAnswers,
} from '../init/init-config.ts';
import { createPrompter, type Prompter } from '../prompt.ts';
import { portOption, UsageError } from '../usage-error.ts';
import { checkCommand } from './check.ts';

export interface InitOptions {
  readonly preset?: string;
  readonly address?: string;
  readonly user?: string;
  readonly host?: string;
  readonly port?: string;
  readonly tls?: 'implicit' | 'starttls';
  readonly ca?: string;
  readonly servername?: string;
  readonly id?: string;
  readonly passwordEnv?: string;
  readonly oauth?: boolean;
  readonly tenant?: string;
  readonly clientId?: string;
  readonly clientSecretEnv?: string;
  readonly store?: string;
  readonly retention?: string;
  readonly out?: string;
  readonly force?: boolean;
  readonly check?: boolean;
  readonly interactive?: boolean;
  readonly listPresets?: boolean;
}

function presetTable(): string {
  return table(
    ['id', 'provider', 'host', 'port', 'tls', 'login', 'confirmed'],
    PRESETS.map((p) => [
      p.id,
      p.name,
      p.host ?? `(yours, e.g. ${p.hostExample})`,
      p.port,
      p.tls,
      p.login === 'account' ? `account name (e.g. ${p.loginExample ?? '...'})` : p.login === 'address' ? 'whole address' : 'part before @',
      p.confirmed ? 'yes' : 'no: compare with the provider',
    ]),
  );
}

function findPreset(answer: string): Preset | undefined {
  const n = Number(answer);
  if (Number.isInteger(n) && n >= 1 && n <= PRESETS.length) return PRESETS[n - 1];
  return presetById(answer.toLowerCase());
}

function unknownPreset(id: string): UsageError {
  return new UsageError(
    `--preset: no preset ${JSON.stringify(id)}; known: ${PRESETS.map((p) => p.id).join(', ')} (mail-ingest init --list-presets)`,
  );
}

/** Asks for what the flags left open; every question has the flag that answers it in advance. */
async function askMissing(o: InitOptions, ask: Prompter, base: InitAnswers): Promise<{ answers: InitAnswers; out: string }> {
  const required = async (question: string, fallback?: string): Promise<string> => {
    for (;;) {
      const answer = await ask.ask(question, fallback);
      if (answer === null) throw new UsageError('init: the input ended before every question was answered');
      if (answer !== '') return answer;
    }
  };
  let a = base;
  if (a.address === undefined && (resolvedUser(a) === null || (a.preset.host?.includes('{') && a.host === undefined))) {
    a = {
      ...a,
      address: await required(
        a.preset.login === 'account' ? 'Mail address (for the mailbox id) / メールアドレス' : 'Mail address / メールアドレス',
      ),
    };
  }
  if (resolvedUser(a) === null) {
    a = { ...a, user: await required(`Account name / アカウント名 (e.g. ${a.preset.loginExample ?? '...'})`) };
  }
  if (resolvedHost(a) === null)
    a = { ...a, host: await required(`POP3 server / POP3サーバー (e.g. ${a.preset.hostExample ?? 'pop.example.jp'})`) };
  if (o.id === undefined) a = { ...a, id: await required('Mailbox id (a folder name) / メールボックスID', defaultId(a)) };
  if (o.store === undefined) a = { ...a, store: await required('Archive: a folder, or s3://bucket/prefix / 保存先', './data') };
  // Gmail takes an app password or OAuth 2; any OAuth flag or --password-env has answered that already.
  if (
    a.preset.oauth2?.required === false &&
    a.oauth === undefined &&
    o.passwordEnv === undefined &&
    a.tenant === undefined &&
    a.clientId === undefined &&
    a.clientSecretEnv === undefined
  ) {
    for (;;) {
      const answer = (
        await required('Sign in with OAuth 2 instead of an app password? (y/n) / アプリパスワードではなくOAuth 2を使いますか', 'n')
      ).toLowerCase();
      if (/^(?:y|yes|n|no)$/.test(answer)) {
        a = { ...a, oauth: answer.startsWith('y') };
        break;
      }
    }
  }
  const id = a.id ?? defaultId(a);
  if (usesOAuth2(a)) {
    const microsoft = a.preset.oauth2?.provider === 'microsoft';
    if (microsoft && a.tenant === undefined)
      a = { ...a, tenant: await required('Directory (tenant) ID or domain / テナントIDまたはドメイン (e.g. contoso.onmicrosoft.com)') };
    if (a.clientId === undefined)
      a = { ...a, clientId: await required(`${microsoft ? 'Application (client) ID' : 'OAuth client ID'} / クライアントID`) };
    if (!microsoft && a.clientSecretEnv === undefined) {
      a = {
        ...a,
        clientSecretEnv: await required(
          'Environment variable holding the OAuth client secret / クライアントシークレットの環境変数名',
          defaultClientSecretEnv(id),
        ),
      };
    }
  } else if (o.passwordEnv === undefined) {
    a = { ...a, secretEnv: await required('Environment variable holding the password / パスワードの環境変数名', defaultSecretEnv(id)) };
  }
  const out = o.out ?? (await required('Config file to write / 設定ファイル', 'mail-ingest.json'));
  return { answers: a, out };
}

export async function initCommand(o: InitOptions): Promise<number> {
  if (o.listPresets) {
    process.stdout.write(`${presetTable()}\nWhere each comes from: lib/presets/presets.json (sources and notes, English and Japanese)\n`);
    return 0;
  }
  const interactive = o.interactive === true || (process.stdin.isTTY === true && process.stderr.isTTY === true);
  const prompter = interactive ? createPrompter() : null;
  try {
    let preset = o.preset === undefined ? undefined : findPreset(o.preset);
    if (o.preset !== undefined && preset === undefined) throw unknownPreset(o.preset);
    if (preset === undefined) {
      if (prompter === null)
        throw new UsageError('init needs --preset (mail-ingest init --list-presets), or run it on a terminal to be asked');
      process.stderr.write(
        `${PRESETS.map((p, i) => `  ${String(i + 1).padStart(2)}) ${p.id.padEnd(13)} ${p.name}${p.host === null ? '' : `  ${p.host}`}`).join('\n')}\n`,
      );
      for (;;) {
        const answer = await prompter.ask('Provider (number or id) / プロバイダー');
        if (answer === null) throw new UsageError('init: the input ended before a provider was chosen');
        preset = findPreset(answer);
        if (preset !== undefined) break;
        process.stderr.write(`no preset ${JSON.stringify(answer)}\n`);
      }
    }
    const base: InitAnswers = {
      preset,
      address: o.address,
      user: o.user,
      host: o.host,
      port: portOption(o.port, 1),
      tls: o.tls,
      id: o.id,
      secretEnv: o.passwordEnv,
      store: o.store,
      retention: o.retention,
      ca: o.ca,
      servername: o.servername,
      oauth: o.oauth,
      tenant: o.tenant,
      clientId: o.clientId,
      clientSecretEnv: o.clientSecretEnv,
    };
    // Before any question: a contradiction in the flags is not something an answer can fix.
    const conflicts = conflictingAnswers(base);
    if (conflicts.length > 0) throw new UsageError(conflicts.join('\n'));
    const { answers, out } = prompter === null ? { answers: base, out: o.out ?? 'mail-ingest.json' } : await askMissing(o, prompter, base);
    const file = path.resolve(out);
    if (existsSync(file) && !o.force) throw new UsageError(`${file} exists; choose another --out, or --force to replace it`);
    const raw = buildInitConfig(answers, path.dirname(file));
    const mailbox = (raw.mailboxes as Array<Record<string, unknown>>)[0]!;
    // Written beside, then renamed: a replaced file is whole, old or new.
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(raw, null, 2)}\n`, { mode: 0o644 });
    await rename(tmp, file);
    const rel = path.relative(process.cwd(), file) || file;
    const oauth2 = mailbox.oauth2 as { provider: string; clientSecret?: { env: string } } | undefined;
    const env = oauth2 === undefined ? (mailbox.password as { env: string }).env : oauth2.clientSecret?.env;
    process.stdout.write(
      [
        `Wrote ${rel}: mailbox "${String(mailbox.id)}" on ${String(mailbox.host)}:${String(mailbox.port)} (${String(mailbox.tls)} TLS), user ${String(mailbox.user)}, preset "${preset.id}".`,
        oauth2 === undefined
          ? `The password is read from the environment variable ${env}; it is never written to the file.`
          : `It signs in with OAuth 2 (${oauth2.provider}); mail-ingest refreshes the access tokens itself. The refresh token will be kept in ${refreshTokenFile(String(mailbox.id))} beside the config (mode 0600)${env === undefined ? '' : `, the client secret read from ${env}`}: no secret is written to this file.`,
        `Note: ${preset.notes.en}`,
        `注意: ${preset.notes.ja}`,
        ...(preset.confirmed
          ? []
          : [
              `Not confirmed on ${preset.name}'s own pages: compare host and port with what the provider sent you (check below says what the server presents).`,
            ]),
        '',
      ].join('\n'),
    );
    if (oauth2 !== undefined) return oauthNextSteps(rel, String(mailbox.id), env);
    if (o.check === false) return nextSteps(rel, env!, false);
    if (process.env[env!] === undefined && prompter !== null) {
      const secret = await prompter.secret('Password for this check only, not saved (empty: skip the check) / パスワード');
      if (secret === null || secret === '') return nextSteps(rel, env!, false);
      process.env[env!] = secret; // this process only, for the check below
    }
    const code = await checkCommand({ config: file, mailbox: [String(mailbox.id)] });
    return nextSteps(rel, env!, true, code);
  } finally {
    prompter?.close();
  }
}

function nextSteps(rel: string, env: string, checked: boolean, code = 0): number {
  process.stdout.write(
    [
      '',
      checked
        ? code === 0
          ? 'Check passed. Next:'
          : `Check failed (the file is kept: fix it and run mail-ingest check -c ${rel}). Then:`
        : 'Not checked. Next:',
      `  export ${env}=...            # in the service's environment, or use { "secretId": ... } for AWS Secrets Manager`,
      ...(checked ? [] : [`  mail-ingest check -c ${rel}`]),
      `  mail-ingest run -c ${rel}`,
      `  mail-ingest status -c ${rel}`,
      '',
    ].join('\n'),
  );
  return code;
}

/** check cannot log in before the sign-in, so the next step is `auth` (which logs in to POP3 once itself). */
function oauthNextSteps(rel: string, id: string, secretEnv: string | undefined): number {
  process.stdout.write(
    [
      '',
      'Not checked: an OAuth 2 mailbox cannot log in before its first sign-in. Next, sign in once as the mailbox:',
      '未確認: OAuth 2のメールボックスは最初のサインインまでログインできません。次に、メールボックスのアカウントで一度サインインしてください:',
      ...(secretEnv === undefined ? [] : [`  export ${secretEnv}=...   # the OAuth client secret / クライアントシークレット`]),
      `  mail-ingest auth --config ${rel} --mailbox ${id}`,
      'Then / その後:',
      `  mail-ingest run -c ${rel}`,
      `  mail-ingest status -c ${rel}`,
      '',
    ].join('\n'),
  );
  return 0;
}
