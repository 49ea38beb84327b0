import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { buildDocument } from '../../lib/document/document.ts';
import { metadataDocumentSchema } from '../../lib/document/metadata-schema.ts';
import { METADATA_JSON_SCHEMA_FILE, renderMetadataJsonSchema } from '../../lib/document/write-json-schema.ts';
import { parseMessage } from '../../lib/parse/parse-message.ts';
import { demoMessages } from '../../lib/cli/demo/demo-messages.ts';

async function documents() {
  return Promise.all(
    demoMessages().map(async (bytes, i) => {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const parsed = await parseMessage(Readable.from([bytes]));
      return buildDocument({
        mailbox: 'demo',
        uidl: `u${i}`,
        ingestedAt: new Date('2026-11-25T00:00:00Z'),
        parsed,
        oversized: false,
        ref: { key: `raw/demo/2026/11/25/${sha256}.eml`, size: bytes.length, sha256 },
      });
    }),
  );
}

describe('metadata document JSON Schema (lib/document/metadata.schema.json)', () => {
  it('is committed up to date (regenerate: node lib/document/write-json-schema.ts)', async () => {
    assert.equal(await readFile(METADATA_JSON_SCHEMA_FILE, 'utf8'), renderMetadataJsonSchema());
  });

  it('a JSON Schema validator accepts the documents the pipeline builds, and rejects what zod rejects', async () => {
    const validate = new Ajv2020({ strict: true }).compile(JSON.parse(await readFile(METADATA_JSON_SCHEMA_FILE, 'utf8')));
    const docs = await documents();
    assert.equal(docs.length, 8);
    for (const doc of docs) assert.ok(validate(doc), `${doc.subject}: ${JSON.stringify(validate.errors)}`);

    const [doc] = docs;
    const { flags: _flags, ...noFlags } = doc!;
    const bad = [
      { ...doc, schemaVersion: 2 },
      noFlags,
      { ...doc, subject: 42 },
      { ...doc, from: [{ name: 'x' }] },
      { ...doc, raw: { ...doc!.raw, size: -1 } },
    ];
    for (const b of bad) {
      assert.equal(metadataDocumentSchema.safeParse(b).success, false);
      assert.equal(validate(b), false, `the JSON Schema rejects it too: ${JSON.stringify(b).slice(0, 80)}`);
    }
    // A field a later version 1 adds is accepted by both, so consumers do not break on additions.
    assert.ok(validate({ ...doc, addedLater: true }));
    assert.equal(metadataDocumentSchema.safeParse({ ...doc, addedLater: true }).success, true);
  });
});
