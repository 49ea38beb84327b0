/**
 * The config writer as CloudFormation drives it: the bundled handler in a fresh process, fauxqs for S3, and a
 * local HTTP server standing in for the pre-signed ResponseURL. Whatever happens, exactly one answer arrives.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalAws, type LocalAws } from '../helpers/fauxqs.ts';
import { bundleHandler, type Bundle } from './bundle.ts';
import { invokeBundle, lambdaEnv } from './run-bundle.ts';

const CONFIG_KEY = 'config/mail-ingest.json';
const KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/mail-ingest-tickets';

/** The static part as ConfigDeployment writes it: compact JSON of the mailboxes and defaults. */
const STATIC_PART = JSON.stringify({
  mailboxes: [
    { id: 'support', host: 'pop.example.jp', user: 'サポート@example.jp', password: { secretId: 'mail-ingest/support' } },
    {
      id: 'sales',
      host: 'pop3.example.com',
      port: 110,
      tls: 'starttls',
      user: 'sales@example.com',
      password: { secretId: 'mail-ingest/sales' },
    },
  ],
  defaults: { retention: { deleteAfterDays: 30 } },
});

interface ReceivedAnswer {
  method: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, any>;
}

/** Stands in for CloudFormation's pre-signed S3 URL: records each PUT; `statuses` are answered in turn, then 200. */
class ResponseUrlServer {
  readonly answers: ReceivedAnswer[] = [];
  statuses: number[] = [];
  #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      this.answers.push({ method: req.method ?? '', headers: req.headers, raw, body: JSON.parse(raw) });
      res.writeHead(this.statuses.shift() ?? 200).end();
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  url(requestId: string): string {
    const { port } = this.#server.address() as { port: number };
    return `http://127.0.0.1:${port}/cloudformation-custom-resource-response/${requestId}?X-Amz-Signature=test`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** An S3 endpoint that accepts connections and never answers. */
async function silentEndpoint(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Forwards to fauxqs and records each request's method, path and headers: fauxqs keeps no SSE settings, so the
 * encryption the writer asks for is checked on the wire.
 */
async function recordingProxy(target: string): Promise<{
  endpoint: string;
  requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders }>;
  close: () => Promise<void>;
}> {
  const requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders }> = [];
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('bundled config writer (CloudFormation custom resource → config/mail-ingest.json)', () => {
  let aws: LocalAws;
  let dir: string;
  let bundle: Bundle;
  let env: Record<string, string>;
  let assets: string;
  let cfn: ResponseUrlServer;
  let seq = 0;

  const properties = (overrides: Record<string, string> = {}) => ({
    ServiceToken: 'arn:aws:lambda:us-east-1:000000000000:function:writer',
    Bucket: aws.bucket,
    Key: CONFIG_KEY,
    KmsKeyId: KEY_ARN,
    Store: JSON.stringify({ type: 's3', bucket: aws.bucket, prefix: '', kmsKeyId: KEY_ARN }),
    Publish: JSON.stringify({ type: 'sqs', targets: [{ name: 'tickets', queueUrl: QUEUE_URL, filter: { autoReply: false } }] }),
    StaticBucket: assets,
    StaticKey: 'static.json',
    ...overrides,
  });

  function event(requestType: 'Create' | 'Update' | 'Delete', props: Record<string, unknown>, physicalResourceId?: string) {
    const requestId = `request-${++seq}`;
    return {
      RequestType: requestType,
      ServiceToken: props['ServiceToken'],
      ResponseURL: cfn.url(requestId),
      StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/Ingest/00000000-0000-0000-0000-000000000000',
      RequestId: requestId,
      LogicalResourceId: 'MailIngestConfig2255243B',
      ResourceType: 'Custom::MailIngestConfig',
      ResourceProperties: props,
      ...(physicalResourceId === undefined ? {} : { PhysicalResourceId: physicalResourceId }),
      ...(requestType === 'Update' ? { OldResourceProperties: properties() } : {}),
    };
  }

  const readConfig = async () =>
    (await aws.s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: CONFIG_KEY }))).Body!.transformToString('utf-8');
  const invoke = (e: ReturnType<typeof event>, extraEnv: Record<string, string> = {}, options: { remainingMs?: number } = {}) =>
    invokeBundle(bundle.file, e, { ...env, ...extraEnv }, options);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bundled-config-writer-'));
    cfn = new ResponseUrlServer();
    [aws, bundle] = await Promise.all([startLocalAws(), bundleHandler('config-writer', dir), cfn.start()]);
    assets = await aws.createBucket(`assets-${aws.bucket}`);
    await aws.s3.send(new PutObjectCommand({ Bucket: assets, Key: 'static.json', Body: STATIC_PART }));
    env = lambdaEnv(aws, {
      POWERTOOLS_SERVICE_NAME: 'mail-ingest-config-writer',
    });
  });
  after(async () => {
    await Promise.all([aws?.stop(), cfn?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    cfn.answers.length = 0;
    cfn.statuses = [];
  });

  it('Create writes the merged config, SSE-KMS with the archive key, and answers SUCCESS with the config key as the id', async () => {
    const e = event('Create', properties());
    const proxy = await recordingProxy(aws.endpoint);

    const out = await invoke(e, { AWS_ENDPOINT_URL: proxy.endpoint }).finally(() => proxy.close());

    assert.equal(out.ok, true, JSON.stringify(out.error));
    assert.equal(cfn.answers.length, 1, 'exactly one answer');
    const [answer] = cfn.answers;
    assert.equal(answer!.method, 'PUT');
    assert.equal(answer!.headers['content-type'], undefined, 'the pre-signed URL is signed without a Content-Type');
    assert.deepEqual(
      {
        Status: answer!.body.Status,
        PhysicalResourceId: answer!.body.PhysicalResourceId,
        StackId: answer!.body.StackId,
        RequestId: answer!.body.RequestId,
        LogicalResourceId: answer!.body.LogicalResourceId,
      },
      {
        Status: 'SUCCESS',
        PhysicalResourceId: CONFIG_KEY,
        StackId: e.StackId,
        RequestId: e.RequestId,
        LogicalResourceId: e.LogicalResourceId,
      },
    );
    assert.equal(
      await readConfig(),
      `{
  "store": {
    "type": "s3",
    "bucket": "${aws.bucket}",
    "prefix": "",
    "kmsKeyId": "${KEY_ARN}"
  },
  "publish": {
    "type": "sqs",
    "targets": [
      {
        "name": "tickets",
        "queueUrl": "${QUEUE_URL}",
        "filter": {
          "autoReply": false
        }
      }
    ]
  },
  "mailboxes": [
    {
      "id": "support",
      "host": "pop.example.jp",
      "user": "サポート@example.jp",
      "password": {
        "secretId": "mail-ingest/support"
      }
    },
    {
      "id": "sales",
      "host": "pop3.example.com",
      "port": 110,
      "tls": "starttls",
      "user": "sales@example.com",
      "password": {
        "secretId": "mail-ingest/sales"
      }
    }
  ],
  "defaults": {
    "retention": {
      "deleteAfterDays": 30
    }
  }
}
`,
    );
    assert.equal((await aws.s3.send(new HeadObjectCommand({ Bucket: aws.bucket, Key: CONFIG_KEY }))).ContentType, 'application/json');
    const puts = proxy.requests.filter((r) => r.method === 'PUT');
    assert.deepEqual(
      puts.map((r) => r.path.split('?')[0]),
      [`/${aws.bucket}/${CONFIG_KEY}`],
      'one write, of the config key only',
    );
    assert.equal(puts[0]!.headers['x-amz-server-side-encryption'], 'aws:kms');
    assert.equal(puts[0]!.headers['x-amz-server-side-encryption-aws-kms-key-id'], KEY_ARN);
    assert.deepEqual(
      proxy.requests.map((r) => r.method).sort(),
      ['GET', 'PUT'],
      'the static part read once, the config written once, nothing else',
    );
  });

  it('an Update whose merged config is invalid answers FAILED with every problem and leaves the config as it was', async () => {
    const before = await readConfig();
    const bad = properties({
      Publish: JSON.stringify({ type: 'sqs', targets: [{ name: 'tickets', queueUrl: 'not a url', filter: { autoreply: false } }] }),
    });

    const out = await invoke(event('Update', bad, CONFIG_KEY));

    assert.equal(out.ok, true, 'the function itself succeeds: it answered');
    assert.equal(cfn.answers.length, 1);
    const { body } = cfn.answers[0]!;
    assert.equal(body.Status, 'FAILED');
    assert.equal(body.PhysicalResourceId, CONFIG_KEY, 'the same id: CloudFormation must not see a replacement');
    assert.match(body.Reason, /invalid configuration in s3:\/\/[^/]+\/config\/mail-ingest\.json \(2 problems\)/);
    assert.match(body.Reason, /publish\.targets\[0\]\.filter\.autoreply: .*autoReply/);
    assert.match(body.Reason, /publish\.targets\[0\]\.queueUrl: /);
    assert.match(body.Reason, /\(log: \/aws\/lambda\/mail-ingest-test local\)$/, 'where the full list is');
    assert.equal(await readConfig(), before);
  });

  it('a Reason too long for CloudFormation is cut so that the answer stays within 4096 bytes', async () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ name: `target-${i}`, queueUrl: `not a url ${i}` }));

    await invoke(event('Create', properties({ Publish: JSON.stringify({ type: 'sqs', targets: many }) })));

    assert.equal(cfn.answers.length, 1);
    const { raw, body } = cfn.answers[0]!;
    assert.equal(body.Status, 'FAILED');
    assert.ok(Buffer.byteLength(raw) <= 4096, `${Buffer.byteLength(raw)} bytes`);
    assert.ok(Buffer.byteLength(raw) > 3900, 'the room is used');
    assert.match(body.Reason, /^invalid configuration .*\(300 problems\)/);
    assert.match(body.Reason, / \[\.\.\.\]$/);
  });

  it('Delete answers SUCCESS with the same id and leaves the config in place', async () => {
    const before = await readConfig();

    const out = await invoke(event('Delete', properties(), CONFIG_KEY));

    assert.equal(out.ok, true);
    assert.deepEqual(
      {
        answersLength: cfn.answers.length,
        answers0BodyStatus: cfn.answers[0]?.body.Status,
        answers0BodyPhysicalResourceId: cfn.answers[0]?.body.PhysicalResourceId,
      },
      { answersLength: 1, answers0BodyStatus: 'SUCCESS', answers0BodyPhysicalResourceId: CONFIG_KEY },
    );
    assert.equal(await readConfig(), before);
  });

  it('Delete succeeds even when the properties are unusable (a rollback of a failed Create must not get stuck)', async () => {
    const out = await invoke(event('Delete', { ServiceToken: 'x' }, 'MailIngestConfig2255243B'));

    assert.equal(out.ok, true);
    assert.equal(cfn.answers[0]?.body.Status, 'SUCCESS');
    assert.equal(cfn.answers[0]?.body.PhysicalResourceId, 'MailIngestConfig2255243B');
  });

  it('a Create with missing properties answers FAILED naming them', async () => {
    const { Store: _s, StaticKey: _k, ...partial } = properties();

    await invoke(event('Create', partial));

    assert.equal(cfn.answers[0]?.body.Status, 'FAILED');
    assert.match(cfn.answers[0]!.body.Reason, /^resource properties Store, StaticKey are required/);
    assert.equal(cfn.answers[0]?.body.PhysicalResourceId, CONFIG_KEY);
  });

  it("an S3 error answers FAILED with the operation, the object and S3's error", async () => {
    const out = await invoke(event('Create', properties({ StaticBucket: 'no-such-assets-bucket' })));

    assert.equal(out.ok, true);
    assert.equal(cfn.answers.length, 1);
    assert.equal(cfn.answers[0]!.body.Status, 'FAILED');
    assert.match(cfn.answers[0]!.body.Reason, /^S3 GetObject s3:\/\/no-such-assets-bucket\/static\.json: NoSuchBucket \(HTTP 404\)/);
  });

  it("an S3 that never answers still gets CloudFormation a FAILED answer before the function's deadline", async () => {
    const silent = await silentEndpoint();
    try {
      const started = Date.now();

      const out = await invoke(event('Create', properties()), { AWS_ENDPOINT_URL: silent.endpoint }, { remainingMs: 6_000 });

      assert.equal(out.ok, true);
      assert.ok(Date.now() - started < 6_000 + 2_000, `answered in ${Date.now() - started} ms`);
      assert.equal(cfn.answers.length, 1);
      assert.equal(cfn.answers[0]!.body.Status, 'FAILED');
      assert.match(cfn.answers[0]!.body.Reason, /^Create did not finish within 4 s/);
    } finally {
      await silent.close();
    }
  });

  it('retries the answer when the response URL fails with a 5xx', async () => {
    cfn.statuses = [503, 500];

    const out = await invoke(event('Update', properties(), CONFIG_KEY));

    assert.equal(out.ok, true, JSON.stringify(out.error));
    assert.deepEqual(
      cfn.answers.map((a) => a.body.Status),
      ['SUCCESS', 'SUCCESS', 'SUCCESS'],
    );
  });

  it('fails the invocation when the response URL refuses the answer (4xx: expired or altered), without retrying', async () => {
    cfn.statuses = [403];

    const out = await invoke(event('Update', properties(), CONFIG_KEY));

    assert.equal(out.ok, false);
    assert.equal(out.error?.code, 'ECFNRESPONSE');
    assert.match(out.error!.message, /HTTP 403/);
    assert.equal(cfn.answers.length, 1);
  });
});
