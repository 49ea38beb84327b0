/**
 * GIVEN the deployed stack, WHEN the poller takes, renews and releases a mailbox's lease (lib/store/s3-lease.ts),
 * THEN its role may read and write the lease key and may not delete it (leases are released by writing them
 * expired).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import { MailIngest } from '../../cdk/mail-ingest.ts';
import { LEASES_PREFIX } from '../../lib/store/layout.ts';
import { actionsOf, flat, newStack, statementsOfRole, STUB_ENTRY, twoMailboxConfig, type StatementJson } from './helpers.ts';

let statements: StatementJson[];
let bucketArn: string;

before(() => {
  const { app, stack } = newStack('Leases');
  const ingest = new MailIngest(stack, 'MailIngest', {
    config: twoMailboxConfig(),
    entries: { dispatcher: STUB_ENTRY, poller: STUB_ENTRY },
  });
  const template = Template.fromJSON(app.synth().getStackByName('Leases').template);
  statements = statementsOfRole(template, 'PollerRole');
  bucketArn = `<${stack.getLogicalId(ingest.archiveBucket.node.defaultChild as never)}.Arn>`;
});

/** IAM's wildcard match of a resource pattern against an ARN. */
const matches = (pattern: string, arn: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(arn);
const allows = (action: string, arn: string) =>
  statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      [s.Action].flat().includes(action) &&
      [s.Resource]
        .flat()
        .map(flat)
        .some((r) => matches(r, arn)),
  );

describe('the poller and the mailbox leases', () => {
  for (const mailbox of ['support', 'sales']) {
    it(`may get and put the lease of ${mailbox}, and never delete it`, () => {
      const arn = `${bucketArn}/${LEASES_PREFIX}${mailbox}.json`;
      assert.ok(allows('s3:GetObject', arn), `GetObject on ${arn}`);
      assert.ok(allows('s3:PutObject', arn), `PutObject on ${arn}`);
      assert.ok(!actionsOf(statements).some((a) => /^s3:Delete/.test(a)), 'no s3:Delete* at all');
    });
  }
});
