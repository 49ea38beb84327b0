import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { MetadataDocument } from '../../lib/document/metadata-schema.ts';
import { resolveDocument } from '../../lib/publish/resolve-document.ts';
import { prefixedStore, type ObjectStore } from '../../lib/processors/object-store.ts';
import { S3ObjectStore } from '../../lib/processors/s3-object-store.ts';
import { s3Client } from './aws-clients.ts';
import { outputPrefixEnv, requiredEnv } from './env.ts';
import { createLogger, createMetrics, errorFields } from './powertools.ts';

export interface ProcessorEnv {
  readonly s3: S3Client;
  readonly archiveBucket: string;
  /** The archive bucket under OUTPUT_PREFIX: where this processor writes. */
  readonly output: ObjectStore;
}

export interface ProcessorDefinition<R extends { readonly action: string }> {
  /** Builds the processor's own dependencies once per container. */
  readonly setup?: (env: ProcessorEnv) => void;
  readonly process: (doc: MetadataDocument, env: ProcessorEnv) => Promise<R>;
  /** Records processed one after another (for processors whose records contend for the same objects). @default false */
  readonly sequential?: boolean;
}

async function getClaimed(s3: S3Client, bucket: string, key: string): Promise<Buffer | null> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return null;
    throw err;
  }
}

/**
 * The Lambda around a downstream processor: an SQS batch in, each record resolved to its metadata document
 * (inline or claim check), processed, and the failures reported as batch item failures so only they are
 * retried (and, past maxReceiveCount, moved to the DLQ). Env: ARCHIVE_BUCKET, OUTPUT_PREFIX.
 */
export function createProcessorHandler<R extends { readonly action: string }>(definition: ProcessorDefinition<R>) {
  const archiveBucket = requiredEnv('ARCHIVE_BUCKET');
  const outputPrefix = outputPrefixEnv('OUTPUT_PREFIX');
  const s3 = s3Client();
  const env: ProcessorEnv = {
    s3,
    archiveBucket,
    output: prefixedStore(new S3ObjectStore({ client: s3, bucket: archiveBucket }), outputPrefix),
  };
  definition.setup?.(env);
  const logger = createLogger();
  const metrics = createMetrics();
  const processor = new BatchProcessor(EventType.SQS);

  const recordHandler = async (record: SQSRecord): Promise<R> => {
    let doc: MetadataDocument | null = null;
    try {
      doc = await resolveDocument(record.body, { getObject: (key, bucket) => getClaimed(s3, bucket ?? archiveBucket, key) });
      const outcome = await definition.process(doc, env);
      logger.info('record processed', { messageId: record.messageId, docId: doc.id, mailbox: doc.mailbox, ...outcome });
      return outcome;
    } catch (err) {
      logger.error('record failed', {
        messageId: record.messageId,
        receiveCount: Number(record.attributes.ApproximateReceiveCount),
        ...(doc === null ? {} : { docId: doc.id, mailbox: doc.mailbox }),
        ...errorFields(err),
      });
      throw err;
    }
  };

  return async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    logger.addContext(context);
    try {
      const response = await processPartialResponse(event, recordHandler, processor, {
        context,
        throwOnFullBatchFailure: false,
        processInParallel: definition.sequential !== true,
      });
      metrics.addMetric('RecordsProcessed', MetricUnit.Count, event.Records.length - response.batchItemFailures.length);
      metrics.addMetric('RecordsFailed', MetricUnit.Count, response.batchItemFailures.length);
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
