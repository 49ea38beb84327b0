import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { LocalAws } from '../helpers/fauxqs.ts';
import { ROOT } from './bundle.ts';

export interface Invocation {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { name: string; message: string; code: string | null };
  /** JSON lines the function printed (stdout, then stderr): Powertools logs, and EMF documents (those with `_aws`). */
  readonly logs: Array<Record<string, unknown>>;
  readonly emf: Array<Record<string, unknown>>;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment a deployed handler has (the stack's Powertools settings) pointed at the local AWS, with the
 * handler's own variables in `own`: what invokeBundle passes, and nothing else.
 */
export function lambdaEnv(aws: LocalAws, own: Record<string, string>): Record<string, string> {
  return {
    ...own,
    POWERTOOLS_METRICS_NAMESPACE: 'MailIngest',
    LOG_LEVEL: 'INFO',
    AWS_ENDPOINT_URL: aws.endpoint,
    MAIL_INGEST_S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
}

/**
 * Invokes a bundled handler in a fresh node process with exactly `env` (plus PATH): no variable of the test
 * process leaks in, so a handler that needs one the stack does not set fails here as it would in Lambda.
 */
export async function invokeBundle(
  bundle: string,
  event: unknown,
  env: Record<string, string>,
  options: { remainingMs?: number } = {},
): Promise<Invocation> {
  const child = spawn(process.execPath, [join(ROOT, 'test/functions/invoke-bundle.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdin.end(JSON.stringify({ bundle, event, ...options }));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const logs: Array<Record<string, unknown>> = [];
  let outcome: { ok: boolean; result?: unknown; error?: Invocation['error'] } | null = null;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('__RESULT__ ')) outcome = JSON.parse(line.slice('__RESULT__ '.length));
  }
  // Powertools writes warnings and errors to stderr, the rest (and EMF) to stdout, as console does in Lambda.
  for (const line of `${stdout}\n${stderr}`.split('\n')) {
    if (line.startsWith('{')) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        /* not ours */
      }
    }
  }
  if (outcome === null)
    throw new Error(`bundle ${bundle} produced no result (exit ${code}):\n${stderr.slice(-4000)}\n${stdout.slice(-2000)}`);
  return { ...outcome, logs: logs.filter((l) => !('_aws' in l)), emf: logs.filter((l) => '_aws' in l), stdout, stderr };
}

/** A Lambda `ScheduledEvent` as EventBridge delivers it. */
export function scheduledEvent(time: string): Record<string, unknown> {
  return {
    version: '0',
    id: 'c0a4a2ab-7f2e-4c1c-9e0e-000000000001',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time,
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/mail-ingest-schedule'],
    detail: {},
  };
}

let seq = 0;

/** An SQS record as the event source mapping delivers it; FIFO records carry group and dedup ids. */
export function sqsRecord(
  body: string,
  options: { queueArn?: string; groupId?: string; dedupId?: string; receiveCount?: number } = {},
): Record<string, unknown> {
  seq++;
  const fifo = options.groupId !== undefined;
  return {
    messageId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    receiptHandle: `handle-${seq}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...(fifo
        ? {
            SequenceNumber: String(18_000_000_000_000_000_000 + seq),
            MessageGroupId: options.groupId,
            MessageDeduplicationId: options.dedupId ?? `d${seq}`,
          }
        : {}),
    },
    messageAttributes: {},
    md5OfBody: 'ignored',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn ?? `arn:aws:sqs:us-east-1:000000000000:${fifo ? 'poll.fifo' : 'processor'}`,
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(records: ReadonlyArray<Record<string, unknown>>): { Records: ReadonlyArray<Record<string, unknown>> } {
  return { Records: records };
}

/**
 * fauxqs names queues http://sqs.<region>.127.0.0.1:<port>/..., a host that the config's URL check (and WHATWG
 * URL parsing: a last label of digits must be an IPv4 address) refuses. The SDK sends to its endpoint whatever
 * the URL's host, so the loopback form names the same queue.
 */
export function loopbackQueueUrl(url: string): string {
  return url.replace(/^http:\/\/[^/:]+:(\d+)\//, 'http://127.0.0.1:$1/');
}
