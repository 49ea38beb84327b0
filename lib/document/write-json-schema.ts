/** Regenerates lib/document/metadata.schema.json: `node lib/document/write-json-schema.ts` (a test checks it is current). */
import { writeFile } from 'node:fs/promises';
import { metadataJsonSchema } from './json-schema.ts';

export const METADATA_JSON_SCHEMA_FILE = new URL('./metadata.schema.json', import.meta.url);

export function renderMetadataJsonSchema(): string {
  return `${JSON.stringify(metadataJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  await writeFile(METADATA_JSON_SCHEMA_FILE, renderMetadataJsonSchema());
  console.log(`wrote ${METADATA_JSON_SCHEMA_FILE.pathname}`);
}
