import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Address, ParsedMessage } from '../../lib/document/metadata-schema.ts';
import { corpusDir, toCrlf } from './corpus-location.ts';
import { fixtureDir, parseBuffer } from './parse-helpers.ts';

/**
 * What the fidelity test compares: the fields a person reads first in a mail client. Shared by the test and the
 * script that records the expectations (record-fidelity.ts).
 */
export interface Seen {
  readonly subject: string | null;
  readonly from: string[];
  readonly to: string[];
  readonly cc: string[];
  readonly messageId: string | null;
  readonly attachments: Array<string | null>;
}

export const expectationsFile = join(dirname(fileURLToPath(import.meta.url)), 'fidelity-expectations.json');

/** "Name <address>", "<address>" without a name, "Name <>" for something that is no address: one line per mailbox. */
const show = (a: Address): string => (a.name ? `${a.name} <${a.address}>` : `<${a.address}>`);

export function seen(m: ParsedMessage): Seen {
  return {
    subject: m.subject,
    from: m.from.map(show),
    to: m.to.map(show),
    cc: m.cc.map(show),
    messageId: m.messageId,
    attachments: m.attachments.map((a) => a.filename),
  };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.eml'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Every message the test covers, keyed `fixtures/<path>` and `corpus/<path>` (the latter only when the corpus is there). */
export function messageFiles(): Array<{ key: string; path: string; crlf: boolean }> {
  const out = walk(fixtureDir).map((path) => ({ key: `fixtures/${relative(fixtureDir, path)}`, path, crlf: false }));
  if (existsSync(corpusDir)) out.push(...walk(corpusDir).map((path) => ({ key: `corpus/${relative(corpusDir, path)}`, path, crlf: true })));
  return out;
}

export async function seenIn(file: { path: string; crlf: boolean }): Promise<Seen> {
  const bytes = readFileSync(file.path);
  return seen(await parseBuffer(file.crlf ? toCrlf(bytes) : bytes));
}

export function loadExpectations(): Record<string, Seen> {
  return existsSync(expectationsFile) ? (JSON.parse(readFileSync(expectationsFile, 'utf8')) as Record<string, Seen>) : {};
}
