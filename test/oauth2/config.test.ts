import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, parseConfig } from '../../lib/config/index.ts';
import { endpointsFor } from '../../lib/oauth2/index.ts';

const base = '/srv/mail-ingest';
const mailbox = (extra: Record<string, unknown>) => ({
  id: 'support',
  host: 'outlook.office365.com',
  user: 'support@contoso.co.jp',
  auth: 'xoauth2',
  ...extra,
});
const parse = (m: Record<string, unknown>) => parseConfig({ store: { type: 'fs', dir: './data' }, mailboxes: [m] }, { baseDir: base });
const problems = (m: Record<string, unknown>): Array<{ path: string; message: string }> => {
  try {
    parse(m);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.issues];
  }
  assert.fail('expected a ConfigError');
};
const paths = (m: Record<string, unknown>) => problems(m).map((i) => i.path);

const microsoft = {
  provider: 'microsoft',
  tenant: 'contoso.onmicrosoft.com',
  clientId: '00000000-1111-2222-3333-444444444444',
  refreshToken: { file: 'tokens/support.json' },
};

describe('config: the oauth2 block', () => {
  it('Microsoft delegated: the token file is resolved against the config folder; endpoints and scope come from the profile', () => {
    const m = parse(mailbox({ oauth2: microsoft })).mailboxes[0]!;
    assert.equal(m.oauth2?.flow, 'delegated');
    assert.deepEqual(m.oauth2?.refreshToken, { file: path.join(base, 'tokens', 'support.json') });
    assert.deepEqual(endpointsFor(m.oauth2!), {
      tokenUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      deviceAuthorizationUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode',
      authorizationUrl: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
      scope: 'https://outlook.office.com/POP.AccessAsUser.All offline_access',
    });
  });

  it('Microsoft app-only (client credentials): the .default scope, a secret, no refresh token', () => {
    const m = parse(
      mailbox({
        oauth2: {
          provider: 'microsoft',
          tenant: 'contoso.onmicrosoft.com',
          flow: 'client-credentials',
          clientId: 'app',
          clientSecret: { secretId: 'mail-ingest/app-secret' },
        },
      }),
    ).mailboxes[0]!;
    assert.equal(endpointsFor(m.oauth2!).scope, 'https://outlook.office365.com/.default');
  });

  it('Google and a generic server', () => {
    const g = parse(
      mailbox({
        host: 'pop.gmail.com',
        auth: 'oauthbearer',
        oauth2: {
          provider: 'google',
          clientId: 'x.apps.googleusercontent.com',
          clientSecret: { env: 'GOOGLE_CLIENT_SECRET' },
          refreshToken: { secretId: 'mail-ingest/gmail' },
        },
      }),
    ).mailboxes[0]!;
    assert.equal(g.auth, 'oauthbearer');
    assert.deepEqual(endpointsFor(g.oauth2!), {
      tokenUrl: 'https://oauth2.googleapis.com/token',
      deviceAuthorizationUrl: 'https://oauth2.googleapis.com/device/code',
      authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      scope: 'https://mail.google.com/',
    });
    const x = parse(
      mailbox({
        oauth2: {
          provider: 'generic',
          clientId: 'c',
          tokenUrl: 'https://id.example.jp/token',
          scope: 'pop3 offline',
          refreshToken: { env: 'RT' },
        },
      }),
    ).mailboxes[0]!;
    assert.deepEqual(endpointsFor(x.oauth2!), {
      tokenUrl: 'https://id.example.jp/token',
      deviceAuthorizationUrl: null,
      authorizationUrl: null,
      scope: 'pop3 offline',
    });
  });

  it('reports what each provider and flow needs, all at once', () => {
    assert.deepEqual(paths(mailbox({ oauth2: { provider: 'microsoft', clientId: 'c' } })).sort(), [
      'mailboxes[0].oauth2.refreshToken',
      'mailboxes[0].oauth2.tenant',
    ]);
    assert.deepEqual(paths(mailbox({ oauth2: { provider: 'generic', clientId: 'c', refreshToken: { env: 'RT' } } })).sort(), [
      'mailboxes[0].oauth2.scope',
      'mailboxes[0].oauth2.tokenUrl',
    ]);
    assert.deepEqual(paths(mailbox({ oauth2: { ...microsoft, flow: 'client-credentials', tenant: 'organizations' } })).sort(), [
      'mailboxes[0].oauth2.clientSecret',
      'mailboxes[0].oauth2.refreshToken',
      'mailboxes[0].oauth2.tenant',
    ]);
    assert.match(
      problems(mailbox({ oauth2: { provider: 'google', flow: 'client-credentials', clientId: 'c', clientSecret: 's' } }))[0]!.message,
      /Google offers no client-credentials grant/,
    );
  });

  it('oauth2 excludes a password, a static access token and password mechanisms', () => {
    assert.deepEqual(paths(mailbox({ oauth2: microsoft, password: 'p', accessToken: 't', auth: 'plain' })).sort(), [
      'mailboxes[0].accessToken',
      'mailboxes[0].auth',
      'mailboxes[0].password',
    ]);
    assert.deepEqual(paths(mailbox({ auth: 'oauthbearer', password: 'p' })), ['mailboxes[0].accessToken']);
  });

  it('a refresh token is never written into the config itself, and a token endpoint is https (http only to this machine)', () => {
    const literal = problems(mailbox({ oauth2: { ...microsoft, refreshToken: '0.AAAA-a-refresh-token' } }));
    assert.equal(literal[0]?.path, 'mailboxes[0].oauth2.refreshToken');
    assert.match(literal[0]!.message, /must not be the token itself/);
    assert.ok(!literal[0]!.message.includes('0.AAAA'), 'the value is not quoted back');
    for (const tokenUrl of ['http://login.example.jp/token', 'https://user:pw@login.example.jp/token', 'ftp://x/token']) {
      assert.deepEqual(paths(mailbox({ oauth2: { ...microsoft, tokenUrl } })), ['mailboxes[0].oauth2.tokenUrl'], tokenUrl);
    }
    for (const tokenUrl of ['http://127.0.0.1:8080/t/oauth2/v2.0/token', 'http://localhost/token', 'http://[::1]:9/token']) {
      assert.equal(parse(mailbox({ oauth2: { ...microsoft, tokenUrl } })).mailboxes[0]!.oauth2!.tokenUrl, tokenUrl);
    }
  });

  it('suggests the key meant when one is misspelt', () => {
    const [issue] = problems(mailbox({ oauth2: { ...microsoft, clientID: 'x', clientId: undefined } })).filter((i) =>
      i.path.endsWith('clientID'),
    );
    assert.match(issue!.message, /did you mean "clientId"/);
  });
});
