import { createHash } from 'node:crypto';
import * as z from 'zod';
import { metadataDocumentSchema, SCHEMA_VERSION } from '../document/metadata-schema.ts';
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
 * Stores the document's JSON unless it is there already, and returns the pointer message; the hash is of the exact
 * bytes stored. Written only if absent: a document published again (a retried batch, a replay, a re-ingest with
 * another `ingestedAt`) must not upload it again nor replace the first copy, which every pointer sent so far names.
 * A copy that is not this document (damaged, or of another id) is replaced.
 */
export async function storeClaimCheck(store: RawStore, prefix: string, doc: MetadataDocument): Promise<ClaimCheckMessage> {
  const key = claimCheckKey(prefix, doc.id);
  let body: Buffer = Buffer.from(JSON.stringify(doc), 'utf8');
  let ref = await store.putObject(key, body, 'application/json', { ifAbsent: true });
  if (ref.existing !== undefined) {
    if (isCopyOf(ref.existing, doc)) body = ref.existing;
    else ref = await store.putObject(key, body, 'application/json');
  }
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

/** A stored claim is reused only if it is a valid document with the same id and mailbox. */
function isCopyOf(stored: Buffer, doc: MetadataDocument): boolean {
  let json: unknown;
  try {
    json = JSON.parse(stored.toString('utf8'));
  } catch {
    return false;
  }
  const parsed = metadataDocumentSchema.safeParse(json);
  return parsed.success && parsed.data.id === doc.id && parsed.data.mailbox === doc.mailbox;
}
