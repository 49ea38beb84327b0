import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/**
 * AWS Secrets Manager's GetSecretValue and PutSecretValue on 127.0.0.1, on its wire protocol (AWS JSON 1.1), so
 * the real SDK client reaches it (endpoint override). Versions follow the documented rules: PutSecretValue makes
 * the new version AWSCURRENT (the old one AWSPREVIOUS), its ClientRequestToken becomes the VersionId, the same
 * token with the same value is an idempotent no-op, and with another value is ResourceExistsException. No local
 * Secrets Manager emulator is packaged for npm or Debian, hence this stand-in.
 */
export interface SecretsManagerStandIn {
  readonly endpoint: string;
  /** Every call: operation and SecretId, in order. */
  readonly calls: Array<{ readonly op: string; readonly secretId: string }>;
  /** The AWSCURRENT value of a secret, or undefined. */
  current(secretId: string): string | undefined;
  /** Creates a secret (or a new version of it) directly, as an operator would. */
  set(secretId: string, value: string): void;
  /** Runs before PutSecretValue is applied (to interleave a competing writer). */
  beforePut?: (secretId: string) => Promise<void> | void;
  /** When set, PutSecretValue fails with this AWS error (e.g. 'AccessDeniedException'). */
  failPuts?: string | null;
  stop(): Promise<void>;
}

interface Version {
  readonly id: string;
  readonly value: string;
  stages: string[];
}

export async function startSecretsManagerStandIn(): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, Version[]>();
  const calls: Array<{ op: string; secretId: string }> = [];
  const addVersion = (secretId: string, id: string, value: string) => {
    const versions = secrets.get(secretId) ?? [];
    for (const v of versions) {
      v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
      if (v.stages.includes('AWSCURRENT')) v.stages = v.stages.filter((s) => s !== 'AWSCURRENT').concat('AWSPREVIOUS');
    }
    versions.push({ id, value, stages: ['AWSCURRENT'] });
    secrets.set(secretId, versions);
  };
  const currentOf = (secretId: string) => secrets.get(secretId)?.find((v) => v.stages.includes('AWSCURRENT'));

  const standIn: SecretsManagerStandIn = {
    endpoint: '',
    calls,
    current: (id) => currentOf(id)?.value,
    set: (id, value) => addVersion(id, randomUUID(), value),
    stop: async () => undefined,
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const reply = (status: number, body: unknown) => {
          const text = JSON.stringify(body);
          res.writeHead(status, {
            'content-type': 'application/x-amz-json-1.1',
            'x-amzn-requestid': randomUUID(),
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        };
        const op = String(req.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, '');
        let input: { SecretId?: string; SecretString?: string; ClientRequestToken?: string };
        try {
          input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          reply(400, { __type: 'SerializationException', message: 'bad JSON' });
          return;
        }
        const id = input.SecretId ?? '';
        calls.push({ op, secretId: id });
        const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${id}-AbCdEf`;
        if (!secrets.has(id)) {
          reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
          return;
        }
        if (op === 'GetSecretValue') {
          const v = currentOf(id)!;
          reply(200, { ARN: arn, Name: id, VersionId: v.id, SecretString: v.value, VersionStages: v.stages, CreatedDate: 1_735_689_600 });
          return;
        }
        if (op === 'PutSecretValue') {
          await standIn.beforePut?.(id);
          if (standIn.failPuts) {
            reply(400, { __type: standIn.failPuts, message: 'denied by the test' });
            return;
          }
          const token = input.ClientRequestToken ?? randomUUID();
          if (token.length < 32 || token.length > 64) {
            reply(400, { __type: 'InvalidParameterException', message: 'ClientRequestToken must be 32-64 characters' });
            return;
          }
          const existing = secrets.get(id)!.find((v) => v.id === token);
          if (existing !== undefined && existing.value !== input.SecretString) {
            reply(400, {
              __type: 'ResourceExistsException',
              message: "You can't modify an existing version, you can only create a new version.",
            });
            return;
          }
          if (existing === undefined) addVersion(id, token, input.SecretString ?? '');
          reply(200, { ARN: arn, Name: id, VersionId: token, VersionStages: ['AWSCURRENT'] });
          return;
        }
        reply(400, { __type: 'UnknownOperationException', message: `not implemented: ${op}` });
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(standIn, {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
