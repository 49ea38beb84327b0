import { Aspects, Lazy, RemovalPolicy, Stack, Validations, type IAspect } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { flattenReference } from '../nag-acknowledgements.ts';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { MailIngestConfig } from '../deployment-config.ts';
import { ARCHIVE_PREFIXES } from './archive-bucket.ts';
import type { TargetFilter } from './processor.ts';

/** Where the functions read the runtime configuration. */
export const CONFIG_KEY = `${ARCHIVE_PREFIXES.config}mail-ingest.json`;
const CONFIG_FILE = CONFIG_KEY.slice(ARCHIVE_PREFIXES.config.length);

/** A publish target as the runtime config lists it. */
export interface ConfigTarget {
  readonly targetName: string;
  readonly filter?: TargetFilter;
  readonly queue: { readonly queueUrl: string };
}

export interface ConfigDeploymentProps {
  readonly bucket: s3.IBucket;
  readonly encryptionKey: kms.IKey;
  readonly config: MailIngestConfig;
  /** Read at synthesis, so processors added after this construct are included. */
  readonly targets: () => readonly ConfigTarget[];
  readonly logRetention: logs.RetentionDays;
}

/**
 * Writes the runtime configuration (the CLI's schema: store, publish, mailboxes, defaults) to
 * `config/mail-ingest.json` in the archive bucket. The mailboxes travel as an asset, so thousands fit; only the
 * store and the publish targets, which hold deploy-time values (bucket name, key ARN, queue URLs), are filled
 * in at deploy time. It contains no secret: passwords are Secrets Manager ids.
 */
export class ConfigDeployment extends Construct {
  readonly deployment: s3deploy.BucketDeployment;

  constructor(scope: Construct, id: string, props: ConfigDeploymentProps) {
    super(scope, id);
    const store = JSON.stringify({ type: 's3', bucket: props.bucket.bucketName, prefix: '', kmsKeyId: props.encryptionKey.keyArn });
    // Rendered when the template is, after every addProcessor; JSON text, so booleans in filters stay booleans.
    const publish = Lazy.string({
      produce: () => Stack.of(this).toJsonString({
        type: 'sqs',
        targets: props.targets().map((t) => ({
          name: t.targetName,
          queueUrl: t.queue.queueUrl,
          ...(t.filter === undefined ? {} : { filter: t.filter }),
        })),
      }),
    });
    const { $schema: _schema, ...rest } = props.config as MailIngestConfig & { $schema?: string };
    const staticPart = JSON.stringify(rest).slice(1, -1);
    const text = `{"store":${store},"publish":${publish}${staticPart === '' ? '' : `,${staticPart}`}}`;

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'mail-ingest: writes config/mail-ingest.json at deploy time',
    });
    // BucketDeployment grants itself read-write on the whole bucket; the archive must never lose an object,
    // so everything outside config/ is denied outright.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'OnlyConfigPrefix',
      effect: iam.Effect.DENY,
      actions: ['s3:DeleteObject*', 's3:PutObject*', 's3:AbortMultipartUpload', 's3:RestoreObject', 's3:PutLifecycleConfiguration', 's3:PutBucket*'],
      notResources: [props.bucket.arnForObjects(`${ARCHIVE_PREFIXES.config}*`)],
    }));
    const logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn],
    }));

    this.deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      sources: [s3deploy.Source.data(CONFIG_FILE, text, { jsonEscape: false })],
      destinationBucket: props.bucket,
      destinationKeyPrefix: ARCHIVE_PREFIXES.config,
      // Never delete anything else under config/ (an operator may keep notes or older configs there).
      prune: false,
      retainOnDelete: true,
      contentType: 'application/json',
      role,
      logGroup,
      // A memory size of its own gives this deployment its own singleton handler, so the role above is not
      // shared with unrelated BucketDeployments in the same stack.
      memoryLimit: 256,
    });

    // The provider function is a stack-level singleton: find it by the role it was given.
    const handler = Stack.of(this).node.children.find((c) => c instanceof lambda.Function && c.role === role);
    if (handler !== undefined) {
      Validations.of(handler.node.defaultChild!).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'The BucketDeployment provider runtime (Python, with the AWS CLI layer) is chosen by aws-cdk-lib; it runs only during deployments.',
      });
    }
    Aspects.of(role).add(new DeploymentRoleAcknowledgements(props.bucket));
  }
}

/** The wildcards BucketDeployment grants itself; the explicit Deny above limits its writes to config/. */
const EXPECTED_ACTIONS = new Set(['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*']);

class DeploymentRoleAcknowledgements implements IAspect {
  readonly #bucket: s3.IBucket;
  constructor(bucket: s3.IBucket) {
    this.#bucket = bucket;
  }

  visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) return;
    const stack = Stack.of(node);
    const doc = stack.resolve(node.policyDocument) as { Statement?: Array<{ Effect?: string; Action?: string | string[]; Resource?: unknown }> };
    const archiveObjects = flattenReference(stack.resolve(this.#bucket.arnForObjects('*')));
    const reason = 'Grants aws-cdk-lib\'s BucketDeployment gives itself (read the staged asset, sync into the bucket); an explicit Deny on this role limits every write and delete to config/.';
    for (const statement of doc.Statement ?? []) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action ?? []].flat()) {
        if (action.includes('*') && EXPECTED_ACTIONS.has(action)) Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason });
      }
      for (const resource of [statement.Resource ?? []].flat() as unknown[]) {
        const flat = flattenReference(resource);
        if (flat === archiveObjects || /^arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-<AWS::AccountId>-<AWS::Region>\/\*$/.test(flat)) {
          Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
        }
      }
    }
  }
}
