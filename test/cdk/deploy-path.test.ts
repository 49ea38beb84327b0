/**
 * The way to `cdk deploy`: GIVEN no named config, a broken one, or a valid one, WHEN the app or the stack is
 * built, THEN it refuses with every problem said once and no stack trace, or it gives the operator the outputs
 * they need next; and the construct's grants hold for consumers and for processors with look-alike ids.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MailIngest } from '../../cdk/mail-ingest.ts';
import { MailIngestStack } from '../../cdk/mail-ingest-stack.ts';
import { PROJECT_ROOT } from '../../cdk/paths.ts';
import { newStack, statementsOfRole, STUB_ENTRIES, STUB_ENTRY, twoMailboxConfig } from './helpers.ts';

function runApp(env: Record<string, string>): { status: number | null; stderr: string } {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('CDK_') && k !== 'MAIL_INGEST_CONFIG') clean[k] = v;
  const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'cdk/app.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, stderr: run.stderr };
}

function configFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mail-ingest-deploy-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, content);
  return file;
}

const STACK_TRACE = /^\s+at /m;

describe('cdk synth / deploy without a named config', () => {
  it('refuses, saying how to name one, and deploys nothing (not even the example)', () => {
    const { status, stderr } = runApp({});
    assert.equal(status, 1);
    assert.match(stderr, /no deployment config was named/);
    assert.match(stderr, /-c mail-ingest:config=/);
    assert.match(stderr, /MAIL_INGEST_CONFIG=/);
    assert.doesNotMatch(stderr, STACK_TRACE);
  });
});

describe('cdk synth with a broken config', () => {
  it("lists the deployment section's and the mailboxes' problems together, each once, without a stack trace", () => {
    const file = configFile(
      JSON.stringify({
        mailboxes: [{ id: 'support', host: 'pop.example.jp', user: 'u', password: { secretId: 'mail-ingest/support' }, port: 70000 }],
        deployment: { scheduleMinute: 5 },
      }),
    );
    const { status, stderr } = runApp({ MAIL_INGEST_CONFIG: file });
    assert.equal(status, 1);
    assert.match(stderr, /cannot be deployed \(2 problems\)/);
    assert.equal(stderr.match(/deployment\.scheduleMinute: unknown key/g)?.length, 1);
    assert.equal(stderr.match(/config\.mailboxes\[0\]\.port/g)?.length, 1);
    assert.doesNotMatch(stderr, STACK_TRACE);
  });

  it('never quotes the text around a JSON syntax error, which could hold a literal password', () => {
    const file = configFile('{ "mailboxes": [ { "password": "Sup3r-Secret-Canary" ,, } ] }');
    const { status, stderr } = runApp({ MAIL_INGEST_CONFIG: file });
    assert.equal(status, 1);
    assert.match(stderr, /is not valid JSON/);
    assert.doesNotMatch(stderr, /Sup3r-Secret-Canary/);
    assert.doesNotMatch(stderr, STACK_TRACE);
  });
});

describe("the example stack's outputs", () => {
  let outputs: Record<string, { Value: unknown; Description?: string }>;
  let template: Template;
  before(() => {
    const stack = new MailIngestStack(new App(), 'Ops', { config: twoMailboxConfig(), entries: STUB_ENTRIES });
    template = Template.fromStack(stack);
    outputs = template.toJSON()['Outputs'];
  });

  it('names the bucket, the runtime config, the poll-job queue and its dead-letter queue, the functions and the dashboard', () => {
    for (const id of [
      'ArchiveBucket',
      'RuntimeConfig',
      'PollJobQueue',
      'PollJobDeadLetterQueue',
      'PollerFunction',
      'DispatcherFunction',
      'Dashboard',
    ]) {
      assert.ok(outputs[id] !== undefined, `output ${id}`);
    }
    // A stable dashboard name, so runbooks and bookmarks can point at it.
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Ops-mail-ingest' });
    assert.match(JSON.stringify(outputs['Dashboard']!.Value), /#dashboards:name=.*Dashboard/);
    assert.match(JSON.stringify(outputs['RuntimeConfig']!.Value), /config\/mail-ingest\.json/);
  });

  it("names each processor's queue, dead-letter queue and function", () => {
    for (const name of ['ticket-intake', 'attachment-extraction', 'archive-index']) {
      const of = Object.values(outputs).filter(
        (o) => o.Description?.includes(`the ${name} processor`) || o.Description?.includes(`The ${name} processor`),
      );
      assert.equal(of.length, 3, `${name}: queue, dead-letter queue and function`);
    }
  });
});

describe('processor ids that differ only in punctuation', () => {
  it("get distinct IAM statement ids, so the poller's policy deploys", () => {
    const { app, stack } = newStack('LookAlike');
    const ingest = new MailIngest(stack, 'MailIngest', {
      config: twoMailboxConfig(),
      entries: { dispatcher: STUB_ENTRY, poller: STUB_ENTRY },
    });
    ingest.addProcessor('a-b', { entry: STUB_ENTRY, outputPrefix: 'a-b/' });
    ingest.addProcessor('ab', { entry: STUB_ENTRY, outputPrefix: 'ab/' });
    const template = Template.fromJSON(app.synth().getStackByName('LookAlike').template);
    const sids = statementsOfRole(template, 'Poller')
      .map((s) => s.Sid)
      .filter((s) => s?.startsWith('Publish'));
    assert.equal(sids.length, 2);
    assert.equal(new Set(sids).size, 2, sids.join(', '));
  });
});

describe('grantRead for a consumer that brings its own role', () => {
  it('reads raw/ and claims/ and decrypts, and can never write or delete', () => {
    const { app, stack } = newStack('Consumer');
    const ingest = new MailIngest(stack, 'MailIngest', {
      config: twoMailboxConfig(),
      entries: { dispatcher: STUB_ENTRY, poller: STUB_ENTRY },
    });
    const role = new iam.Role(stack, 'AuditRole', { assumedBy: new iam.AccountRootPrincipal() });
    ingest.grantRead(role);
    const template = Template.fromJSON(app.synth().getStackByName('Consumer').template);
    const statements = statementsOfRole(template, 'AuditRole');
    const actions = statements.flatMap((s) => [s.Action].flat());
    assert.ok(actions.includes('s3:GetObject') && actions.includes('s3:ListBucket') && actions.includes('kms:Decrypt'), actions.join(', '));
    assert.ok(
      actions.every((a) => !/Put|Delete|\*/.test(a)),
      actions.join(', '),
    );
    const resources = JSON.stringify(statements.filter((s) => [s.Action].flat().includes('s3:GetObject')).map((s) => s.Resource));
    assert.match(resources, /raw\/\*/);
    assert.match(resources, /claims\/\*/);
  });
});
