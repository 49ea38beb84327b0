import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { MailParser, type AttachmentStream } from 'mailparser';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { listNamedTextAsAttachments } from '../parse/attachment-rule.ts';
import { isPreconditionFailed, type ObjectStore, type RawOpener } from './object-store.ts';
import { CodedError } from '../coded-error.ts';

export const MANIFEST_SCHEMA_VERSION = 1 as const;

export interface ManifestEntry {
  readonly filename: string | null;
  readonly contentType: string;
  readonly size: number;
  readonly sha256: string;
  /** Key of the content object, relative to the processor's output prefix. */
  readonly key: string;
  readonly contentId: string | null;
  readonly inline: boolean;
  readonly partId: string | null;
}

export interface AttachmentManifest {
  readonly schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  readonly docId: string;
  readonly mailbox: string;
  readonly messageId: string | null;
  readonly raw: { readonly key: string; readonly bucket?: string; readonly sha256: string };
  readonly attachments: readonly ManifestEntry[];
}

export type AttachmentOutcome =
  | { readonly action: 'skipped'; readonly reason: 'no-attachments' | 'oversized' }
  | { readonly action: 'extracted'; readonly manifestKey: string; readonly attachments: number; readonly stored: number };

export class AttachmentExtractionError extends CodedError<'ERAWMISMATCH'> {
  constructor(message: string) {
    super('AttachmentExtractionError', 'ERAWMISMATCH', message, { failureClass: 'storage' });
  }
}

/** Keys are relative to the processor's output prefix (OUTPUT_PREFIX, `attachments/` in the stack). */
export function attachmentKey(sha256: string): string {
  return `sha256/${sha256}`;
}

export function manifestKey(docId: string): string {
  return `manifests/${docId}.json`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Content objects are written once: If-None-Match makes a concurrent extraction of the same file harmless, and
 * the bytes under a sha256 key can only ever be those bytes. Stored as octet-stream whatever the sender claimed,
 * so nothing downstream ever serves attacker-chosen HTML from the archive.
 */
async function storeContent(store: ObjectStore, sha256: string, content: Buffer): Promise<boolean> {
  const key = attachmentKey(sha256);
  if (await store.exists(key)) return false;
  try {
    await store.put(key, content, { contentType: 'application/octet-stream', ifNoneMatch: '*' });
    return true;
  } catch (err) {
    if (isPreconditionFailed(err)) return false;
    throw err;
  }
}

/**
 * Re-parses the archived raw message (streamed, never the whole message in memory; each attachment is buffered
 * while it is hashed, so memory is bounded by the largest attachment) and stores every attachment by content
 * with a manifest per document. Idempotent: a redelivered document rewrites the same manifest.
 */
export async function extractAttachments(doc: MetadataDocument, openRaw: RawOpener, store: ObjectStore): Promise<AttachmentOutcome> {
  // Only the headers of an oversized message were archived: there is no body to take attachments from.
  if (doc.flags.oversized) return { action: 'skipped', reason: 'oversized' };
  // The ingest parser found none; when it failed, it is worth a second look.
  if (doc.attachments.length === 0 && doc.parseError === null) return { action: 'skipped', reason: 'no-attachments' };

  const raw = await openRaw({ key: doc.raw.key, ...(doc.raw.bucket === undefined ? {} : { bucket: doc.raw.bucket }) });
  const rawHash = createHash('sha256');
  let rawSize = 0;
  raw.on('data', (chunk: Buffer) => {
    rawHash.update(chunk);
    rawSize += chunk.length;
  });

  // The same attachment rule as the ingest parser: a named text part (a Makefile, a report.txt) is a file here too.
  const parser = listNamedTextAsAttachments(
    new MailParser({ checksumAlgo: false, skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true }),
  );
  raw.on('error', (err) => parser.destroy(err));
  raw.pipe(parser);

  const entries: ManifestEntry[] = [];
  let stored = 0;
  for await (const part of parser as AsyncIterable<AttachmentStream | { type: 'text' }>) {
    if (part.type !== 'attachment') continue;
    const att = part as AttachmentStream;
    let content: Buffer;
    try {
      content = await readAll(att.content);
    } finally {
      att.release?.();
    }
    const sha256 = createHash('sha256').update(content).digest('hex');
    if (await storeContent(store, sha256, content)) stored++;
    entries.push({
      filename: att.filename ?? null,
      contentType: att.contentType,
      size: content.length,
      sha256,
      key: attachmentKey(sha256),
      contentId: att.contentId ?? null,
      inline: att.contentDisposition === 'inline' || att.related === true,
      partId: att.partId,
    });
  }

  // The manifest vouches for the archive: never write one for bytes that are not the message the document names.
  const got = rawHash.digest('hex');
  if (got !== doc.raw.sha256 || rawSize !== doc.raw.size) {
    throw new AttachmentExtractionError(`raw message ${doc.raw.key} does not match its document (sha256 or size differ)`);
  }

  const manifest: AttachmentManifest = {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    docId: doc.id,
    mailbox: doc.mailbox,
    messageId: doc.messageId,
    raw: { key: doc.raw.key, sha256: doc.raw.sha256, ...(doc.raw.bucket === undefined ? {} : { bucket: doc.raw.bucket }) },
    attachments: entries,
  };
  const key = manifestKey(doc.id);
  await store.put(key, JSON.stringify(manifest), { contentType: 'application/json' });
  return { action: 'extracted', manifestKey: key, attachments: entries.length, stored };
}
