import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { S3Client } from '@aws-sdk/client-s3';
import { booleanEnv, EnvironmentError, integerEnv, outputPrefixEnv, requiredEnv } from '../../functions/commons/env.ts';
import { ConfigLoadError, ConfigSource } from '../../functions/commons/config-source.ts';

function fakeS3(answers: Array<string | Error>) {
  let calls = 0;
  const client = {
    async send() {
      const a = answers[Math.min(calls++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return { Body: { transformToString: async () => a } };
    },
  } as unknown as S3Client;
  return { client, calls: () => calls };
}

describe('environment helpers', () => {
  it('requiredEnv names the missing variable, as Powertools examples do', () => {
    assert.throws(
      () => requiredEnv('CONFIG_BUCKET', {}),
      (err: unknown) => err instanceof EnvironmentError && err.message === 'Environment variable CONFIG_BUCKET is required',
    );
    assert.throws(() => requiredEnv('CONFIG_BUCKET', { CONFIG_BUCKET: '  ' }), /CONFIG_BUCKET is required/);
    assert.equal(requiredEnv('CONFIG_BUCKET', { CONFIG_BUCKET: 'b' }), 'b');
  });
  it('booleanEnv and integerEnv reject values they cannot read, quoting them', () => {
    assert.equal(booleanEnv('X', false, { X: 'TRUE' }), true);
    assert.equal(booleanEnv('X', true, {}), true);
    assert.throws(() => booleanEnv('X', false, { X: 'yep' }), /X must be true or false, got "yep"/);
    assert.equal(integerEnv('N', 5, { N: '30000' }), 30000);
    assert.throws(() => integerEnv('N', 5, { N: '-1' }), /non-negative integer, got "-1"/);
  });
  it('outputPrefixEnv normalises slashes and refuses "." and ".." segments', () => {
    assert.equal(outputPrefixEnv('P', { P: 'tickets/' }), 'tickets');
    assert.equal(outputPrefixEnv('P', {}), '');
    assert.throws(() => outputPrefixEnv('P', { P: 'a/../b/' }), /not a valid key prefix/);
  });
});

describe('ConfigSource (deployment config from S3)', () => {
  const parse = (json: unknown) => json as { v: number };

  it('reads once per TTL and again after it, so an edit applies without a redeploy', async () => {
    let now = 0;
    const s3 = fakeS3(['{"v":1}', '{"v":2}']);
    const src = new ConfigSource({ s3: s3.client, bucket: 'b', key: 'k', parse, ttlMs: 60_000, now: () => now });
    assert.deepEqual(await src.get(), { v: 1 });
    now = 59_999;
    assert.deepEqual(await src.get(), { v: 1 });
    assert.equal(s3.calls(), 1);
    now = 60_000;
    assert.deepEqual(await src.get(), { v: 2 });
    assert.equal(s3.calls(), 2);
  });

  it('shares one read among concurrent callers', async () => {
    const s3 = fakeS3(['{"v":1}']);
    const src = new ConfigSource({ s3: s3.client, bucket: 'b', key: 'k', parse });
    await Promise.all([src.get(), src.get(), src.get()]);
    assert.equal(s3.calls(), 1);
  });

  it('says where the config is and why it cannot be used; never caches a failure', async () => {
    const s3 = fakeS3([Object.assign(new Error('x'), { name: 'NoSuchKey' }), 'not json', '{"v":3}']);
    const src = new ConfigSource({ s3: s3.client, bucket: 'b', key: 'cfg.json', parse });
    await assert.rejects(
      src.get(),
      (e: unknown) => e instanceof ConfigLoadError && /s3:\/\/b\/cfg\.json: NoSuchKey/.test(e.message) && !e.retryable,
    );
    await assert.rejects(src.get(), /is not valid JSON/);
    assert.deepEqual(await src.get(), { v: 3 });
  });

  it("wraps a validation failure with the parser's message", async () => {
    const src = new ConfigSource({
      s3: fakeS3(['{}']).client,
      bucket: 'b',
      key: 'k',
      parse: () => {
        throw new Error('mailboxes: is required');
      },
    });
    await assert.rejects(src.get(), /config at s3:\/\/b\/k is invalid: mailboxes: is required/);
  });
});
