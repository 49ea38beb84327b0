import { createServer, type Server } from 'node:http';

/**
 * A stand-in for AWS Secrets Manager's GetSecretValue on 127.0.0.1, speaking its wire protocol (AWS JSON 1.1:
 * POST /, `X-Amz-Target: secretsmanager.GetSecretValue`, JSON body), so a handler reaches it through the real
 * SDK client, pointed here with AWS_ENDPOINT_URL_SECRETS_MANAGER. Only what the poller calls is implemented.
 */
export interface SecretsStandIn {
  readonly endpoint: string;
  /** Secret id -> SecretString; change it to simulate a rotation. */
  readonly secrets: Map<string, string>;
  /** Every SecretId asked for, in order (to assert caching). */
  readonly requests: string[];
  stop(): Promise<void>;
}

export async function startSecretsStandIn(initial: Record<string, string> = {}): Promise<SecretsStandIn> {
  const secrets = new Map(Object.entries(initial));
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': 'standin-0001',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      };
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        reply(400, { __type: 'UnknownOperationException', message: `not implemented: ${String(target)}` });
        return;
      }
      let input: { SecretId?: string };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reply(400, { __type: 'SerializationException', message: 'bad JSON' });
        return;
      }
      const id = input.SecretId ?? '';
      requests.push(id);
      const value = secrets.get(id);
      if (value === undefined) {
        reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        return;
      }
      reply(200, {
        ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${id}-AbCdEf`,
        Name: id,
        VersionId: '00000000-0000-4000-8000-000000000001',
        SecretString: value,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_735_689_600,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    secrets,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
