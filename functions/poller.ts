import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { runMailbox } from '../lib/ingest/pipeline.ts';
import { createAdapters, type Adapters } from '../lib/app/adapters.ts';
import { CodedError } from '../lib/coded-error.ts';
import type { Config } from '../lib/config/types.ts';
import { s3Client, secretsManager, sqsClient } from './commons/aws-clients.ts';
import { deploymentConfig } from './commons/deployment-config.ts';
import { integerEnv, requiredEnv } from './commons/env.ts';
import { parsePollJob } from './commons/poll-job.ts';
import { pollMailbox } from './commons/poll-mailbox.ts';
import { createLogger, createMetrics, errorFields } from './commons/powertools.ts';

const CONFIG_BUCKET = requiredEnv('CONFIG_BUCKET');
const CONFIG_KEY = requiredEnv('CONFIG_KEY');
/** Kept back from the function's deadline to commit state and QUIT. @default 30000 */
const SAFETY_MARGIN_MS = integerEnv('POLL_SAFETY_MARGIN_MS', 30_000);

const logger = createLogger();
const metrics = createMetrics();
const config = deploymentConfig(s3Client(), CONFIG_BUCKET, CONFIG_KEY);
const processor = new SqsFifoPartialProcessorAsync();

class DeploymentConfigError extends CodedError<'ECONFIG'> {
  constructor(message: string) {
    super('DeploymentConfigError', 'ECONFIG', message, { failureClass: 'config' });
  }
}

/** The S3 store and state and the SQS publisher the deployment config names. */
function adapters(cfg: Config): Promise<Adapters> {
  const s = cfg.store;
  if (s.type !== 's3') throw new DeploymentConfigError('the deployed config must use "store": { "type": "s3", ... }');
  const p = cfg.publish;
  if (p.type !== 'sqs') throw new DeploymentConfigError('the deployed config must use "publish": { "type": "sqs", ... }');
  // The container's cached clients: connection reuse is most of a warm invocation's speed-up.
  return createAdapters(cfg, {
    s3: s3Client({ region: s.region, endpoint: s.endpoint, forcePathStyle: s.forcePathStyle }),
    sqs: sqsClient({ region: p.region, endpoint: p.endpoint }),
  });
}

async function recordHandler(record: SQSRecord, context: Context): Promise<void> {
  let job;
  try {
    job = parsePollJob(record.body);
  } catch (err) {
    logger.error('unreadable poll job', { messageId: record.messageId, ...errorFields(err) });
    throw err;
  }
  await pollMailbox(job, context.getRemainingTimeInMillis(), {
    config: () => config.get(),
    secretsManager: secretsManager(),
    adapters,
    runMailbox,
    logger,
    metrics,
    safetyMarginMs: SAFETY_MARGIN_MS,
  });
}

/**
 * FIFO poll queue (batch size 1) → one mailbox run per record. A failed run is reported as a batch item failure;
 * with the FIFO processor, records after it in the batch are reported too, so a group never runs out of order.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  return processPartialResponse(event, (record: SQSRecord) => recordHandler(record, context), processor, {
    context,
    throwOnFullBatchFailure: false,
  });
}
