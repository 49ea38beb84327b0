import { RemovalPolicy, type Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundlingOptions } from '../bundling.ts';
import { PROJECT_ROOT } from '../paths.ts';

export interface IngestFunctionProps {
  /** Absolute path of the TypeScript handler (exporting `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: string;
  /** Powertools service name: the `service` field of every log line and metric. */
  readonly serviceName: string;
}

/** The Powertools namespace every function's EMF metrics go to. */
export const METRICS_NAMESPACE = 'MailIngest';

/**
 * A handler as the pipeline deploys it: bundled by local esbuild (ESM, minified, source maps), Node.js 24 on
 * arm64, X-Ray tracing, its own log group with retention, and a role that starts with no permissions at all
 * (no AWS managed policy); each caller grants exactly what the handler needs.
 */
export class IngestFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: IngestFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (mail-ingest)`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}/package-lock.json`,
      bundling: bundlingOptions,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        LOG_LEVEL: props.logLevel,
        // Stack traces point into the TypeScript sources, not the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    });
  }
}
