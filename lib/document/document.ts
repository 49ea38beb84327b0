import { createHash } from 'node:crypto';
import { SCHEMA_VERSION, type MetadataDocument, type ParsedMessage } from './metadata-schema.ts';

/** Stable across retries and replays: the same message in the same mailbox under the same UIDL. */
export function documentId(mailbox: string, uidl: string, sha256: string): string {
  return createHash('sha256').update(`${mailbox}\0${uidl}\0${sha256}`, 'utf8').digest('hex');
}

export function buildDocument(input: {
  mailbox: string;
  uidl: string;
  ingestedAt: Date;
  ref: MetadataDocument['raw'];
  parsed: ParsedMessage;
  oversized: boolean;
}): MetadataDocument {
  const { mailbox, uidl, ref, parsed } = input;
  return {
    schemaVersion: SCHEMA_VERSION,
    id: documentId(mailbox, uidl, ref.sha256),
    mailbox,
    uidl,
    ingestedAt: input.ingestedAt.toISOString(),
    raw: { key: ref.key, size: ref.size, sha256: ref.sha256, ...(ref.bucket === undefined ? {} : { bucket: ref.bucket }) },
    ...parsed,
    flags: { ...parsed.flags, oversized: input.oversized },
  };
}
