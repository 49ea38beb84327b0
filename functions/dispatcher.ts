import type { Context, ScheduledEvent } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { s3Client, sqsClient } from './commons/aws-clients.ts';
import { deploymentConfig } from './commons/deployment-config.ts';
import { dispatchPollJobs, scheduledAtOf, type DispatchResult } from './commons/dispatch.ts';
import { requiredEnv } from './commons/env.ts';
import { createLogger, createMetrics, errorFields } from './commons/powertools.ts';

const CONFIG_BUCKET = requiredEnv('CONFIG_BUCKET');
const CONFIG_KEY = requiredEnv('CONFIG_KEY');
const POLL_QUEUE_URL = requiredEnv('POLL_QUEUE_URL');

const logger = createLogger();
const metrics = createMetrics();
const config = deploymentConfig(s3Client(), CONFIG_BUCKET, CONFIG_KEY);

/**
 * EventBridge schedule → one poll job per enabled mailbox on the FIFO poll queue. A failure throws, so the
 * asynchronous invocation is retried; jobs already sent collapse by their deduplication id.
 */
export async function handler(event: ScheduledEvent, context: Context): Promise<DispatchResult> {
  logger.addContext(context);
  const scheduledAt = scheduledAtOf(event, new Date());
  try {
    const cfg = await config.get();
    const result = await dispatchPollJobs(sqsClient(), POLL_QUEUE_URL, cfg.mailboxes, scheduledAt);
    metrics.addMetric('PollJobsSent', MetricUnit.Count, result.sent);
    logger.info('poll jobs sent', { ...result });
    return result;
  } catch (err) {
    metrics.addMetric('DispatchFailures', MetricUnit.Count, 1);
    logger.error('dispatch failed', { scheduledAt, ...errorFields(err) });
    throw err;
  } finally {
    metrics.publishStoredMetrics();
  }
}
