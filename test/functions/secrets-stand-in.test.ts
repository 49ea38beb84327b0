import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startSecretsStandIn, type SecretsStandIn } from './secrets-stand-in.ts';

describe('Secrets Manager stand-in (through the real SDK client)', () => {
  let standIn: SecretsStandIn;
  let client: SecretsManagerClient;
  before(async () => {
    standIn = await startSecretsStandIn({ 'mail-ingest/alice': '{"password":"p"}' });
    client = new SecretsManagerClient({
      endpoint: standIn.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
  });
  after(async () => {
    client.destroy();
    await standIn.stop();
  });

  it('answers GetSecretValue with the SecretString', async () => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: 'mail-ingest/alice' }));
    assert.equal(out.SecretString, '{"password":"p"}');
    assert.deepEqual(standIn.requests, ['mail-ingest/alice']);
  });

  it('answers an unknown secret with ResourceNotFoundException, as the SDK types it', async () => {
    await assert.rejects(client.send(new GetSecretValueCommand({ SecretId: 'nope' })), { name: 'ResourceNotFoundException' });
  });
});
