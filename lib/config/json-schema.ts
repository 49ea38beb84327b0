import * as z from 'zod';
import { configSchema } from './schema.ts';

/**
 * JSON Schema (draft 2020-12) of the configuration file, for editors (`"$schema"`) and the docs. Cross-field
 * rules (tls "none" needs allowInsecureAuth, credentials present, unique ids) are enforced by parseConfig only.
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://github.com/mail-ingest/mail-ingest/config.schema.json',
    title: 'mail-ingest configuration',
  };
}
