/** Regenerates lib/config/config.schema.json: `node lib/config/write-json-schema.ts` (a test checks it is current). */
import { writeFile } from 'node:fs/promises';
import { configJsonSchema } from './json-schema.ts';

export const JSON_SCHEMA_FILE = new URL('./config.schema.json', import.meta.url);

export function renderJsonSchema(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  await writeFile(JSON_SCHEMA_FILE, renderJsonSchema());
  console.log(`wrote ${JSON_SCHEMA_FILE.pathname}`);
}
