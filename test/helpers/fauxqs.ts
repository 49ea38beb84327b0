/**
 * A local S3 + SQS server (fauxqs) for adapter tests, bound to 127.0.0.1 on a free port. fauxqs speaks the real
 * wire protocols (aws-chunked uploads with trailing checksums, multipart, JSON SQS), but does NOT enforce
 * If-None-Match / If-Match, does not reject a body whose checksum differs (BadDigest), and keeps the source's
 * checksum on CopyObject instead of computing a new one: tests of those paths use client middleware instead.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import type { FauxqsServer } from 'fauxqs';

export interface LocalAws {
  readonly server: FauxqsServer;
  readonly endpoint: string;
  readonly region: string;
  /** A bucket created for this server. */
  readonly bucket: string;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** New S3/SQS clients on this endpoint (e.g. to add middleware without touching the shared ones). */
  newS3Client(options?: { maxAttempts?: number }): S3Client;
  newSqsClient(): SQSClient;
  createBucket(name?: string): Promise<string>;
  /** A queue with a unique name (`.fifo` appended when `fifo`), returning its URL. */
  createQueue(options?: { name?: string; fifo?: boolean; attributes?: Record<string, string> }): Promise<string>;
  /** Receives (and deletes) every message currently in the queue. */
  drainQueue(queueUrl: string): Promise<Message[]>;
  stop(): Promise<void>;
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export async function startLocalAws(): Promise<LocalAws> {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const region = 'us-east-1';
  const newS3Client = (options: { maxAttempts?: number } = {}) =>
    new S3Client({ endpoint, region, credentials, forcePathStyle: true, ...options });
  const newSqsClient = () => new SQSClient({ endpoint, region, credentials });
  const s3 = newS3Client();
  const sqs = newSqsClient();
  const createBucket = async (name = `bucket-${randomUUID().slice(0, 8)}`) => {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    return name;
  };
  const bucket = await createBucket();
  return {
    server,
    endpoint,
    region,
    bucket,
    s3,
    sqs,
    newS3Client,
    newSqsClient,
    createBucket,
    async createQueue(options = {}) {
      const base = options.name ?? `q-${randomUUID().slice(0, 8)}`;
      const attributes: Record<string, string> = { ...options.attributes };
      if (options.fifo === true) attributes.FifoQueue = 'true';
      const res = await sqs.send(
        new CreateQueueCommand({ QueueName: options.fifo === true ? `${base}.fifo` : base, Attributes: attributes }),
      );
      return res.QueueUrl!;
    },
    async drainQueue(queueUrl) {
      const out: Message[] = [];
      for (;;) {
        const res = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        const msgs = res.Messages ?? [];
        if (msgs.length === 0) return out;
        out.push(...msgs);
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: msgs.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
    },
    async stop() {
      s3.destroy();
      sqs.destroy();
      await server.stop();
    },
  };
}

/** A service error answered at the HTTP level: the SDK's own deserializer turns it into the typed exception. */
export interface FakeS3Answer {
  readonly status: number;
  readonly code: string;
  readonly message?: string;
  readonly condition?: string;
}

function s3ErrorResponse(answer: FakeS3Answer): { statusCode: number; reason: string; headers: Record<string, string>; body: Readable } {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' +
    `<Code>${answer.code}</Code><Message>${answer.message ?? answer.code}</Message>` +
    (answer.condition === undefined ? '' : `<Condition>${answer.condition}</Condition>`) +
    '<RequestId>FAKE0000000000</RequestId><HostId>fake</HostId></Error>';
  return {
    statusCode: answer.status,
    reason: answer.code,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': 'FAKE0000000000', 'content-length': String(Buffer.byteLength(xml)) },
    body: Readable.from([Buffer.from(xml)]),
  };
}

type Decide = (commandName: string, input: Record<string, unknown>) => FakeS3Answer | undefined | Promise<FakeS3Answer | undefined>;

/**
 * Answers chosen requests with an S3 error response instead of sending them. The middleware sits inside the
 * deserializer, so the SDK parses the fake response exactly as it would parse S3's (PreconditionFailed with
 * `$metadata.httpStatusCode` 412, and so on). Returns how many requests were answered.
 */
export function answerS3Requests(client: S3Client, decide: Decide): { readonly answered: string[] } {
  const answered: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const answer = await decide(context.commandName ?? '', (args.input ?? {}) as Record<string, unknown>);
      if (answer === undefined) return next(args);
      answered.push(`${context.commandName ?? ''} ${answer.status} ${answer.code}`);
      return { response: s3ErrorResponse(answer), output: undefined as never };
    },
    { step: 'deserialize', priority: 'low', name: `fakeS3Answer-${randomUUID()}` },
  );
  return { answered };
}

/**
 * Enforces If-None-Match: * and If-Match on PutObject and CopyObject as S3 does, on top of fauxqs (which ignores
 * them): the current object is probed with HeadObject through `probe` and a failed condition is answered with
 * S3's 412 PreconditionFailed (If-Match on a missing object: 404 NoSuchKey). Not atomic, which a test does not need.
 */
export function enforceConditionalWrites(client: S3Client, probe: S3Client): { readonly answered: string[] } {
  return answerS3Requests(client, async (commandName, input) => {
    if (commandName !== 'PutObjectCommand' && commandName !== 'CopyObjectCommand') return undefined;
    if (input.IfNoneMatch === undefined && input.IfMatch === undefined) return undefined;
    let etag: string | undefined;
    try {
      etag = (await probe.send(new HeadObjectCommand({ Bucket: input.Bucket as string, Key: input.Key as string }))).ETag;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw err;
    }
    if (input.IfNoneMatch === '*' && etag !== undefined) {
      return {
        status: 412,
        code: 'PreconditionFailed',
        message: 'At least one of the pre-conditions you specified did not hold',
        condition: 'If-None-Match',
      };
    }
    if (input.IfMatch !== undefined) {
      if (etag === undefined) return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' };
      if (etag !== input.IfMatch) {
        return {
          status: 412,
          code: 'PreconditionFailed',
          message: 'At least one of the pre-conditions you specified did not hold',
          condition: 'If-Match',
        };
      }
    }
    return undefined;
  });
}
