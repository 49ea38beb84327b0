import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The package's lib/ folder. The launcher (bin.mjs) sets it, because in the bundle import.meta.dirname is dist/cli/;
 * run from source, it is found from this file.
 */
export const LIB_DIR = (globalThis as { __MAIL_INGEST_LIB__?: string }).__MAIL_INGEST_LIB__ ?? path.resolve(import.meta.dirname, '..');

/** The demo's certificates (a throwaway CA for loopback only), shipped in the package. */
export const DEMO_CERTS_DIR = path.join(LIB_DIR, 'cli', 'demo', 'certs');

/** The version in package.json (always shipped by npm). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(LIB_DIR, '..', 'package.json'), 'utf8')) as { version: string }).version;
}
