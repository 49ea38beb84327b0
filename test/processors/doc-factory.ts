import { createHash } from 'node:crypto';
import { metadataDocumentSchema, type MetadataDocument } from '../../lib/document/metadata-schema.ts';

type Overrides = Partial<Omit<MetadataDocument, 'flags' | 'raw' | 'headers'>> & {
  flags?: Partial<MetadataDocument['flags']>;
  raw?: Partial<MetadataDocument['raw']>;
  headers?: Partial<MetadataDocument['headers']>;
};

let seq = 0;

/** A valid metadata document (checked against the schema), unique per call unless `id` is given. */
export function makeDoc(o: Overrides = {}): MetadataDocument {
  seq++;
  const id = o.id ?? createHash('sha256').update(`doc-${seq}-${Math.random()}`).digest('hex');
  const rawSha = o.raw?.sha256 ?? createHash('sha256').update(id).digest('hex');
  const { flags, raw, headers, ...rest } = o;
  return metadataDocumentSchema.parse({
    schemaVersion: 1,
    id,
    mailbox: 'support',
    uidl: `uidl-${seq}`,
    ingestedAt: '2025-03-01T10:00:00.000Z',
    raw: { key: `raw/support/2025/03/01/${rawSha}.eml`, size: 1234, sha256: rawSha, ...raw },
    messageId: `<m${seq}@example.jp>`,
    inReplyTo: null,
    references: [],
    date: '2025-03-01T09:59:00.000Z',
    subject: `Subject ${seq}`,
    from: [{ name: 'Customer', address: 'customer@example.com' }],
    to: [{ name: '', address: 'support@example.jp' }],
    cc: [],
    replyTo: [],
    attachments: [],
    snippet: 'Hello',
    flags: { autoReply: false, bounce: false, list: false, bulk: false, spam: false, oversized: false, ...flags },
    headers: {
      listId: null,
      authenticationResults: [],
      spamFlag: null,
      spamStatus: null,
      autoSubmitted: null,
      returnPath: null,
      ...headers,
    },
    parseError: null,
    ...rest,
  });
}
