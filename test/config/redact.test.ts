import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forgetSecrets, redact, redactDeep, registerSecret } from '../../lib/redact.ts';
import { resolveSecret } from '../../lib/config/secrets.ts';
import { classifyError } from '../../lib/ingest/errors.ts';
import { Pop3Error } from '../../lib/pop3/errors.ts';

describe('redact', () => {
  afterEach(() => forgetSecrets());

  it('removes a resolved secret in every form a server or a serializer gives it', async () => {
    const pw = await resolveSecret({ env: 'MI_TEST_PW' }, { env: { MI_TEST_PW: 'Tr0ub4dor&3 "x"/%' } });
    assert.equal(redact(`-ERR bad password ${pw}`), '-ERR bad password [redacted]');
    assert.equal(redact(`-ERR BAD PASSWORD ${pw.toUpperCase()}`), '-ERR BAD PASSWORD [redacted]');
    assert.equal(redact(JSON.stringify({ m: pw })), '{"m":"[redacted]"}');
    assert.equal(redact(`url ${encodeURIComponent(pw)}`), 'url [redacted]');
    const plain = Buffer.from(`\0alice\0${pw}`).toString('base64');
    assert.equal(redact(`-ERR cannot decode ${plain}`), '-ERR cannot decode [redacted]');
    assert.equal(redact(`cut at the limit: ${pw.slice(0, 6)}...`), 'cut at the limit: [redacted]...');
    assert.equal(redact('nothing secret here, authentication failed'), 'nothing secret here, authentication failed');
  });

  it('registers literal passwords and tokens from the config as well', async () => {
    await resolveSecret('literal-pass');
    assert.equal(redact('x literal-pass y'), 'x [redacted] y');
  });

  it('leaves secrets too short to matter alone, rather than garbling every line', () => {
    registerSecret('ab');
    assert.equal(redact('about'), 'about');
  });

  it('reaches every string of a log record, and classifyError (summaries, lastError) uses it', () => {
    registerSecret('s3cr3t-value');
    assert.deepEqual(redactDeep({ a: ['s3cr3t-value'], b: { c: 'x s3cr3t-value' }, n: 1 }), {
      a: ['[redacted]'],
      b: { c: 'x [redacted]' },
      n: 1,
    });
    const err = new Pop3Error('EAUTH', 'PASS failed: -ERR no such password s3cr3t-value', { command: 'PASS' });
    assert.equal(classifyError(err).message, 'PASS failed: -ERR no such password [redacted]');
  });
});
