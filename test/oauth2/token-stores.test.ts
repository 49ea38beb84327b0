import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAwsSecretsManagerTokenClient, FsTokenFile, OAuth2Error, SecretsManagerTokenStore } from '../../lib/oauth2/index.ts';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from './secrets-manager-stand-in.ts';

describe('refresh token in a token file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mi-tokens-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a first sign-in creates it mode 0600 in a 0700 folder; read gives the token and a version', async () => {
    const file = new FsTokenFile(join(dir, 'new', 'support.json'));
    assert.equal(await file.read(), null, 'nothing stored yet');
    await file.replace('rt-first');
    assert.equal((await stat(file.path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'new'))).mode & 0o777, 0o700);
    const stored = await file.read();
    assert.equal(stored?.refreshToken, 'rt-first');
    assert.match(stored!.version, /^[0-9a-f]{64}$/);
    assert.deepEqual(Object.keys(JSON.parse(await readFile(file.path, 'utf8'))).sort(), ['refreshToken', 'updatedAt', 'version']);
  });

  it('compare-and-set: a write based on an old version is a conflict and changes nothing', async () => {
    const file = new FsTokenFile(join(dir, 'cas.json'));
    await file.replace('rt-1');
    const v1 = (await file.read())!.version;
    assert.equal(await file.write('rt-2', v1), 'written');
    assert.equal(await file.write('rt-stale-writer', v1), 'conflict');
    assert.equal((await file.read())!.refreshToken, 'rt-2');
  });

  it('refuses a token file other users can read, saying how to fix it', async () => {
    const path = join(dir, 'open.json');
    await writeFile(path, JSON.stringify({ version: 1, refreshToken: 'rt' }), { mode: 0o644 });
    await chmod(path, 0o644);
    await assert.rejects(
      new FsTokenFile(path).read(),
      (e: unknown) => e instanceof OAuth2Error && e.code === 'EOAUTH2_STORE' && /chmod 600/.test(e.message) && !e.message.includes('"rt"'),
    );
  });

  it('a corrupt file is an error naming the file and the fix, never "no token"', async () => {
    const path = join(dir, 'corrupt.json');
    await writeFile(path, '{"refreshTok', { mode: 0o600 });
    await assert.rejects(new FsTokenFile(path).read(), {
      code: 'EOAUTH2_STORE',
      message: /corrupt\.json is not valid JSON; sign in again/,
    });
  });

  it('the lock serializes holders, and the lock of a process that died is broken at once', async () => {
    const file = new FsTokenFile(join(dir, 'locked.json'));
    await file.replace('rt');
    const order: string[] = [];
    const release = await file.lock();
    const second = file.lock().then((r) => {
      order.push('second got it');
      return r;
    });
    await new Promise((r) => setTimeout(r, 150));
    order.push('first releases');
    await release();
    await (await second)();
    assert.deepEqual(order, ['first releases', 'second got it']);

    // A lock left by a process killed mid-refresh.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await writeFile(`${file.path}.lock`, JSON.stringify({ pid: child.pid, host: (await import('node:os')).hostname(), token: 'dead' }));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const t0 = Date.now();
    await (await file.lock())();
    assert.ok(Date.now() - t0 < 2000, 'not waited out');
  });
});

describe('refresh token in AWS Secrets Manager (through the SDK, against a local stand-in)', () => {
  let sm: SecretsManagerStandIn;
  const client = () => createAwsSecretsManagerTokenClient({ region: 'us-east-1', endpoint: sm.endpoint });
  before(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    sm = await startSecretsManagerStandIn();
  });
  after(() => sm.stop());

  it('a plain-string secret: read, rotate with PutSecretValue on exactly that secret', async () => {
    sm.set('mail-ingest/plain', 'rt-plain-1');
    const store = new SecretsManagerTokenStore('mail-ingest/plain', client());
    const stored = await store.read();
    assert.equal(stored?.refreshToken, 'rt-plain-1');
    const before = sm.calls.length;
    assert.equal(await store.write('rt-plain-2', stored!.version), 'written');
    assert.equal(sm.current('mail-ingest/plain'), 'rt-plain-2');
    assert.deepEqual(sm.calls.slice(before), [{ op: 'PutSecretValue', secretId: 'mail-ingest/plain' }]);
  });

  it('a JSON secret keeps its other keys when the token rotates', async () => {
    sm.set('mail-ingest/json', JSON.stringify({ refreshToken: 'rt-json-1', clientSecret: 'kept-as-is' }));
    const store = new SecretsManagerTokenStore('mail-ingest/json', client());
    const stored = await store.read();
    assert.equal(stored?.refreshToken, 'rt-json-1');
    assert.equal(await store.write('rt-json-2', stored!.version), 'written');
    assert.deepEqual(JSON.parse(sm.current('mail-ingest/json')!), { refreshToken: 'rt-json-2', clientSecret: 'kept-as-is' });
  });

  it("compare-and-set without a lock: of two pollers rotating the same version, one wins and the other keeps the winner's", async () => {
    sm.set('mail-ingest/race', 'rt-race-1');
    const a = new SecretsManagerTokenStore('mail-ingest/race', client());
    const b = new SecretsManagerTokenStore('mail-ingest/race', client());
    const [va, vb] = await Promise.all([a.read(), b.read()]);
    assert.equal(va!.version, vb!.version);
    const outcomes = await Promise.all([a.write('rt-from-a', va!.version), b.write('rt-from-b', vb!.version)]);
    assert.deepEqual([...outcomes].sort(), ['conflict', 'written']);
    assert.equal(sm.current('mail-ingest/race'), outcomes[0] === 'written' ? 'rt-from-a' : 'rt-from-b');
    // The loser's next read sees the winner's token.
    assert.equal((await b.read())!.refreshToken, sm.current('mail-ingest/race'));
  });

  it('a fresh sign-in needs the secret to exist, and says how to create it', async () => {
    const store = new SecretsManagerTokenStore('mail-ingest/missing', client());
    await assert.rejects(store.replace('rt'), { code: 'EOAUTH2_STORE', message: /create-secret --name mail-ingest\/missing/ });
    sm.set('mail-ingest/empty', '{}');
    const empty = new SecretsManagerTokenStore('mail-ingest/empty', client());
    assert.equal(await empty.read(), null, 'an empty JSON secret holds no token yet');
    await empty.replace('rt-bootstrap');
    assert.deepEqual(JSON.parse(sm.current('mail-ingest/empty')!), { refreshToken: 'rt-bootstrap' });
  });
});
