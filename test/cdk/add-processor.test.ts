/**
 * `ingest.addProcessor(id, options)`: GIVEN a processor deployed from an entry and one wired to an existing
 * function, WHEN synthesized, THEN each has its queue, dead-letter queue, event source, grants and publish
 * target; and options that cannot work are refused with every problem named.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Processor } from '../../cdk/constructs/processor.ts';
import { MailIngest } from '../../cdk/mail-ingest.ts';
import { MailIngestValidationError } from '../../cdk/validation-error.ts';
import { flat, newStack, statementsOfRole, STUB_ENTRY, twoMailboxConfig } from './helpers.ts';
import { deployedConfig } from './deployed-config.ts';

const entries = { dispatcher: STUB_ENTRY, poller: STUB_ENTRY };
let template: Template;
let stack: Stack;
let assetDir: string;
let indexer: Processor;
let external: Processor;
let existingFn: lambda.Function;

before(() => {
  // GIVEN
  const made = newStack('Processors');
  stack = made.stack;
  const ingest = new MailIngest(stack, 'MailIngest', { config: twoMailboxConfig(), entries });
  existingFn = new lambda.Function(stack, 'Existing', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    timeout: Duration.seconds(30),
    code: lambda.Code.fromInline('export const handler = async () => ({ batchItemFailures: [] });'),
  });
  // WHEN
  indexer = ingest.addProcessor('indexer', {
    entry: STUB_ENTRY,
    batchSize: 50,
    maxConcurrency: 4,
    timeout: Duration.minutes(2),
    memorySize: 768,
    maxReceiveCount: 8,
    environment: { INDEX_FORMAT: 'jsonl' },
    filter: { to: ['@support.example.jp'], hasAttachments: true },
  });
  external = ingest.addProcessor('crm', { fn: existingFn, timeout: Duration.seconds(30), filter: { mailbox: ['sales'] } });
  const assembly = made.app.synth();
  template = Template.fromJSON(assembly.getStackByName('Processors').template);
  assetDir = assembly.directory;
});

const logicalId = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);

describe('addProcessor with an entry', () => {
  it('exposes its queue, dead-letter queue and function', () => {
    assert.ok(indexer.queue && indexer.deadLetterQueue && indexer.function);
    assert.equal(indexer.targetName, 'indexer');
    assert.equal(indexer.outputPrefix, 'indexer/');
  });

  it('deploys the function with the chosen memory, timeout and environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'mail-ingest processor indexer',
      MemorySize: 768,
      Timeout: 120,
      Runtime: 'nodejs24.x',
      Environment: {
        Variables: Match.objectLike({ INDEX_FORMAT: 'jsonl', OUTPUT_PREFIX: 'indexer/', POWERTOOLS_SERVICE_NAME: 'mail-ingest-indexer' }),
      },
    });
  });

  it('sizes the queue for the timeout and dead-letters after the chosen receive count', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 720,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(indexer.deadLetterQueue), 'Arn'] }, maxReceiveCount: 8 },
    });
  });

  it('reads batches of 50 with a batching window, at most 4 at once, reporting partial failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(indexer.queue), 'Arn'] },
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 4 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('addProcessor with an existing function', () => {
  it('subscribes that function to a new queue sized for the given timeout', () => {
    assert.equal(external.function, existingFn);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(external.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(existingFn) },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 180, RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }) });
  });

  it("grants the function's role read of the archive and write of its own output only", () => {
    const st = statementsOfRole(template, 'ExistingServiceRole');
    const puts = st.filter((s) => [s.Action].flat().includes('s3:PutObject')).flatMap((s) => [s.Resource].flat().map(flat));
    assert.deepEqual(puts, [`<${logicalId(indexer.node.scope!.node.findChild('Archive').node.findChild('Bucket') as never)}.Arn>/crm/*`]);
  });
});

describe('publish targets', () => {
  it('the poller may send to both queues, and the runtime config lists both with their filters', () => {
    const sends = statementsOfRole(template, 'PollerRole')
      .filter((s) => [s.Action].flat().includes('sqs:SendMessage'))
      .flatMap((s) => [s.Resource].flat().map(flat))
      .sort();
    assert.deepEqual(sends, [`<${logicalId(external.queue)}.Arn>`, `<${logicalId(indexer.queue)}.Arn>`].sort());
    assert.deepEqual(deployedConfig(template, assetDir).doc.publish.targets, [
      { name: 'indexer', queueUrl: `<${logicalId(indexer.queue)}>`, filter: { to: ['@support.example.jp'], hasAttachments: true } },
      { name: 'crm', queueUrl: `<${logicalId(external.queue)}>`, filter: { mailbox: ['sales'] } },
    ]);
  });
});

describe('addProcessor validation', () => {
  function refused(add: (ingest: MailIngest, fn: lambda.IFunction) => void): string {
    const { stack: s } = newStack('Refused');
    const ingest = new MailIngest(s, 'MailIngest', { config: twoMailboxConfig(), entries });
    const fn = lambda.Function.fromFunctionArn(s, 'Imported', 'arn:aws:lambda:eu-west-1:111122223333:function:crm');
    try {
      add(ingest, fn);
    } catch (err) {
      assert.ok(err instanceof MailIngestValidationError, String(err));
      return err.message;
    }
    assert.fail('addProcessor accepted invalid options');
  }

  it('needs exactly one of entry and fn', () => {
    assert.match(
      refused((i) => i.addProcessor('p', {})),
      /give either "entry" \(a handler to deploy\) or "fn"/,
    );
    assert.match(
      refused((i, fn) => i.addProcessor('p', { entry: STUB_ENTRY, fn, timeout: Duration.seconds(10) })),
      /give either "entry" or "fn", not both/,
    );
  });

  it('with fn, needs its timeout and refuses options that only apply to a deployed function', () => {
    const message = refused((i, fn) => i.addProcessor('p', { fn, memorySize: 512, environment: { A: 'b' } }));
    assert.match(message, /\(3 problems\)/);
    assert.match(message, /"timeout" is required with "fn"/);
    assert.match(message, /"memorySize" \(512\) applies only to a function deployed from "entry"/);
    assert.match(message, /"environment" applies only to a function deployed from "entry"/);
  });

  it('quotes out-of-range numbers and bad prefixes, all at once', () => {
    const message = refused((i) =>
      i.addProcessor('p', {
        entry: STUB_ENTRY,
        batchSize: 0,
        maxConcurrency: 1,
        maxReceiveCount: 2,
        memorySize: 64,
        timeout: Duration.minutes(20),
        outputPrefix: 'raw/',
        environment: { OUTPUT_PREFIX: 'x/' },
      }),
    );
    for (const expected of [
      /"batchSize" must be a whole number from 1 to 10000, got 0/,
      /"maxConcurrency" must be a whole number from 2 to 1000, got 1/,
      /"maxReceiveCount" must be a whole number of at least 5, got 2/,
      /"memorySize" must be 128-10240 MB, got 64/,
      /"timeout" must be from 1 second to 15 minutes, got 20 minutes/,
      /"outputPrefix" "raw\/" is inside the archive's own layout/,
      /"environment" must not set OUTPUT_PREFIX/,
    ])
      assert.match(message, expected);
  });

  it('refuses a duplicate id, an overlapping output prefix and an id that cannot be a target name', () => {
    assert.match(
      refused((i) => {
        i.addProcessor('p', { entry: STUB_ENTRY });
        i.addProcessor('p', { entry: STUB_ENTRY, outputPrefix: 'other/' });
      }),
      /id: a processor named "p" already exists/,
    );
    assert.match(
      refused((i) => {
        i.addProcessor('a', { entry: STUB_ENTRY, outputPrefix: 'out/' });
        i.addProcessor('b', { entry: STUB_ENTRY, outputPrefix: 'out/b/' });
      }),
      /outputPrefix: "out\/b\/" overlaps the output of processor "a" \("out\/"\)/,
    );
    assert.match(
      refused((i) => i.addProcessor('bad id!', { entry: STUB_ENTRY })),
      /id: "bad id!" must be 1-80 letters/,
    );
  });
});
