import { createHash } from 'node:crypto';
import * as z from 'zod';
import { SCHEMA_VERSION } from '../document/metadata-schema.ts';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import type { RawStore } from '../store/types.ts';
import { ARCHIVE_LAYOUT } from '../store/layout.ts';

/**
 * A document too large for its queue travels as a pointer (the claim check pattern): the document is stored in the
 * archive bucket and the SQS message carries where it is and the SHA-256 the consumer must find there.
 *
 *   { "claimCheck": { "bucket": "archive", "key": "claims/<id>.json", "sha256": "<hex>", "size": 312345 },
 *     "id": "<document id>", "mailbox": "support", "schemaVersion": 1 }
 *
 * `id` and `mailbox` ride along so a consumer can deduplicate or route without fetching the document.
 */
export const claimCheckMessageSchema = z.object({
  claimCheck: z.object({
    bucket: z.string().min(1).optional(),
    key: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number().int().nonnegative(),
  }),
  id: z.string(),
  mailbox: z.string(),
  schemaVersion: z.literal(SCHEMA_VERSION),
});

export type ClaimCheckMessage = z.infer<typeof claimCheckMessageSchema>;

const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** `<prefix>claims/<id>.json`; an id that is not a safe key segment is replaced by its SHA-256. */
export function claimCheckKey(prefix: string, id: string): string {
  const p = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const name = SAFE_ID.test(id) ? id : createHash('sha256').update(id, 'utf8').digest('hex');
  return `${p}${ARCHIVE_LAYOUT.claims}${name}.json`;
}

/**
 * Stores the document's JSON (overwriting an earlier copy of the same document, which is identical by id) and
 * returns the pointer message. The hash is of the exact bytes stored.
 */
export async function storeClaimCheck(store: RawStore, prefix: string, doc: MetadataDocument): Promise<ClaimCheckMessage> {
  const body = Buffer.from(JSON.stringify(doc), 'utf8');
  const ref = await store.putObject(claimCheckKey(prefix, doc.id), body, 'application/json');
  return {
    claimCheck: {
      ...(ref.bucket === undefined ? {} : { bucket: ref.bucket }),
      key: ref.key,
      sha256: createHash('sha256').update(body).digest('hex'),
      size: body.length,
    },
    id: doc.id,
    mailbox: doc.mailbox,
    schemaVersion: SCHEMA_VERSION,
  };
}
