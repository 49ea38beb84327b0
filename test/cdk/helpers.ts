/**
 * Shared set-up for the CDK tests: stub handler entries (bundle in milliseconds), configs, and small readers
 * over a synthesized template. Each test file synthesizes its stack once and asserts on it many times.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { MailIngestConfig } from '../../cdk/deployment-config.ts';
import { HANDLER_ENTRIES } from '../../cdk/paths.ts';

export const STUB_ENTRY = resolve(import.meta.dirname, 'fixtures/stub-handler.ts');

export const STUB_ENTRIES = {
  dispatcher: STUB_ENTRY,
  poller: STUB_ENTRY,
  'ticket-intake': STUB_ENTRY,
  'attachment-extraction': STUB_ENTRY,
  'archive-index': STUB_ENTRY,
} as const;

/** The shipped handlers that are not written yet (their tests then use stubs). */
export function missingHandlers(): string[] {
  return Object.values(HANDLER_ENTRIES).filter((p) => !existsSync(p));
}

export function twoMailboxConfig(): MailIngestConfig {
  return {
    mailboxes: [
      { id: 'support', host: 'pop.example.jp', user: 'support@example.jp', password: { secretId: 'mail-ingest/support' } },
      {
        id: 'sales',
        host: 'pop3.example.com',
        port: 110,
        tls: 'starttls',
        user: 'sales@example.com',
        password: { secretId: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mail-ingest/sales-AbCdEf' },
      },
    ],
    defaults: { retention: { deleteAfterDays: 30 } },
  };
}

export function newStack(id = 'Test'): { app: App; stack: Stack } {
  const app = new App();
  return { app, stack: new Stack(app, id) };
}

/** Resources of `type` whose logical id contains `fragment`, as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string): Array<[string, { Properties: Record<string, any> }]> {
  return Object.entries(template.findResources(type)) as Array<[string, { Properties: Record<string, any> }]>;
}

export function onlyResource(template: Template, type: string, logicalIdPart: string): [string, { Properties: Record<string, any> }] {
  const found = resourcesOf(template, type).filter(([id]) => id.includes(logicalIdPart));
  if (found.length !== 1)
    throw new Error(`expected one ${type} with "${logicalIdPart}" in its id, found ${found.map(([id]) => id).join(', ') || 'none'}`);
  return found[0]!;
}

export interface StatementJson {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

/** Every statement of the IAM policies attached to the role whose logical id contains `rolePart`. */
export function statementsOfRole(template: Template, rolePart: string): StatementJson[] {
  const [roleId] = onlyResource(template, 'AWS::IAM::Role', rolePart);
  return resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties['Roles'] as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties['PolicyDocument'].Statement as StatementJson[]);
}

export function actionsOf(statements: readonly StatementJson[]): string[] {
  return statements.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat());
}

/** `{ "Fn::Join": ["", [...]] }` and plain strings as text, with `{ Ref: X }` / GetAtt written `<X>` / `<X.Attr>`. */
export function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(flat).join(v['Fn::Join'][0]);
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'][0]}.${v['Fn::GetAtt'][1]}>`;
  if (v['Ref']) return `<${v['Ref']}>`;
  return JSON.stringify(v);
}
