import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CustomResource, Duration, FileSystem, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { MAX_STATIC_PART_BYTES } from '../../lib/config/deployed-config.ts';
import type { MailIngestConfig } from '../deployment-config.ts';
import { useKey } from '../grants.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { throwIfProblems } from '../validation-error.ts';
import { ARCHIVE_PREFIXES } from './archive-bucket.ts';
import { IngestFunction } from './ingest-function.ts';
import type { TargetFilter } from './processor.ts';

/** Where the functions read the runtime configuration. */
export const CONFIG_KEY = `${ARCHIVE_PREFIXES.config}mail-ingest.json`;

/** The custom resource's type, as CloudFormation and the console show it. */
export const CONFIG_RESOURCE_TYPE = 'Custom::MailIngestConfig';

/** The handler CloudFormation invokes: functions/config-writer.ts. */
export const CONFIG_WRITER_ENTRY = resolve(PROJECT_ROOT, 'functions/config-writer.ts');

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
  /**
   * LOG_LEVEL of the writer function.
   * @default 'INFO'
   */
  readonly logLevel?: string;
}

/**
 * Writes the runtime configuration (the CLI's schema: store, publish, mailboxes, defaults) to
 * `config/mail-ingest.json` in the archive bucket, at deploy time, through a custom resource served by our own
 * Node function (functions/config-writer.ts). The mailboxes and defaults travel as an S3 asset, so thousands
 * fit; the store and the publish targets, which hold deploy-time values (bucket name, key ARN, queue URLs), are
 * resource properties. The writer may put that one key and nothing else, and delete nothing: a deployment can
 * never remove archived mail. On stack deletion the config stays, like the bucket. It contains no secret:
 * passwords are Secrets Manager ids.
 */
export class ConfigDeployment extends Construct {
  readonly writer: IngestFunction;
  /** The static part (mailboxes and defaults) as the writer reads it. */
  readonly staticPart: s3assets.Asset;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ConfigDeploymentProps) {
    super(scope, id);
    const { $schema: _schema, ...rest } = props.config as MailIngestConfig & { $schema?: string };
    const staticText = JSON.stringify(rest);
    const bytes = Buffer.byteLength(staticText);
    throwIfProblems(
      'ConfigDeployment',
      bytes <= MAX_STATIC_PART_BYTES
        ? []
        : [
            `config: the mailboxes and defaults take ${bytes} bytes as JSON, over the ${MAX_STATIC_PART_BYTES} the config writer reads; split them over several stacks`,
          ],
    );
    const dir = FileSystem.mkdtemp('mail-ingest-config-');
    const file = join(dir, 'mail-ingest-static.json');
    writeFileSync(file, staticText);
    // Not `deployTime`: a rollback re-runs the previous Update, which reads the previous asset again.
    this.staticPart = new s3assets.Asset(this, 'StaticPart', { path: file });

    this.writer = new IngestFunction(this, 'Writer', {
      entry: CONFIG_WRITER_ENTRY,
      description: 'mail-ingest config writer: writes config/mail-ingest.json at deploy time',
      timeout: Duration.minutes(1),
      memorySize: 512,
      logRetention: props.logRetention,
      logLevel: props.logLevel ?? 'INFO',
      serviceName: 'mail-ingest-config-writer',
      environment: {},
    });
    for (const statement of [
      // The one key, no wildcard: the writer can replace the config and touch nothing else in the archive.
      new iam.PolicyStatement({ sid: 'WriteConfig', actions: ['s3:PutObject'], resources: [props.bucket.arnForObjects(CONFIG_KEY)] }),
      new iam.PolicyStatement({
        sid: 'ReadStaticPart',
        actions: ['s3:GetObject'],
        resources: [this.staticPart.bucket.arnForObjects(this.staticPart.s3ObjectKey)],
      }),
      useKey(props.encryptionKey, 'UseKey'),
    ])
      this.writer.role.addToPrincipalPolicy(statement);

    const store = JSON.stringify({ type: 's3', bucket: props.bucket.bucketName, prefix: '', kmsKeyId: props.encryptionKey.keyArn });
    // Rendered when the template is, after every addProcessor. JSON text, because CloudFormation hands a custom
    // resource every scalar as a string: a filter's `false` would arrive as "false".
    const publish = Lazy.string({
      produce: () =>
        Stack.of(this).toJsonString({
          type: 'sqs',
          targets: props.targets().map((t) => ({
            name: t.targetName,
            queueUrl: t.queue.queueUrl,
            ...(t.filter === undefined ? {} : { filter: t.filter }),
          })),
        }),
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.writer.function.functionArn,
      resourceType: CONFIG_RESOURCE_TYPE,
      // The writer answers within its 1-minute timeout; this bounds the wait if it could not start at all.
      serviceTimeout: Duration.minutes(5),
      properties: {
        Bucket: props.bucket.bucketName,
        Key: CONFIG_KEY,
        KmsKeyId: props.encryptionKey.keyArn,
        Store: store,
        Publish: publish,
        StaticBucket: this.staticPart.s3BucketName,
        StaticKey: this.staticPart.s3ObjectKey,
      },
    });
    // The grants must be in place before CloudFormation invokes the writer.
    this.resource.node.addDependency(this.writer);
  }
}
