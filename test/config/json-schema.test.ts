import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { configJsonSchema } from '../../lib/config/index.ts';
import { JSON_SCHEMA_FILE, renderJsonSchema } from '../../lib/config/write-json-schema.ts';

describe('config JSON Schema', () => {
  it('describes the file: strict objects, the store and publish variants, required fields', () => {
    const s = configJsonSchema() as {
      type: string;
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, { oneOf?: unknown[] }>;
    };
    assert.equal(s.type, 'object');
    assert.deepEqual(s.required.sort(), ['mailboxes', 'store']);
    assert.equal(s.additionalProperties, false);
    assert.equal(s.properties.store?.oneOf?.length, 2);
    assert.ok(JSON.stringify(s).includes('"deleteAfterDays"'));
  });

  it('is committed up to date (regenerate: node lib/config/write-json-schema.ts)', async () => {
    assert.equal(await readFile(JSON_SCHEMA_FILE, 'utf8'), renderJsonSchema());
  });
});
