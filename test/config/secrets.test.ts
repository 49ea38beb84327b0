import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSecret, SecretError } from '../../lib/config/index.ts';
import type { SecretsManagerLike } from '../../lib/config/index.ts';

/** A fake Secrets Manager counting calls; `answers` may be a value or an error to throw. */
function fakeManager(answers: Record<string, string | Error>) {
  const calls: string[] = [];
  const manager: SecretsManagerLike = {
    async getSecretString(id) {
      calls.push(id);
      const a = answers[id];
      if (a === undefined)
        throw Object.assign(new Error(`Secrets Manager can't find the specified secret.`), { name: 'ResourceNotFoundException' });
      if (a instanceof Error) throw a;
      return a;
    },
  };
  return { manager, calls };
}

describe('resolveSecret', () => {
  it('returns a literal as is', async () => {
    assert.equal(await resolveSecret('s3cr3t'), 's3cr3t');
  });

  it('reads an environment variable', async () => {
    assert.equal(await resolveSecret({ env: 'POP_PW' }, { env: { POP_PW: 'from-env' } }), 'from-env');
  });

  it("names a missing or empty environment variable, and never prints another variable's value", async () => {
    for (const env of [{}, { POP_PW: '' }]) {
      await assert.rejects(
        resolveSecret({ env: 'POP_PW' }, { env: { ...env, OTHER: 'do-not-print' } }),
        (e: unknown) =>
          e instanceof SecretError &&
          e.code === 'ESECRET' &&
          !e.retryable &&
          /environment variable POP_PW is not set/.test(e.message) &&
          !e.message.includes('do-not-print'),
      );
    }
  });

  it('reads a plain-string secret from Secrets Manager and caches it for the process', async () => {
    const { manager, calls } = fakeManager({ 'pop/support': 'plain-password' });
    assert.equal(await resolveSecret({ secretId: 'pop/support' }, { secretsManager: manager }), 'plain-password');
    assert.equal(await resolveSecret({ secretId: 'pop/support' }, { secretsManager: manager }), 'plain-password');
    assert.deepEqual(calls, ['pop/support']);
  });

  it('concurrent first reads share one request', async () => {
    const { manager, calls } = fakeManager({ s: 'v' });
    const values = await Promise.all([1, 2, 3].map(() => resolveSecret({ secretId: 's' }, { secretsManager: manager })));
    assert.deepEqual(values, ['v', 'v', 'v']);
    assert.equal(calls.length, 1);
  });

  it('reads the "password" key of a JSON secret, or another key when asked', async () => {
    const { manager } = fakeManager({
      json: JSON.stringify({ username: 'support@example.jp', password: 'pw-in-json', accessToken: 'tok' }),
    });
    assert.equal(await resolveSecret({ secretId: 'json' }, { secretsManager: manager }), 'pw-in-json');
    assert.equal(await resolveSecret({ secretId: 'json' }, { secretsManager: manager, jsonKey: 'accessToken' }), 'tok');
  });

  it('falls back to "accessToken" for a JSON secret without "password"', async () => {
    const { manager } = fakeManager({ token: JSON.stringify({ accessToken: 'ya29.token' }) });
    assert.equal(await resolveSecret({ secretId: 'token' }, { secretsManager: manager }), 'ya29.token');
  });

  it('rejects a JSON secret without the key, without quoting the secret', async () => {
    const { manager } = fakeManager({ json: JSON.stringify({ pass: 'hunter2' }) });
    await assert.rejects(
      resolveSecret({ secretId: 'json' }, { secretsManager: manager }),
      (e: unknown) =>
        e instanceof SecretError &&
        /secret "json" is JSON without a string "password" key/.test(e.message) &&
        !e.message.includes('hunter2'),
    );
  });

  it('takes a plain password that merely starts with "{" as a plain string', async () => {
    const { manager } = fakeManager({ odd: '{not-json' });
    assert.equal(await resolveSecret({ secretId: 'odd' }, { secretsManager: manager }), '{not-json');
  });

  it('does not cache failures; classifies missing secrets as permanent and throttling as retryable', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const answers: Record<string, string | Error> = { flaky: throttled };
    const { manager, calls } = fakeManager(answers);
    await assert.rejects(
      resolveSecret({ secretId: 'flaky' }, { secretsManager: manager }),
      (e: unknown) =>
        e instanceof SecretError &&
        e.retryable &&
        /cannot read secret "flaky" from AWS Secrets Manager: ThrottlingException/.test(e.message),
    );
    answers.flaky = 'now-ok';
    assert.equal(await resolveSecret({ secretId: 'flaky' }, { secretsManager: manager }), 'now-ok');
    assert.deepEqual(calls, ['flaky', 'flaky']);
    await assert.rejects(
      resolveSecret({ secretId: 'missing' }, { secretsManager: manager }),
      (e: unknown) => e instanceof SecretError && !e.retryable && /ResourceNotFoundException/.test(e.message),
    );
  });

  it('never puts an SDK error message (which could echo request data) into its own message', async () => {
    const { manager } = fakeManager({ x: Object.assign(new Error('leaky details s3cr3t'), { name: 'InternalServiceError' }) });
    await assert.rejects(
      resolveSecret({ secretId: 'x' }, { secretsManager: manager }),
      (e: unknown) => e instanceof SecretError && !e.message.includes('s3cr3t'),
    );
  });
});
