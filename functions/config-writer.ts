import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { assembleDeployedConfig, MAX_STATIC_PART_BYTES } from '../lib/config/deployed-config.ts';
import { toStoreError } from '../lib/store/s3-client.ts';
import { s3Client } from './commons/aws-clients.ts';
import {
  answerCustomResource,
  CustomResourceError,
  type CustomResourceOutcome,
  type CustomResourceResponse,
} from './commons/custom-resource.ts';
import { createLogger } from './commons/powertools.ts';

const logger = createLogger();

const PROPERTY_NAMES = ['Bucket', 'Key', 'KmsKeyId', 'Store', 'Publish', 'StaticBucket', 'StaticKey'] as const;
type WriterProperties = Record<(typeof PROPERTY_NAMES)[number], string>;

function writerProperties(props: Record<string, unknown>): WriterProperties {
  const missing = PROPERTY_NAMES.filter((name) => typeof props[name] !== 'string' || props[name] === '');
  if (missing.length > 0) {
    throw new CustomResourceError(
      'ECFNPROPS',
      `resource properties ${missing.join(', ')} are required (the template was not made by this version of mail-ingest's ConfigDeployment)`,
    );
  }
  return Object.fromEntries(PROPERTY_NAMES.map((name) => [name, props[name] as string])) as WriterProperties;
}

/** The static part, read whole but never more than the bound: the asset is ours, its size is not trusted. */
async function readStaticPart(s3: S3Client, p: WriterProperties, signal: AbortSignal): Promise<string> {
  const where = `s3://${p.StaticBucket}/${p.StaticKey}`;
  const tooLarge = () =>
    new CustomResourceError('ECFNPROPS', `the static part of the config at ${where} is over ${MAX_STATIC_PART_BYTES} bytes`);
  const chunks: Buffer[] = [];
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: p.StaticBucket, Key: p.StaticKey }), { abortSignal: signal });
    if ((out.ContentLength ?? 0) > MAX_STATIC_PART_BYTES) throw tooLarge();
    let bytes = 0;
    for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      if (bytes > MAX_STATIC_PART_BYTES) throw tooLarge();
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    if (err instanceof CustomResourceError || signal.aborted) throw err;
    throw toStoreError(err, 'GetObject', where);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (err) {
    throw new CustomResourceError('ECFNPROPS', `the static part of the config at ${where} is not UTF-8`, { cause: err });
  }
}

async function writeConfig(event: CloudFormationCustomResourceEvent, signal: AbortSignal): Promise<CustomResourceOutcome> {
  if (event.RequestType === 'Delete') {
    // The config outlives the stack, like the archive it describes; this function may not delete anything anyway.
    logger.info('delete requested: the config object is kept', { physicalResourceId: event.PhysicalResourceId });
    return { physicalResourceId: event.PhysicalResourceId };
  }
  const p = writerProperties(event.ResourceProperties);
  const s3 = s3Client();
  const source = `s3://${p.Bucket}/${p.Key}`;
  const text = assembleDeployedConfig({ staticText: await readStaticPart(s3, p, signal), store: p.Store, publish: p.Publish, source });
  let versionId: string | undefined;
  try {
    const out = await s3.send(
      new PutObjectCommand({
        Bucket: p.Bucket,
        Key: p.Key,
        Body: text,
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: p.KmsKeyId,
        BucketKeyEnabled: true,
      }),
      { abortSignal: signal },
    );
    versionId = out.VersionId;
  } catch (err) {
    if (signal.aborted) throw err;
    throw toStoreError(err, 'PutObject', source);
  }
  logger.info('runtime config written', { key: source, bytes: Buffer.byteLength(text), versionId });
  return { physicalResourceId: p.Key, ...(versionId === undefined ? {} : { data: { VersionId: versionId } }) };
}

/**
 * CloudFormation custom resource `Custom::MailIngestConfig`: Create and Update write the runtime config (static
 * part merged with the deploy-time parts, validated, SSE-KMS); Delete keeps it. Always answers CloudFormation.
 */
export async function handler(event: CloudFormationCustomResourceEvent, context: Context): Promise<CustomResourceResponse> {
  logger.addContext(context);
  const key = event.ResourceProperties?.['Key'];
  return answerCustomResource(event, context, {
    logger,
    failedCreateId: typeof key === 'string' && key !== '' ? key : event.LogicalResourceId,
    work: (signal) => writeConfig(event, signal),
  });
}
