import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyAndCert {
  keyPem: string;
  certPem: string;
}

export interface TestCerts {
  caPem: string;
  /** The CA certificate as a file (for Dovecot, fetchmail, getmail6, `openssl s_client -CAfile`). */
  caFile: string;
  keyPem: string;
  /** Leaf for DNS:localhost and IP:127.0.0.1, signed by the CA. */
  certPem: string;
  /** Signed by the CA but for "wrong.example" only. */
  wrongHost: KeyAndCert;
  /** Self-signed for localhost: valid names, untrusted issuer. */
  selfSigned: KeyAndCert;
  /** Signed by the CA for localhost, validity window entirely in the past. */
  expired: KeyAndCert;
  /** Holds every PEM above as a file: ca.pem, leaf.key, leaf.pem, wrong.key, wrong.pem, self.key, self.pem, expired.key, expired.pem. */
  dir: string;
}

let cached: TestCerts | undefined;

function openssl(cwd: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

/**
 * A throw-away PKI made with openssl, once per process. EC P-256 keys: generation is instant and every peer
 * (Dovecot, fetchmail, getmail6, Node) accepts them.
 */
export function makeTestCerts(): TestCerts {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'mi-certs-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const key = (name: string) => openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name]);

  key('ca.key');
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-sha256',
    '-days',
    '3650',
    '-subj',
    '/CN=mail-ingest test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'ca.pem',
  ]);

  const leafExt = (san: string) =>
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`;
  const signByCa = (name: string, cn: string, san: string) => {
    key(`${name}.key`);
    openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`]);
    writeFileSync(join(dir, `${name}.ext`), leafExt(san));
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-sha256',
      '-days',
      '825',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ]);
  };
  signByCa('leaf', 'localhost', 'DNS:localhost,IP:127.0.0.1');
  signByCa('wrong', 'wrong.example', 'DNS:wrong.example');

  key('self.key');
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'self.key',
    '-sha256',
    '-days',
    '825',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-out',
    'self.pem',
  ]);

  // `x509 -days` cannot go negative; `openssl ca` takes an explicit validity window (2020-01-01 .. 2020-01-02).
  key('expired.key');
  openssl(dir, ['req', '-new', '-key', 'expired.key', '-subj', '/CN=localhost', '-out', 'expired.csr']);
  mkdirSync(join(dir, 'ca-db'));
  writeFileSync(join(dir, 'ca-db', 'index.txt'), '');
  writeFileSync(join(dir, 'ca-db', 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      'database = ca-db/index.txt',
      'serial = ca-db/serial',
      'new_certs_dir = ca-db',
      'certificate = ca.pem',
      'private_key = ca.key',
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      'copy_extensions = none',
      'x509_extensions = leaf_ext',
      '[any]',
      'commonName = supplied',
      '[leaf_ext]',
      'basicConstraints = CA:FALSE',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = DNS:localhost,IP:127.0.0.1',
      '',
    ].join('\n'),
  );
  openssl(dir, [
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-notext',
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
    '-in',
    'expired.csr',
    '-out',
    'expired.pem',
  ]);

  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  cached = {
    caPem: read('ca.pem'),
    caFile: join(dir, 'ca.pem'),
    keyPem: read('leaf.key'),
    certPem: read('leaf.pem'),
    wrongHost: { keyPem: read('wrong.key'), certPem: read('wrong.pem') },
    selfSigned: { keyPem: read('self.key'), certPem: read('self.pem') },
    expired: { keyPem: read('expired.key'), certPem: read('expired.pem') },
    dir,
  };
  return cached;
}
