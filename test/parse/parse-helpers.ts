import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { metadataDocumentSchema, type ParsedMessage } from '../../lib/document/metadata-schema.ts';
import { parseMessage, type ParseLimits } from '../../lib/parse/parse-message.ts';

export const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/messages');

export function fixture(name: string): Buffer {
  return readFileSync(join(fixtureDir, name));
}

/** Splits into chunks of `size` bytes, as a socket would deliver them. */
export function chunked(buf: Buffer, size = 16 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  return Readable.from(chunks, { objectMode: false });
}

/** Asserts the parse result completes the metadata document (the fields the pipeline owns filled with dummies). */
export function assertValidShape(parsed: ParsedMessage): void {
  const doc = {
    ...parsed,
    schemaVersion: 1,
    id: 'id',
    mailbox: 'mb',
    uidl: 'u',
    ingestedAt: new Date(0).toISOString(),
    raw: { key: 'k', size: 0, sha256: 'x' },
  };
  const result = metadataDocumentSchema.safeParse(doc);
  assert.ok(result.success, result.success ? '' : JSON.stringify(result.error.issues.slice(0, 3)));
  // Strict: nothing the pipeline would not expect, nothing missing; `bounce` exactly when the bounce flag is set.
  const keys = [
    'attachments',
    'cc',
    'date',
    'flags',
    'from',
    'headers',
    'inReplyTo',
    'messageId',
    'parseError',
    'references',
    'replyTo',
    'snippet',
    'subject',
    'to',
  ];
  assert.deepEqual(Object.keys(parsed).sort(), (parsed.flags.bounce ? [...keys, 'bounce'] : keys).sort());
}

export async function parseBuffer(buf: Buffer, limits?: ParseLimits, chunkSize?: number): Promise<ParsedMessage> {
  const parsed = await parseMessage(chunked(buf, chunkSize), limits);
  assertValidShape(parsed);
  return parsed;
}

export async function parseFixture(name: string, limits?: ParseLimits): Promise<ParsedMessage> {
  return parseBuffer(fixture(name), limits);
}
