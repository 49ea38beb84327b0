/**
 * cdk-nag's AwsSolutions-IAM5 flags every `*` in an IAM resource. Some are the least privilege there is: object
 * keys under a prefix are content-addressed and unknown in advance, and X-Ray has no resource-level
 * permissions. This aspect acknowledges exactly those findings, each on the one policy that carries it, with its
 * reason; any other wildcard is left for cdk-nag to report.
 */
import { Stack, Validations, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

interface PolicyStatementJson {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
}

const XRAY_ACTIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

/** cdk-nag's notation for a CloudFormation value: `<Logical.Attr>` for GetAtt, `<Logical>` for Ref, joined. */
export function flattenReference(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value !== null && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [delimiter, items] = v['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (Array.isArray(v['Fn::GetAtt'])) {
      const [resource, attribute] = v['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if (v['Fn::Sub'] !== undefined) return flattenReference(v['Fn::Sub']);
    if (v['Ref'] !== undefined) return `<${flattenReference(v['Ref'])}>`;
  }
  return JSON.stringify(value);
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export class PrefixWildcardAcknowledgements implements IAspect {
  readonly #bucket: s3.IBucket;
  readonly #prefixes: () => readonly string[];

  /** `prefixes`: read when the aspect runs, so processors added later are included. */
  constructor(bucket: s3.IBucket, prefixes: () => readonly string[]) {
    this.#bucket = bucket;
    this.#prefixes = prefixes;
  }

  visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) return;
    const stack = Stack.of(node);
    const doc = stack.resolve(node.policyDocument) as { Statement?: PolicyStatementJson[] };
    const bucketArn = flattenReference(stack.resolve(this.#bucket.bucketArn));
    const allowed = new Map(this.#prefixes().map((p) => [`${bucketArn}/${p}*`, p]));
    // A finding is per policy, not per statement: acknowledge it only when every statement behind it is expected.
    const verdicts = new Map<string, string | null>();
    for (const statement of doc.Statement ?? []) {
      if (statement.Effect !== 'Allow') continue;
      const actions = asArray(statement.Action);
      for (const resource of asArray(statement.Resource as unknown)) {
        const flat = flattenReference(resource);
        if (!flat.includes('*')) continue;
        let reason: string | null = null;
        if (flat === '*' && actions.length > 0 && actions.every((a) => XRAY_ACTIONS.has(a))) {
          reason = 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (Lambda active tracing).';
        } else if (allowed.has(flat) && actions.every((a) => a.startsWith('s3:') && !a.includes('*') && !a.startsWith('s3:Delete'))) {
          reason = `Object actions limited to the "${allowed.get(flat)}" prefix of the archive; keys below it are content-addressed, so they cannot be listed in advance.`;
        }
        const finding = `AwsSolutions-IAM5[Resource::${flat}]`;
        verdicts.set(finding, verdicts.has(finding) && verdicts.get(finding) === null ? null : reason);
      }
    }
    for (const [id, reason] of verdicts) {
      if (reason !== null) Validations.of(node).acknowledge({ id, reason });
    }
  }
}
