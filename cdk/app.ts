/**
 * `cdk synth` / `cdk deploy` entry. The deployment config comes from MAIL_INGEST_CONFIG or the cdk.json context
 * `mail-ingest:config`. The stack is environment-agnostic, so synth needs no AWS credentials and no network.
 */
import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import nag from 'cdk-nag';
import { loadAppConfig } from './app-config.ts';
import { MailIngestStack } from './mail-ingest-stack.ts';
import { PROJECT_ROOT } from './paths.ts';

const app = new App();
const configPath = process.env['MAIL_INGEST_CONFIG'] ?? app.node.tryGetContext('mail-ingest:config') ?? 'cdk/example-config.json';
const { config, deployment } = loadAppConfig(resolve(PROJECT_ROOT, String(configPath)));
new MailIngestStack(app, String(app.node.tryGetContext('mail-ingest:stack-name') ?? 'MailIngest'), { config, deployment });
// Any unacknowledged AwsSolutions finding, error or warning, fails the synth.
Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app, { verbose: true }));
app.synth();
