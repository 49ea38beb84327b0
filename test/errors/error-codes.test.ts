import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { CodedError } from '../../lib/coded-error.ts';
import { classifyError, ERROR_CODES, hintFor } from '../../lib/error-codes.ts';
import { ERROR_DOCS_FILE, renderErrorDocs } from '../../lib/write-error-docs.ts';
import { Pop3Error } from '../../lib/pop3/errors.ts';
import { ConfigError, SecretError } from '../../lib/config/errors.ts';
import { StoreError } from '../../lib/store/types.ts';
import { PublishError } from '../../lib/publish/types.ts';
import { IngestError } from '../../lib/ingest/errors.ts';
import { UsageError } from '../../lib/cli/usage-error.ts';

describe('one error model', () => {
  it('classifies every project error by its class, not by its name', () => {
    const cases = [
      { err: new Pop3Error('EAUTH', 'PASS failed'), cls: 'auth' },
      { err: new Pop3Error('ETLS', 'certificate expired'), cls: 'tls' },
      { err: new Pop3Error('ECLOSED', 'closed'), cls: 'network' },
      { err: new ConfigError([{ path: 'store', message: 'missing' }]), cls: 'config' },
      { err: new SecretError('env MISSING is not set'), cls: 'config' },
      { err: new UsageError('bad flag'), cls: 'config' },
      { err: new StoreError('EIO', 'disk full'), cls: 'storage' },
      { err: new PublishError('queue down', ['a']), cls: 'publish' },
      { err: new IngestError('EUIDLRESET', 'protocol', 'renumbered'), cls: 'protocol' },
    ];
    for (const { err, cls } of cases) {
      assert.ok(err instanceof CodedError, `${err.code} extends CodedError`);
      assert.deepEqual(classifyError(err), { class: cls, code: err.code, message: err.message });
    }
  });

  it('does not trust a foreign error that merely borrows a name', () => {
    const impostor = Object.assign(new Error('looks like a store error'), { name: 'StoreError', code: 'EIO' });
    assert.deepEqual(classifyError(impostor), { class: 'internal', code: 'EIO', message: 'looks like a store error' });
  });

  it('reports an abort as a network-class end of session', () => {
    const ac = new AbortController();
    ac.abort();
    assert.equal(classifyError(ac.signal.reason).class, 'network');
  });

  it('has a table row for every code a project error class declares', () => {
    const declared = [
      'ECONNECTION',
      'ETIMEDOUT',
      'ETLS',
      'ESTLS',
      'EAUTH',
      'EINSECURE',
      'EINUSE',
      'ELOGINDELAY',
      'ESYSTEMP',
      'ESYSPERM',
      'EPROTOCOL',
      'ETOOLARGE',
      'ECLOSED',
      'ECOMMAND',
      'ECONFIG',
      'ENOUIDL',
      'EUIDLRESET',
      'ELISTING',
      'ESTATE',
      'ECONFLICT',
      'EVERIFY',
      'EIO',
      'ENOTFOUND',
      'EACCESS',
      'EPUBLISH',
      'ESECRET',
      'EUSAGE',
      'ESLOW',
      'ELISTINGLIMIT',
      'EOVERSIZED',
      'EDEADLINE',
    ];
    for (const code of declared) assert.ok(Object.hasOwn(ERROR_CODES, code), `${code} is in lib/error-codes.ts`);
  });

  it('gives the hint of the code when the table knows it, else the class hint', () => {
    assert.match(hintFor({ class: 'protocol', code: 'EUIDLRESET' }), /--accept-uidl-reset/);
    assert.match(hintFor({ class: 'storage', code: 'ESOMETHINGNEW' }), /nothing was deleted/);
  });

  it('docs/errors.md is generated from the table (regenerate: npm run docs:errors)', async () => {
    assert.equal(await readFile(ERROR_DOCS_FILE, 'utf8'), renderErrorDocs());
  });
});
