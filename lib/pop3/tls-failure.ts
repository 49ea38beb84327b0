/**
 * A failed TLS handshake in words an operator can act on. OpenSSL says "wrong version number" when the server
 * answered in plain text, and a verification code when the certificate is not trusted; Node appends a hint about
 * `--use-system-ca` that means nothing to a mail-ingest user. The message names the certificate the server
 * presented (subject, issuer, names, fingerprint) so it can be compared with what the ISP documents.
 */
import type tls from 'node:tls';

/** The server certificate as presented, for the error message and `check --json`. */
export interface PeerCertificateInfo {
  readonly subject: string | null;
  readonly issuer: string | null;
  /** subjectAltName entries, e.g. `DNS:pop.example.jp`, `IP Address:127.0.0.1`. */
  readonly names: readonly string[];
  readonly validFrom: string | null;
  readonly validTo: string | null;
  readonly fingerprint256: string | null;
}

function distinguishedName(n: tls.Certificate | undefined): string | null {
  if (n === undefined || n === null) return null;
  const parts = Object.entries(n).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`);
  return parts.length > 0 ? parts.join(', ') : null;
}

export function peerCertificateInfo(cert: tls.PeerCertificate | undefined): PeerCertificateInfo | null {
  if (cert === undefined || cert === null || Object.keys(cert).length === 0) return null;
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    names: (cert.subjectaltname ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    validFrom: cert.valid_from ?? null,
    validTo: cert.valid_to ?? null,
    fingerprint256: cert.fingerprint256 ?? null,
  };
}

// OpenSSL's reasons when the bytes received are not a TLS record: a plain-text POP3 greeting ("+OK ...").
const NOT_TLS = /wrong version number|packet length too long|unknown protocol|record layer failure|http request/i;
const NAME_MISMATCH = new Set(['ERR_TLS_CERT_ALTNAME_INVALID']);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'CERT_REVOKED',
  'CERT_REJECTED',
]);

// OpenSSL's words for the verification codes seen in practice (a socket verified by hand has only the code).
const VERIFY_TEXT: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
};

/** The reason in OpenSSL's words and code; Node's own advice, about running node itself, is dropped. */
function nodeReason(error: NodeJS.ErrnoException): string {
  const text = error.message.replace(/;\s*if the root CA is installed locally, try running Node\.js with --use-system-ca\.?$/, '');
  const code = error.code ?? '';
  if (text === code && VERIFY_TEXT[code] !== undefined) return `${VERIFY_TEXT[code]}, ${code}`;
  return text;
}

function describeCertificate(c: PeerCertificateInfo): string {
  return (
    `the server presented: subject ${c.subject ?? '?'}; issuer ${c.issuer ?? '?'}; names ${c.names.join(', ') || 'none'}; ` +
    `valid ${c.validFrom ?? '?'} to ${c.validTo ?? '?'}; SHA-256 fingerprint ${c.fingerprint256 ?? '?'}`
  );
}

/**
 * The message of the ETLS error for a handshake with `name` (the name verified) on `port` that failed with
 * `error`, `cert` being the certificate the server presented (null when it sent none, or no TLS at all).
 */
export function tlsFailureMessage(name: string, port: number, error: NodeJS.ErrnoException, cert: PeerCertificateInfo | null): string {
  const head = `TLS handshake with ${name}:${port} failed`;
  const code = error.code ?? '';
  if (NOT_TLS.test(error.message) || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return (
      `${head}: the server answered in plain text, not TLS (${
        nodeReason(error)
          .split(':')
          .find((p) => NOT_TLS.test(p)) ?? 'wrong version number'
      }). ` +
      `Port ${port} speaks plain POP3 first: use "tls": "starttls" on this port, or "tls": "implicit" on the server's POP3S port (usually 995)`
    );
  }
  const seen = cert === null ? '' : `; ${describeCertificate(cert)}`;
  if (NAME_MISMATCH.has(code)) {
    return (
      `${head}: the certificate is not for "${name}" (${nodeReason(error)})${seen}. ` +
      'Connect with "host" set to one of the certificate\'s names, or set "servername" to the name the ISP documents for this server'
    );
  }
  if (EXPIRED.has(code)) {
    return (
      `${head}: the certificate is outside its validity period (${nodeReason(error)})${seen}. ` +
      "The server's operator must renew it; check the machine's clock too"
    );
  }
  if (UNTRUSTED.has(code)) {
    return (
      `${head}: the certificate is not trusted (${nodeReason(error)})${seen}. ` +
      'If the issuer is one you trust (a private or ISP CA), set "ca" to its PEM file; if this is the wrong server, check "host" and "port"'
    );
  }
  return `${head}: ${nodeReason(error)}${seen}`;
}
