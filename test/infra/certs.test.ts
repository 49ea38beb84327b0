import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { makeTestCerts, type KeyAndCert } from '../helpers/certs.ts';

/** Handshake (client connects to 127.0.0.1) against a server holding `pair`; resolves to null on success or the client's error code. */
async function handshake(pair: KeyAndCert, servername: string, trustTestCa = true): Promise<string | null> {
  const certs = makeTestCerts();
  const server: Server = createServer({ key: pair.keyPem, cert: pair.certPem }, (s) => s.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<string | null>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, ...(trustTestCa ? { ca: certs.caPem } : {}), servername: servername || undefined });
      s.once('secureConnect', () => {
        s.destroy();
        resolve(null);
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('test certificates', () => {
  const certs = makeTestCerts();
  const leaf = { keyPem: certs.keyPem, certPem: certs.certPem };

  it('is made once per process', () => {
    assert.equal(makeTestCerts(), certs);
  });

  it('leaf is trusted for localhost', async () => {
    assert.equal(await handshake(leaf, 'localhost'), null);
  });

  it('leaf is trusted for the IP 127.0.0.1 (no SNI)', async () => {
    assert.equal(await handshake(leaf, ''), null);
  });

  it('leaf is refused without the test CA', async () => {
    assert.equal(await handshake(leaf, 'localhost', false), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('wrongHost is refused for localhost', async () => {
    assert.equal(await handshake(certs.wrongHost, 'localhost'), 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('wrongHost is valid for wrong.example (only the name is wrong)', () => {
    const x = new X509Certificate(certs.wrongHost.certPem);
    assert.equal(x.checkHost('wrong.example'), 'wrong.example');
    assert.ok(x.checkIssued(new X509Certificate(certs.caPem)));
  });

  it('selfSigned is refused as untrusted', async () => {
    assert.equal(await handshake(certs.selfSigned, 'localhost'), 'DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('expired is refused as expired although the CA signed it', async () => {
    assert.equal(await handshake(certs.expired, 'localhost'), 'CERT_HAS_EXPIRED');
    const x = new X509Certificate(certs.expired.certPem);
    assert.ok(x.checkIssued(new X509Certificate(certs.caPem)));
    assert.ok(new Date(x.validTo) < new Date());
  });

  it('caFile holds caPem', async () => {
    const { readFile } = await import('node:fs/promises');
    assert.equal(await readFile(certs.caFile, 'utf8'), certs.caPem);
  });
});
