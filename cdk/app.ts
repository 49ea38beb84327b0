/**
 * `cdk synth` / `cdk deploy` entry. The deployment config is named by MAIL_INGEST_CONFIG or the context
 * `mail-ingest:config` (`-c mail-ingest:config=FILE`); nothing is deployed without one, not even the example. The
 * stack is environment-agnostic, so synth needs no AWS credentials and no network.
 */
import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import nag from 'cdk-nag';
import { appConfigProblems, loadAppConfig } from './app-config.ts';
import { MailIngestStack } from './mail-ingest-stack.ts';
import { PROJECT_ROOT } from './paths.ts';
import { MailIngestValidationError } from './validation-error.ts';

const NO_CONFIG = `mail-ingest: no deployment config was named, so nothing is synthesized or deployed.
Name yours (copy cdk/example-config.json and fill in your mailboxes):
  npx cdk deploy -c mail-ingest:config=my-mail-ingest.json
  MAIL_INGEST_CONFIG=my-mail-ingest.json npx cdk deploy
To synthesize the example as it is: npx cdk synth -c mail-ingest:config=cdk/example-config.json
`;

/** A config problem is the user's to fix: say it once, every problem at once, and no stack trace. */
function fail(message: string): never {
  process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
  process.exit(1);
}

const app = new App();
const named = process.env['MAIL_INGEST_CONFIG'] ?? app.node.tryGetContext('mail-ingest:config');
if (named === undefined || String(named).trim() === '') fail(NO_CONFIG);
const path = resolve(PROJECT_ROOT, String(named));
try {
  const loaded = loadAppConfig(path);
  const problems = appConfigProblems(loaded);
  if (problems.length > 0) {
    fail(
      `mail-ingest: ${path} cannot be deployed (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  new MailIngestStack(app, String(app.node.tryGetContext('mail-ingest:stack-name') ?? 'MailIngest'), loaded);
} catch (err) {
  if (err instanceof MailIngestValidationError) fail(`mail-ingest: ${path}: ${err.message}`);
  throw err;
}
// Any unacknowledged AwsSolutions finding, error or warning, fails the synth.
Validations.of(app).addPlugins(new nag.AwsSolutionsChecks(app, { verbose: true }));
app.synth();
