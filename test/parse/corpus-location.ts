import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared real-world corpus: `../shared/corpus` beside the repository (CI and the shared workspace have it, a
 * user's clone does not), or wherever MAIL_INGEST_CORPUS points (a git worktree elsewhere). Tests that use it skip
 * with this message when it is absent.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const corpusDir = resolve(process.env['MAIL_INGEST_CORPUS'] ?? resolve(repoRoot, '../shared/corpus'));
export const corpusSkip: string | false = existsSync(corpusDir)
  ? false
  : `shared corpus not found at ${corpusDir} (set MAIL_INGEST_CORPUS, or run where ../shared/corpus exists)`;

/** Corpus files are stored with LF endings; a POP3 server sends CRLF, so they are converted first. */
export const toCrlf = (buf: Buffer): Buffer => Buffer.from(buf.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
