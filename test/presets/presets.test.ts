import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../lib/config/index.ts';
import { PRESETS, presetById, presetDifferences, presetHost, presetLogin } from '../../lib/presets/index.ts';
import { buildInitConfig, type InitAnswers } from '../../lib/cli/init/init-config.ts';
import { UsageError } from '../../lib/cli/usage-error.ts';

const APP_ID = '00000000-1111-2222-3333-444444444444';
const m365 = presetById('microsoft365')!;
const gmail = presetById('gmail')!;

/** init's answers for a preset, as flags would give them, validated through parseConfig by buildInitConfig. */
function initConfig(answers: Omit<InitAnswers, 'preset'> & { preset: typeof m365 }) {
  const raw = buildInitConfig(answers, '/tmp/conf');
  return { raw, text: JSON.stringify(raw), mailbox: parseConfig(raw, { baseDir: '/tmp/conf' }).mailboxes[0]! };
}

const ASKED = ['ocn', 'biglobe', 'so-net', 'nifty', 'plala', 'xserver', 'sakura', 'kagoya', 'onamae', 'microsoft365', 'gmail', 'generic'];

describe('provider presets (lib/presets/presets.json)', () => {
  it('has every provider users asked for, each with its sources; unconfirmed ones say so', () => {
    assert.deepEqual(PRESETS.map((p) => p.id).sort(), [...ASKED].sort());
    for (const p of PRESETS) {
      if (p.id !== 'generic' && p.id !== 'sakura') assert.ok(p.sources.length > 0, `${p.id} names where its settings come from`);
      if (!p.confirmed) assert.match(p.notes.en, /not confirmed|no .* page|compare/i, `${p.id} tells the user to compare`);
      assert.ok(p.notes.ja.length > 0, `${p.id} has Japanese notes`);
    }
    assert.equal(presetById('kagoya')?.login, 'account', 'KAGOYA logs in with account names');
    assert.deepEqual(m365.oauth2, { provider: 'microsoft', required: true }, 'Exchange Online refuses passwords');
    assert.deepEqual(gmail.oauth2, { provider: 'google', required: false }, 'Gmail takes an app password or OAuth 2');
    assert.deepEqual([presetById('gmail')?.host, presetById('gmail')?.port], ['pop.gmail.com', 995]);
    assert.deepEqual([presetById('microsoft365')?.host, presetById('microsoft365')?.port], ['outlook.office365.com', 995]);
  });

  it('every preset gives init a configuration parseConfig accepts', () => {
    for (const p of PRESETS) {
      const raw = buildInitConfig(
        {
          preset: p,
          address: 'taro@olive.example.jp',
          ...(p.login === 'account' ? { user: 'kir000000.info' } : {}),
          ...(presetHost(p, 'taro@olive.example.jp') === null ? { host: p.hostExample } : {}),
          ...(p.oauth2?.required ? { tenant: 'contoso.onmicrosoft.com', clientId: APP_ID } : {}),
        },
        '/tmp',
      );
      const config = parseConfig(raw, { baseDir: '/tmp' });
      const [m] = config.mailboxes;
      assert.equal(m!.preset, p.id);
      assert.deepEqual(presetDifferences(p, m!), [], `${p.id}: a mailbox made from it matches it`);
      assert.doesNotMatch(JSON.stringify(raw), /"password":\s*"/, 'the password is never in the file');
    }
  });

  it('Microsoft 365: an oauth2 block with tenant, client id and a refresh token file; no secret, no static token', () => {
    const { raw, text, mailbox } = initConfig({
      preset: m365,
      address: 'info@contoso.co.jp',
      tenant: 'contoso.onmicrosoft.com',
      clientId: APP_ID,
    });
    const [m] = (raw as { mailboxes: Array<Record<string, unknown>> }).mailboxes;
    assert.deepEqual(
      { auth: m!.auth, oauth2: m!.oauth2, password: m!.password, accessToken: m!.accessToken },
      {
        auth: 'xoauth2',
        oauth2: { provider: 'microsoft', tenant: 'contoso.onmicrosoft.com', clientId: APP_ID, refreshToken: { file: 'tokens/info.json' } },
        password: undefined,
        accessToken: undefined,
      },
    );
    assert.equal(mailbox.oauth2?.flow, 'delegated');
    assert.deepEqual(mailbox.oauth2?.refreshToken, { file: '/tmp/conf/tokens/info.json' }, 'the token file is beside the config');
    assert.doesNotMatch(text, /"(?:password|accessToken|clientSecret|refreshToken)":\s*"/, 'every secret is a reference');
    assert.deepEqual(presetDifferences(m365, mailbox), []);
    const secretEnv = initConfig({
      preset: m365,
      address: 'info@contoso.co.jp',
      tenant: 'contoso.onmicrosoft.com',
      clientId: APP_ID,
      clientSecretEnv: 'M365_SECRET',
    });
    assert.deepEqual(secretEnv.mailbox.oauth2?.clientSecret, { env: 'M365_SECRET' }, 'a confidential client when asked');
  });

  it('Gmail: an app password by default, an oauth2 block with its client secret from the environment with --oauth', () => {
    const password = initConfig({ preset: gmail, address: 'info@example.jp' });
    assert.deepEqual(
      { password: password.mailbox.password, oauth2: password.mailbox.oauth2 },
      { password: { env: 'MAIL_INGEST_INFO_PASSWORD' }, oauth2: undefined },
    );
    assert.deepEqual(presetDifferences(gmail, password.mailbox), [], 'an app password matches the preset too');
    const oauth = initConfig({ preset: gmail, address: 'info@example.jp', oauth: true, clientId: 'abc.apps.googleusercontent.com' });
    const [m] = (oauth.raw as { mailboxes: Array<Record<string, unknown>> }).mailboxes;
    assert.deepEqual(
      { auth: m!.auth, oauth2: m!.oauth2, password: m!.password },
      {
        auth: 'xoauth2',
        oauth2: {
          provider: 'google',
          clientId: 'abc.apps.googleusercontent.com',
          clientSecret: { env: 'MAIL_INGEST_INFO_CLIENT_SECRET' },
          refreshToken: { file: 'tokens/info.json' },
        },
        password: undefined,
      },
    );
    assert.doesNotMatch(oauth.text, /"(?:password|clientSecret|refreshToken)":\s*"/);
    assert.deepEqual(presetDifferences(gmail, oauth.mailbox), []);
  });

  it('OAuth 2 answers: what is missing and what contradicts is named by its flags', () => {
    const refused = (a: InitAnswers, pattern: RegExp) =>
      assert.throws(
        () => buildInitConfig(a, '/tmp'),
        (e: unknown) => e instanceof UsageError && pattern.test(e.message),
        String(pattern),
      );
    refused(
      { preset: m365, address: 'info@contoso.co.jp' },
      /init needs --tenant \(the Directory \(tenant\) ID.*\) and --client-id \(the app registration's Application \(client\) ID\)/,
    );
    refused({ preset: gmail, address: 'a@example.jp', oauth: true }, /init needs --client-id \(the OAuth client ID of your Desktop app\)/);
    refused({ preset: m365, address: 'a@contoso.co.jp', tenant: 'bad tenant!', clientId: APP_ID }, /--tenant: must be a tenant id/);
    refused(
      { preset: gmail, address: 'a@example.jp', oauth: true, tenant: 'contoso.onmicrosoft.com', clientId: 'c' },
      /--tenant: .*"tenant" is for provider "microsoft" only/,
    );
    refused({ preset: gmail, address: 'a@example.jp', clientId: 'c' }, /--client-id: for an OAuth 2 sign-in; add --oauth/);
    refused({ preset: presetById('ocn')!, address: 'a@ocn.ne.jp', oauth: true }, /--oauth: preset "ocn" has no OAuth 2 sign-in/);
    refused(
      { preset: m365, address: 'a@contoso.co.jp', tenant: 't', clientId: APP_ID, secretEnv: 'X' },
      /--password-env: .* signs in with OAuth 2 here, which needs no password/,
    );
  });

  it('derives host and user from the address where the provider does', () => {
    assert.equal(presetHost(presetById('plala')!, 'taro@olive.plala.or.jp'), 'olive.mail.plala.or.jp');
    assert.equal(presetHost(presetById('onamae')!, 'info@Example.co.jp'), 'pop.example.co.jp');
    assert.equal(presetHost(presetById('xserver')!, 'info@example.jp'), null, 'Xserver assigns a server per contract');
    assert.equal(presetLogin(presetById('nifty')!, 'abc12345@nifty.com'), 'abc12345');
    assert.equal(presetLogin(presetById('ocn')!, 'taro@example.ocn.ne.jp'), 'taro@example.ocn.ne.jp');
    assert.equal(presetLogin(presetById('kagoya')!, 'info@example.jp'), null);
  });

  it('says where a mailbox differs from its preset', () => {
    const d = presetDifferences(presetById('ocn')!, { host: 'pop.example.jp', port: 110, tls: 'starttls', user: 'taro', auth: 'auto' });
    assert.deepEqual(
      d.map((x) => x.field),
      ['host', 'port', 'tls', 'user'],
    );
    assert.deepEqual(
      presetDifferences(presetById('kagoya')!, {
        host: 'pop.kagoya.net',
        port: 995,
        tls: 'implicit',
        user: 'info@example.jp',
        auth: 'auto',
      }).map((x) => x.field),
      ['user'],
    );
    const office = { host: 'outlook.office365.com', port: 995, tls: 'implicit', user: 'a@b.jp' };
    assert.deepEqual(
      presetDifferences(m365, { ...office, auth: 'user' }).map((x) => x.field),
      ['auth'],
    );
    assert.deepEqual(
      presetDifferences(m365, { ...office, auth: 'auto' }).map((x) => x.field),
      ['auth'],
      'auto without any token is a password login',
    );
    assert.deepEqual(
      presetDifferences(m365, { ...office, auth: 'auto', oauth2: { provider: 'microsoft' } }),
      [],
      'auto picks the oauth2 token',
    );
    assert.deepEqual(presetDifferences(m365, { ...office, auth: 'oauthbearer', oauth2: { provider: 'microsoft' } }), []);
    assert.deepEqual(
      presetDifferences(m365, { ...office, auth: 'xoauth2', accessToken: { env: 'T' } }),
      [],
      'a static token is still a token login',
    );
    assert.deepEqual(
      presetDifferences(m365, { ...office, auth: 'xoauth2', oauth2: { provider: 'google' } }).map((x) => [x.field, x.value]),
      [['auth', 'oauth2 provider google']],
    );
  });

  it('the config accepts a preset id and refuses a malformed one', () => {
    const base = { store: { type: 'fs', dir: 'd' }, mailboxes: [{ id: 'a', host: 'h', user: 'u', password: 'p', preset: 'Bad Id' }] };
    assert.throws(
      () => parseConfig(base, { baseDir: '/tmp' }),
      (e: unknown) => e instanceof ConfigError && /mailboxes\[0\]\.preset: must be a preset id/.test(e.message),
    );
  });
});
