/**
 * The runtime config deployment: GIVEN a MailIngest with two mailboxes and a processor, WHEN synthesized, THEN
 * the config is written by our own Node function through a custom resource, which may put the one config key
 * and nothing else, and no principal in the template may delete anything from S3.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CfnResource, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import nag from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { ConfigDeployment, CONFIG_KEY } from '../../cdk/constructs/config-deployment.ts';
import { MailIngest } from '../../cdk/mail-ingest.ts';
import { flattenReference } from '../../cdk/nag-acknowledgements.ts';
import { MailIngestValidationError } from '../../cdk/validation-error.ts';
import { assembleDeployedConfig } from '../../lib/config/deployed-config.ts';
import { deployedConfig, type DeployedConfig } from './deployed-config.ts';
import {
  actionsOf,
  flat,
  newStack,
  onlyResource,
  resourcesOf,
  statementsOfRole,
  STUB_ENTRY,
  twoMailboxConfig,
  type StatementJson,
} from './helpers.ts';

let app: ReturnType<typeof newStack>['app'];
let ingest: MailIngest;
let template: Template;
let deployed: DeployedConfig;
let ids: { bucket: string; key: string; queue: string };

before(() => {
  // GIVEN a config as a user's file has it, with its editor's $schema
  const made = newStack('Ingest');
  app = made.app;
  ingest = new MailIngest(made.stack, 'MailIngest', {
    config: { $schema: '../lib/config/config.schema.json', ...twoMailboxConfig() } as ReturnType<typeof twoMailboxConfig>,
    entries: { dispatcher: STUB_ENTRY, poller: STUB_ENTRY },
  });
  ingest.addProcessor('tickets', { entry: STUB_ENTRY, filter: { autoReply: false, bounce: false } });
  // WHEN
  const assembly = app.synth();
  template = Template.fromJSON(assembly.getStackByName('Ingest').template);
  deployed = deployedConfig(template, assembly.directory);
  const id = (c: { node: { defaultChild?: unknown } }) => made.stack.getLogicalId(c.node.defaultChild as never);
  ids = { bucket: id(ingest.archiveBucket), key: id(ingest.encryptionKey as never), queue: id(ingest.processors[0]!.queue) };
});

/** Every S3 action that removes an object, a version, a bucket or what protects them. */
const S3_DELETE_ACTIONS = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:DeleteObjectTagging',
  's3:DeleteObjectVersionTagging',
  's3:DeleteBucket',
  's3:DeleteBucketPolicy',
  's3:DeleteBucketWebsite',
  's3:DeleteBucketOwnershipControls',
  's3:DeleteAccessPoint',
];

function glob(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
}

/** The S3 delete actions a statement allows: IAM action patterns are case-insensitive globs; NotAction allows the rest. */
export function deletesAllowedBy(statement: StatementJson & { NotAction?: string | string[] }): string[] {
  if (statement.Effect !== 'Allow') return [];
  if (statement.NotAction !== undefined) {
    const excluded = [statement.NotAction].flat().map(glob);
    return S3_DELETE_ACTIONS.filter((a) => !excluded.some((re) => re.test(a)));
  }
  const patterns = [statement.Action].flat().map(glob);
  return S3_DELETE_ACTIONS.filter((a) => patterns.some((re) => re.test(a)));
}

/** Every policy document in the template: IAM policies, managed policies, roles' inline policies, bucket policies. */
function everyStatement(t: Template): Array<{ where: string; statement: StatementJson }> {
  const out: Array<{ where: string; statement: StatementJson }> = [];
  const add = (where: string, doc: { Statement?: StatementJson | StatementJson[] } | undefined) => {
    for (const statement of [doc?.Statement ?? []].flat()) out.push({ where, statement });
  };
  for (const [id, r] of resourcesOf(t, 'AWS::IAM::Policy')) add(id, r.Properties['PolicyDocument']);
  for (const [id, r] of resourcesOf(t, 'AWS::IAM::ManagedPolicy')) add(id, r.Properties['PolicyDocument']);
  for (const [id, r] of resourcesOf(t, 'AWS::IAM::Role'))
    for (const p of r.Properties['Policies'] ?? []) add(`${id} inline`, p.PolicyDocument);
  for (const [id, r] of resourcesOf(t, 'AWS::S3::BucketPolicy')) add(id, r.Properties['PolicyDocument']);
  return out;
}

describe('no function can delete archived mail', () => {
  it('no function runs Python, and there is no BucketDeployment and no Lambda layer', () => {
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    assert.equal(functions.length, 4, 'dispatcher, poller, one processor and the config writer');
    for (const [id, fn] of functions) {
      assert.doesNotMatch(String(fn.Properties['Runtime']), /python/i, id);
      assert.equal(fn.Properties['Runtime'], 'nodejs24.x', id);
    }
    assert.deepEqual(resourcesOf(template, 'Custom::CDKBucketDeployment'), []);
    assert.deepEqual(resourcesOf(template, 'AWS::Lambda::LayerVersion'), []);
  });

  it('the scan below finds a delete however a statement spells it', () => {
    const allow = (a: Partial<StatementJson> & { NotAction?: string[] }) => deletesAllowedBy({ Effect: 'Allow', Action: [], ...a });
    assert.ok(allow({ Action: ['s3:DeleteObject*'] }).includes('s3:DeleteObjectVersion'));
    assert.ok(allow({ Action: 's3:*' }).length === S3_DELETE_ACTIONS.length);
    assert.ok(allow({ Action: '*' }).includes('s3:DeleteBucket'));
    assert.ok(allow({ Action: ['S3:deleteobject'] }).includes('s3:DeleteObject'), 'actions are case-insensitive');
    assert.ok(allow({ Action: ['s3:*Object?ersion'] }).includes('s3:DeleteObjectVersion'));
    assert.ok(allow({ NotAction: ['s3:PutObject'] }).includes('s3:DeleteObject'), 'NotAction allows everything else');
    assert.deepEqual(allow({ Action: ['s3:PutObject', 's3:GetObject*', 'kms:Decrypt'] }), []);
    assert.deepEqual(deletesAllowedBy({ Effect: 'Deny', Action: 's3:*' }), []);
  });

  it('no policy statement in the template allows an s3:Delete* action (IAM and bucket policies)', () => {
    const statements = everyStatement(template);
    assert.ok(statements.length > 20, `scanned ${statements.length} statements`);
    const allowing = statements.flatMap(({ where, statement }) =>
      deletesAllowedBy(statement).map((a) => `${where} (${statement.Sid ?? 'no Sid'}): ${a}`),
    );
    assert.deepEqual(allowing, []);
  });
});

describe('the config writer', () => {
  const writerStatements = () => statementsOfRole(template, 'ConfigWriterRole');
  const resourcesFor = (action: string) =>
    writerStatements()
      .filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes(action))
      .flatMap((s) => [s.Resource].flat().map(flattenReference));

  it('may put exactly config/mail-ingest.json, no wildcard', () => {
    assert.deepEqual(resourcesFor('s3:PutObject'), [`<${ids.bucket}.Arn>/config/mail-ingest.json`]);
  });

  it('may get exactly its one asset object, use the archive key and write its own logs, and do nothing else', () => {
    const staticKey = deployed.properties['StaticKey'] as string;
    assert.match(staticKey, /^[0-9a-f]{64}\.json$/);
    assert.deepEqual(resourcesFor('s3:GetObject'), [
      `arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/${staticKey}`,
    ]);
    assert.deepEqual(resourcesFor('kms:GenerateDataKey'), [`<${ids.key}.Arn>`]);
    assert.deepEqual(resourcesFor('kms:Decrypt'), [`<${ids.key}.Arn>`]);
    const [logGroup] = onlyResource(template, 'AWS::Logs::LogGroup', 'ConfigWriter');
    assert.deepEqual(resourcesFor('logs:PutLogEvents'), [`<${logGroup}.Arn>`]);
    assert.deepEqual(actionsOf(writerStatements()).sort(), [
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      's3:PutObject',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    assert.ok(
      writerStatements().every((s) => s.Effect === 'Allow'),
      'no Deny is needed when nothing is granted beyond need',
    );
  });

  it('runs Node.js 24 on arm64, a minute at most, logging JSON into its own log group', () => {
    const [, fn] = onlyResource(template, 'AWS::Lambda::Function', 'ConfigWriter');
    const [logGroup] = onlyResource(template, 'AWS::Logs::LogGroup', 'ConfigWriter');
    assert.equal(fn.Properties['Runtime'], 'nodejs24.x');
    assert.deepEqual(fn.Properties['Architectures'], ['arm64']);
    assert.equal(fn.Properties['Timeout'], 60);
    assert.deepEqual(fn.Properties['LoggingConfig'], { LogFormat: 'JSON', LogGroup: { Ref: logGroup } });
  });

  it('is invoked by CloudFormation directly through a Custom::MailIngestConfig, once its grants exist, waiting 5 minutes at most', () => {
    const [writerId] = onlyResource(template, 'AWS::Lambda::Function', 'ConfigWriter');
    const [policyId] = onlyResource(template, 'AWS::IAM::Policy', 'ConfigWriter');
    const resource = template.toJSON().Resources[deployed.logicalId];
    assert.deepEqual(deployed.properties['ServiceToken'], { 'Fn::GetAtt': [writerId, 'Arn'] });
    assert.equal(deployed.properties['ServiceTimeout'], '300');
    assert.ok((resource.DependsOn as string[]).includes(policyId), 'the policy is attached before the first invocation');
    assert.equal(deployed.properties['Key'], CONFIG_KEY);
    assert.equal(ingest.configKey, CONFIG_KEY);
  });
});

describe('the deployed config', () => {
  it("carries the mailboxes and defaults in an asset, as compact JSON without the editor's $schema", () => {
    assert.equal(deployed.staticText, JSON.stringify(twoMailboxConfig()));
  });

  it('holds the store and the publish targets as resource properties, to be filled in by CloudFormation', () => {
    assert.deepEqual(deployed.properties['Bucket'], { Ref: ids.bucket });
    assert.deepEqual(deployed.properties['KmsKeyId'], { 'Fn::GetAtt': [ids.key, 'Arn'] });
    assert.deepEqual(deployed.doc.store, { type: 's3', bucket: `<${ids.bucket}>`, prefix: '', kmsKeyId: `<${ids.key}.Arn>` });
    assert.deepEqual(deployed.doc.publish, {
      type: 'sqs',
      targets: [{ name: 'tickets', queueUrl: `<${ids.queue}>`, filter: { autoReply: false, bounce: false } }],
    });
  });

  it("with CloudFormation's values filled in, is a config the CLI's parser accepts", () => {
    const values: Record<string, string> = {
      [`<${ids.bucket}>`]: 'ingest-mailingestarchivebucket-1a2b3c4d5e6f',
      [`<${ids.key}.Arn>`]: 'arn:aws:kms:ap-northeast-1:111122223333:key/11111111-2222-3333-4444-555555555555',
      [`<${ids.queue}>`]: 'https://sqs.ap-northeast-1.amazonaws.com/111122223333/Ingest-tickets',
    };
    const fill = (v: unknown) => flat(v).replace(/<[^<>]+>/g, (ref) => values[ref] ?? assert.fail(`no value for ${ref}`));

    const text = assembleDeployedConfig({
      staticText: deployed.staticText,
      store: fill(deployed.properties['Store']),
      publish: fill(deployed.properties['Publish']),
      source: CONFIG_KEY,
    });

    const doc = JSON.parse(text);
    assert.equal(doc.store.bucket, 'ingest-mailingestarchivebucket-1a2b3c4d5e6f');
    assert.equal(doc.publish.targets[0].queueUrl, 'https://sqs.ap-northeast-1.amazonaws.com/111122223333/Ingest-tickets');
    assert.deepEqual(doc.mailboxes, twoMailboxConfig().mailboxes);
  });

  it('refuses mailboxes and defaults too large for the writer to read, saying so at synthesis', () => {
    const { stack } = newStack('Huge');
    const huge = {
      mailboxes: [{ id: 'a', host: 'pop.example.jp', user: 'a', password: { secretId: 'a' }, ca: 'x'.repeat(33 * 1024 * 1024) }],
    };
    assert.throws(
      () =>
        new ConfigDeployment(stack, 'Config', {
          bucket: new s3.Bucket(stack, 'B'),
          encryptionKey: new kms.Key(stack, 'K'),
          config: huge,
          targets: () => [],
          logRetention: logs.RetentionDays.ONE_DAY,
        }),
      (err: unknown) => err instanceof MailIngestValidationError && /over the 33554432 the config writer reads/.test(err.message),
    );
  });
});

describe('cdk-nag', () => {
  it("finds nothing in the config deployment, whose only acknowledgement is X-Ray's Resource: *", () => {
    const report = new nag.AwsSolutionsChecks(app).validateScope(app);
    const here = report.violations.filter((v) => v.violatingResources.some((r) => (r.constructPath ?? '').includes('/Config/')));
    assert.deepEqual(
      here.map((v) => v.ruleName),
      [],
    );
    const acknowledged: string[] = [];
    const visit = (c: IConstruct) => {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        assert.ok(CfnResource.isCfnResource(c), c.node.path);
        acknowledged.push(
          ...Object.keys(entry.data as Record<string, string>).map((k) => `${k.replace(/^annotation::/i, '')} @ ${c.node.path}`),
        );
      }
      c.node.children.forEach(visit);
    };
    visit(ingest.node.findChild('Config'));
    assert.deepEqual(acknowledged, ['AwsSolutions-IAM5[Resource::*] @ Ingest/MailIngest/Config/Writer/Role/DefaultPolicy/Resource']);
  });
});
