import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../lib/config/errors.ts';
import { assembleDeployedConfig, type DeployedConfigParts } from '../../lib/config/deployed-config.ts';

const SOURCE = 's3://archive/config/mail-ingest.json';

function parts(overrides: Partial<DeployedConfigParts> = {}): DeployedConfigParts {
  return {
    staticText: JSON.stringify({
      mailboxes: [{ id: 'support', host: 'pop.example.jp', user: '受付@example.jp', password: { secretId: 'mail-ingest/support' } }],
    }),
    store: JSON.stringify({ type: 's3', bucket: 'archive', prefix: '' }),
    publish: JSON.stringify({
      type: 'sqs',
      targets: [{ name: 'tickets', queueUrl: 'https://sqs.ap-northeast-1.amazonaws.com/111122223333/tickets' }],
    }),
    source: SOURCE,
    ...overrides,
  };
}

function issuesOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, /^invalid configuration in s3:\/\/archive\/config\/mail-ingest\.json/);
    return [...err.issues];
  }
  assert.fail('accepted');
}

describe('assembleDeployedConfig', () => {
  it('puts store and publish first, then the static part in its own order, indented, with a final newline', () => {
    const text = assembleDeployedConfig(parts());

    assert.deepEqual(Object.keys(JSON.parse(text)), ['store', 'publish', 'mailboxes']);
    assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    assert.ok(text.includes('"user": "受付@example.jp"'), 'Japanese text stays as UTF-8, not escaped');
  });

  it('refuses a static part that sets what the deployment fills in', () => {
    const staticText = JSON.stringify({ store: { type: 'fs', dir: '/tmp' }, publish: { type: 'local' }, mailboxes: [] });

    assert.deepEqual(
      issuesOf(() => assembleDeployedConfig(parts({ staticText }))).map((i) => i.path),
      ['store', 'publish'],
    );
  });

  it('names the part that is not a JSON object', () => {
    assert.deepEqual(
      issuesOf(() => assembleDeployedConfig(parts({ staticText: '{"mailboxes": [' }))).map((i) => i.path),
      ['(static part)'],
    );
    assert.deepEqual(
      issuesOf(() => assembleDeployedConfig(parts({ publish: '[]' }))),
      [{ path: 'publish', message: 'must be a JSON object' }],
    );
  });

  it('lists every problem of the merged config, across the deploy-time and the static parts, as the CLI reports them', () => {
    const publish = JSON.stringify({
      type: 'sqs',
      targets: [
        { name: 'tickets', queueUrl: 'https://sqs.example.com/q', filter: { mailbox: ['nobody'] } },
        { name: 'tickets', queueUrl: 'ftp://sqs.example.com/q' },
      ],
    });
    const staticText = JSON.stringify({
      mailboxes: [{ id: 'support', host: 'pop.example.jp', user: 'u', port: 0, password: { secretId: 's' } }],
    });

    const issues = issuesOf(() => assembleDeployedConfig(parts({ publish, staticText })));

    assert.deepEqual(
      issues.map((i) => i.path),
      ['mailboxes[0].port', 'publish.targets[0].filter.mailbox[0]', 'publish.targets[1].name', 'publish.targets[1].queueUrl'],
    );
    assert.match(issues[1]!.message, /no mailbox with id "nobody"/);
  });
});
