/**
 * The AWS side of OAuth 2 mailboxes: GIVEN a deployment with a Microsoft 365 mailbox (client secret and refresh
 * token in Secrets Manager) beside a password mailbox, WHEN synthesized, THEN the poller may read all three secrets
 * and write exactly the refresh-token one, and the token alarms exist.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import nag from 'cdk-nag';
import { Template } from 'aws-cdk-lib/assertions';
import { MailIngest } from '../../cdk/mail-ingest.ts';
import { validateDeploymentConfig, type MailIngestConfig } from '../../cdk/deployment-config.ts';
import { flat, newStack, statementsOfRole, STUB_ENTRY } from '../cdk/helpers.ts';

const oauthMailbox = (oauth2: Record<string, unknown>) => ({
  id: 'support',
  host: 'outlook.office365.com',
  user: 'support@contoso.co.jp',
  auth: 'xoauth2',
  oauth2: { provider: 'microsoft', tenant: 'contoso.onmicrosoft.com', clientId: 'app-id', ...oauth2 },
});

const config = {
  mailboxes: [
    oauthMailbox({
      clientSecret: { secretId: 'mail-ingest/m365-client-secret' },
      refreshToken: { secretId: 'mail-ingest/support-refresh-token' },
    }),
    { id: 'sales', host: 'pop.example.jp', user: 'sales@example.jp', password: { secretId: 'mail-ingest/sales' } },
  ],
} as MailIngestConfig;

describe('MailIngest with an OAuth 2 mailbox', () => {
  let template: Template;
  let ingest: MailIngest;
  let stack: ReturnType<typeof newStack>['stack'];
  before(() => {
    ({ stack } = newStack('OAuth'));
    ingest = new MailIngest(stack, 'MailIngest', { config, entries: { dispatcher: STUB_ENTRY, poller: STUB_ENTRY } });
    template = Template.fromStack(stack);
  });

  const resourcesFor = (action: string) =>
    statementsOfRole(template, 'PollerRole')
      .filter((st) => [st.Action].flat().includes(action))
      .flatMap((st) => [st.Resource].flat().map(flat));
  const arn = (name: string) => `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}-??????`;

  it('THEN the poller reads the password, the client secret and the refresh token, and writes only the refresh token', () => {
    assert.deepEqual(resourcesFor('secretsmanager:GetSecretValue').sort(), [
      arn('mail-ingest/m365-client-secret'),
      arn('mail-ingest/sales'),
      arn('mail-ingest/support-refresh-token'),
    ]);
    assert.deepEqual(resourcesFor('secretsmanager:PutSecretValue'), [arn('mail-ingest/support-refresh-token')]);
  });

  it('THEN token failures and a refresh token unused for 30 days raise alarms', () => {
    const ids = ingest.monitoring.alarms.map((a) => a.node.id);
    assert.ok(ids.includes('TokenFailuresAlarm'), ids.join(', '));
    assert.ok(ids.includes('TokenRefreshAgeAlarm'), ids.join(', '));
    const age = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      JSON.stringify(a).includes('DaysSinceTokenRefresh'),
    );
    assert.equal((age as { Properties: { Threshold: number } }).Properties.Threshold, 30);
  });

  it('THEN cdk-nag finds nothing unacknowledged', () => {
    assert.deepEqual(
      new nag.AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName),
      [],
    );
  });

  it('a deployment without OAuth 2 mailboxes has no PutSecretValue and no token alarms', () => {
    const { stack: plain } = newStack('Plain');
    const other = new MailIngest(plain, 'MailIngest', {
      config: { mailboxes: [config.mailboxes[1]!] },
      entries: { dispatcher: STUB_ENTRY, poller: STUB_ENTRY },
    });
    const actions = statementsOfRole(Template.fromStack(plain), 'PollerRole').flatMap((st) => [st.Action].flat());
    assert.ok(!actions.includes('secretsmanager:PutSecretValue'));
    assert.ok(!other.monitoring.alarms.some((a) => a.node.id.startsWith('Token')));
  });

  it('a deployment refuses a token file, an environment variable or a literal for the OAuth 2 credentials', () => {
    const problems = validateDeploymentConfig({
      mailboxes: [oauthMailbox({ clientSecret: 'literal-secret', refreshToken: { file: 'tokens/support.json' } })],
    });
    assert.ok(
      problems.some((p) => /oauth2\.refreshToken: in a deployment it must be \{ "secretId"/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /oauth2\.clientSecret: in a deployment it must be \{ "secretId"/.test(p)),
      problems.join('\n'),
    );
    assert.ok(!problems.join('\n').includes('literal-secret'), 'the literal is not quoted back');
    assert.deepEqual(validateDeploymentConfig(config), []);
  });
});
