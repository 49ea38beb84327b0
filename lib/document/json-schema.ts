import * as z from 'zod';
import { metadataDocumentSchema, SCHEMA_VERSION } from './metadata-schema.ts';

/**
 * JSON Schema (draft 2020-12) of the metadata document, for consumers that do not run TypeScript (a queue consumer
 * in another language, a search index mapping). Generated from the zod schema, the one definition: it accepts what
 * `metadataDocumentSchema` accepts, unknown fields included (a later version 1 may add fields; it never removes or
 * changes one without bumping schemaVersion).
 */
export function metadataJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(metadataDocumentSchema, { io: 'input' }),
    $id: `https://github.com/mail-ingest/mail-ingest/metadata.v${SCHEMA_VERSION}.schema.json`,
    title: `mail-ingest metadata document, schema version ${SCHEMA_VERSION}`,
  };
}
