import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { BoundedMailParser, type TreeNode } from '../parse/bounded-mail-parser.ts';
import { HeaderMap, findHeaderEnd, parseHeaderBlock } from '../parse/header-block.ts';
import { declaredCharset } from '../parse/header-fields.ts';
import { decodeUnstructured } from '../parse/decode-headers.ts';
import type { RawStore } from '../store/types.ts';

/** The same bounds as ingest (lib/parse/parse-message.ts): text kept per part and in all, parts, depth, header block. */
const LIMITS = { maxMimeDepth: 20, maxParts: 500, maxHeaderBytes: 256 * 1024, textBytesPerPart: 256 * 1024, textBytesTotal: 1024 * 1024 };
/** Inline images embedded into the shown HTML: each and all together. */
const INLINE_IMAGE_BYTES = 2 * 1024 * 1024;
const INLINE_TOTAL_BYTES = 8 * 1024 * 1024;
const INLINE_TYPES = new Set(['image/png', 'image/gif', 'image/jpeg', 'image/webp']);
const MAX_HEADERS = 500;
const PARSE_TIMEOUT_MS = 30_000;

export interface Verification {
  /** The archived bytes hash to the document's sha256 and have its size. */
  readonly ok: boolean;
  readonly sha256: string;
  readonly size: number;
}

export interface MessageContent {
  readonly verified: Verification;
  /** Every header field in order, decoded as a mail client shows it. */
  readonly headers: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly text: string | null;
  readonly html: string | null;
  /** A text or part limit was reached: what is shown is cut. */
  readonly limited: string | null;
  /** Inline images by Content-ID (without brackets), as data: URLs. */
  readonly inlineImages: ReadonlyMap<string, string>;
}

interface AttachmentEvent {
  type: 'attachment';
  content: Readable;
  release: (() => void) | null;
  contentType?: string;
  contentId?: string;
}

function textsOf(root: TreeNode | null): { text: string | null; html: string | null } {
  let text: string | null = null;
  let html: string | null = null;
  const walk = (node: TreeNode | undefined, depth: number): void => {
    if (!node || depth > 200) return;
    if (typeof node.textContent === 'string' && !node.isAttachment && node.textContent.trim()) {
      if (node.contentType === 'text/html') html ??= node.textContent;
      else if (node.contentType === 'text/plain' || node.contentType === undefined) text ??= node.textContent;
    }
    for (const child of node.children ?? []) walk(child, depth + 1);
  };
  walk(root ?? undefined, 0);
  return { text, html };
}

type AttachmentVisitor = (position: number, att: AttachmentEvent) => Promise<void>;

/**
 * Streams an archived message through the project's bounded MIME parser once, hashing every byte on the way
 * (the "verified" mark), keeping the header block and the text bodies, and handing each attachment to `visit`
 * (which must consume or drain its content). Memory is bounded by the parser's text limits, whatever the size.
 */
async function walkMessage(
  store: RawStore,
  doc: MetadataDocument,
  visit: AttachmentVisitor,
): Promise<{ verified: Verification; head: Buffer; parser: BoundedMailParser; limited: string | null }> {
  const raw = await store.getRaw(doc.raw.key);
  const hash = createHash('sha256');
  let size = 0;
  let limited: string | null = null;
  const parser = new BoundedMailParser({
    ...LIMITS,
    onLimit: (reason) => {
      limited ??= reason;
    },
  });
  let position = 0;
  const visits: Array<Promise<void>> = [];
  parser.on('data', (data: { type: string }) => {
    if (data.type !== 'attachment') return;
    const att = data as AttachmentEvent;
    visits.push(
      visit(position++, att)
        .catch(() => {
          att.content.resume();
        })
        .finally(() => att.release?.()),
    );
  });
  parser.on('error', (err: unknown) => {
    limited ??= `parser: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200);
  });
  const ended = new Promise<void>((resolve) => {
    parser.once('end', resolve);
    parser.once('close', resolve);
    parser.once('error', () => resolve());
  });
  const headChunks: Buffer[] = [];
  let headBytes = 0;
  let headDone = false;
  const timer = setTimeout(() => {
    limited ??= `parsing took longer than ${PARSE_TIMEOUT_MS} ms`;
    parser.destroy();
  }, PARSE_TIMEOUT_MS);
  try {
    for await (const chunk of raw as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      if (!headDone) {
        headChunks.push(chunk);
        headBytes += chunk.length;
        headDone = findHeaderEnd(Buffer.concat(headChunks)) >= 0 || headBytes > LIMITS.maxHeaderBytes;
      }
      // Past a limit the parser stops, but every byte is still hashed: the mark covers the whole message.
      if (parser.destroyed || parser.limitHit !== null) continue;
      if (!parser.write(chunk))
        await new Promise<void>((resolve) => {
          parser.once('drain', resolve);
          parser.once('close', resolve);
          parser.once('error', () => resolve());
        });
    }
  } finally {
    clearTimeout(timer);
  }
  if (!parser.destroyed) parser.end();
  await ended;
  await Promise.all(visits);
  const head = Buffer.concat(headChunks);
  return {
    verified: { ok: hash.digest('hex') === doc.raw.sha256 && size === doc.raw.size, sha256: doc.raw.sha256, size },
    head,
    parser,
    limited,
  };
}

function drain(att: AttachmentEvent): Promise<void> {
  return new Promise((resolve) => {
    att.content.on('data', () => undefined);
    att.content.once('end', resolve);
    att.content.once('error', () => resolve());
    att.content.once('close', resolve);
  });
}

/** What the Message page shows: decoded headers, the text and HTML bodies, embeddable inline images, the verified mark. */
export async function readMessageContent(store: RawStore, doc: MetadataDocument): Promise<MessageContent> {
  const inlineImages = new Map<string, string>();
  let inlineTotal = 0;
  const { verified, head, parser, limited } = await walkMessage(store, doc, async (_position, att) => {
    const type = (att.contentType ?? '').toLowerCase();
    const cid = att.contentId?.replace(/^<|>$/g, '');
    if (cid === undefined || !INLINE_TYPES.has(type)) return drain(att);
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of att.content as AsyncIterable<Buffer>) {
      n += c.length;
      if (n <= INLINE_IMAGE_BYTES && inlineTotal + n <= INLINE_TOTAL_BYTES) chunks.push(c);
    }
    if (n <= INLINE_IMAGE_BYTES && inlineTotal + n <= INLINE_TOTAL_BYTES) {
      inlineTotal += n;
      inlineImages.set(cid, `data:${type};base64,${Buffer.concat(chunks).toString('base64')}`);
    }
  });
  const block = parseHeaderBlock(head.subarray(0, LIMITS.maxHeaderBytes));
  const hint = declaredCharset(new HeaderMap(block.headers));
  const headers = block.headers.slice(0, MAX_HEADERS).map((h) => ({ name: h.name, value: decodeUnstructured(h.value, hint) }));
  const { text, html } = textsOf(parser.root);
  return { verified, headers, text, html, limited, inlineImages };
}

/** Hashes the archived bytes against the document (the "verified" mark) without parsing. */
export async function verifyRaw(store: RawStore, doc: MetadataDocument): Promise<Verification> {
  const raw = await store.getRaw(doc.raw.key);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { ok: hash.digest('hex') === doc.raw.sha256 && size === doc.raw.size, sha256: doc.raw.sha256, size };
}

/**
 * Writes the decoded content of the document's attachment number `n` to `sink`, checked against the sha256 the
 * document recorded for it. Found by that hash (a first pass hashes each part), not by position alone: a parser
 * that lists parts differently from the one that ingested the message must not hand out the wrong file. Resolves
 * false when no part of the message has that content; the sink is then untouched.
 */
export async function writeAttachment(store: RawStore, doc: MetadataDocument, n: number, sink: () => Writable): Promise<boolean> {
  const wanted = doc.attachments[n];
  if (wanted === undefined || doc.flags.oversized) return false;
  // Several identical parts: the k-th occurrence in the document is the k-th with that hash in the message.
  const occurrence = doc.attachments.slice(0, n).filter((a) => a.sha256 === wanted.sha256).length;
  let found = -1;
  let seen = 0;
  await walkMessage(store, doc, async (position, att) => {
    const hash = createHash('sha256');
    for await (const c of att.content as AsyncIterable<Buffer>) hash.update(c);
    if (found < 0 && hash.digest('hex') === wanted.sha256 && seen++ === occurrence) found = position;
  });
  if (found < 0) return false;
  let out: Writable | null = null;
  let ok = false;
  await walkMessage(store, doc, async (position, att) => {
    if (position !== found) return drain(att);
    out = sink();
    const hash = createHash('sha256');
    for await (const c of att.content as AsyncIterable<Buffer>) {
      hash.update(c);
      if (!out.write(c))
        await new Promise<void>((resolve) => {
          out!.once('drain', resolve);
          out!.once('close', resolve);
        });
    }
    ok = hash.digest('hex') === wanted.sha256;
  });
  const w = out as Writable | null;
  // The content changed between the passes (it never should: the archive is immutable): the download is cut.
  if (w !== null) {
    if (ok) w.end();
    else w.destroy(new Error('attachment content changed while it was read'));
  }
  return w !== null;
}
