import type { Readable } from 'node:stream';
import type { Attachment, Bounce, ParsedMessage } from '../document/metadata-schema.ts';
import { HeaderMap, findHeaderEnd, headerStart, parseHeaderBlock, rewriteHeaderBlock, type HeaderBlock } from './header-block.ts';
import { headerFields, type HeaderFields } from './header-fields.ts';
import { classify } from './flags.ts';
import { BoundedMailParser, type TreeNode } from './bounded-mail-parser.ts';
import { consumeAttachment, type PartInfo, type StreamedAttachment } from './attachments.ts';
import { htmlToPlain, makeSnippet } from './snippet.ts';
import { decodeBytes } from './charset.ts';
import { readBounce, type BouncePart } from './bounce/read-bounce.ts';
import { multipartPreamble } from './preamble.ts';
import { singlePartText } from './single-part.ts';

export interface ParseLimits {
  /** Top-level header block; larger blocks are not parsed further. @default 256 KiB */
  maxHeaderBytes?: number;
  /** @default 20 */
  maxMimeDepth?: number;
  /** @default 500 */
  maxParts?: number;
  /** @default 280 */
  snippetChars?: number;
  /** @default 60000 */
  timeoutMs?: number;
}

const DEFAULTS: Required<ParseLimits> = {
  maxHeaderBytes: 256 * 1024,
  maxMimeDepth: 20,
  maxParts: 500,
  snippetChars: 280,
  timeoutMs: 60_000,
};
const TEXT_BYTES_PER_PART = 256 * 1024;
const TEXT_BYTES_TOTAL = 1024 * 1024;
// Attachments whose first bytes the bounce reader needs: reports, returned headers, text files (an Exchange 2003
// "deliveryproblems.txt"). Bounded per part and per message like the body text.
const KEPT_TYPES =
  /^(?:text\/|message\/(?:delivery-status|global-delivery-status|rfc822|global|global-headers|feedback-report|disposition-notification)$)/;
const KEPT_BYTES_PER_PART = 64 * 1024;
const KEPT_PARTS = 8;
// A body read whole by single-part.ts (its decoded text is cut at TEXT_BYTES_PER_PART anyway); a larger one is
// streamed through mailparser, which decodes no more than it keeps at a time.
const SINGLE_PART_MAX = 4 * TEXT_BYTES_PER_PART;
// The start of the message kept for the multipart preamble (preamble.ts), past a header block of this size.
const START_BYTES = 64 * 1024;

const EMPTY_FIELDS: HeaderFields = {
  messageId: null,
  inReplyTo: null,
  references: [],
  date: null,
  subject: null,
  from: [],
  to: [],
  cc: [],
  replyTo: [],
  headers: { listId: null, authenticationResults: [], spamFlag: null, spamStatus: null, autoSubmitted: null, returnPath: null },
};

/**
 * Growable byte buffer for the header pre-scan: no quadratic re-concatenation when input arrives in tiny chunks.
 * The first chunk is held as it is (a message given whole is never copied); a second one starts the copy.
 */
class Prefix {
  bytes: Buffer | null = null;
  length = 0;
  #owned = false;
  append(chunk: Buffer): void {
    if (this.bytes === null) {
      this.bytes = chunk;
      this.length = chunk.length;
      return;
    }
    if (!this.#owned || this.length + chunk.length > this.bytes.length) {
      // Never zero-filled: view() reads only what was copied in.
      const next = Buffer.allocUnsafe(Math.max(16 * 1024, this.bytes.length * 2, this.length + chunk.length));
      this.bytes.copy(next, 0, 0, this.length);
      this.bytes = next;
      this.#owned = true;
    }
    chunk.copy(this.bytes, this.length);
    this.length += chunk.length;
  }
  view(): Buffer {
    return this.bytes === null ? Buffer.alloc(0) : this.bytes.subarray(0, this.length);
  }
}

function limitsOf(limits: ParseLimits | undefined): Required<ParseLimits> {
  const out = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as Array<keyof ParseLimits>) {
    const v = limits?.[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = Math.floor(v);
  }
  return out;
}

function short(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * Incremental scan for the end of the header block: each call looks only at bytes not seen before (plus the
 * two before them, where a terminator may straddle chunks), so input arriving in tiny chunks stays linear.
 */
class HeaderScanner {
  readonly max: number;
  scanned = 0;
  startChecked = false;

  constructor(max: number) {
    this.max = max;
  }

  scan(buf: Buffer): 'more' | 'complete' | 'headerless' | 'too-large' {
    if (buf.length > 0 && (buf[0] === 0x0a || (buf[0] === 0x0d && buf[1] === 0x0a))) return 'complete';
    if (!this.startChecked) {
      // A message that does not start with a header field is all body (mailsplit would otherwise eat its first
      // paragraph as garbage headers).
      const start = headerStart(buf, false);
      if (start === 'body') return 'headerless';
      if (start === 'fields') this.startChecked = true;
    }
    for (let i = buf.indexOf(0x0a, Math.max(0, this.scanned - 2)); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
      const j = buf[i + 1] === 0x0d ? i + 2 : i + 1;
      if (buf[j] === 0x0a) return 'complete';
      if (j >= buf.length) break;
    }
    this.scanned = buf.length;
    return buf.length > this.max ? 'too-large' : 'more';
  }
}

class ParseRun {
  /** The message as a stream, or whole in memory (read as one chunk, without a stream's machinery). */
  readonly source: Readable | Buffer;
  readonly limits: Required<ParseLimits>;
  error: string | null = null;
  /** A damaged header block that was read all the same: reported when nothing worse happened. */
  repaired: string | null = null;
  block: HeaderBlock | null = null;
  parser: BoundedMailParser | null = null;
  /** The one text part of a message read without mailparser (single-part.ts). */
  root: TreeNode | null = null;
  readonly attachments: Attachment[] = [];
  /** Decoded leading text of the attachments in KEPT_TYPES, for the bounce reader. */
  readonly kept: BouncePart[] = [];
  /** The first bytes fed to mailparser: the header block and the start of the body, for the preamble. */
  readonly start = new Prefix();

  constructor(source: Readable | Buffer, limits: Required<ParseLimits>) {
    this.source = source;
    this.limits = limits;
  }

  fail(reason: string): void {
    this.error ??= reason;
  }

  async run(): Promise<void> {
    const source = this.source;
    let whole: Buffer | null = Buffer.isBuffer(source) ? source : null;
    const iterator = Buffer.isBuffer(source) ? null : (source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>);
    const next = async (): Promise<Buffer | null> => {
      if (iterator === null) {
        const chunk = whole;
        whole = null;
        return chunk;
      }
      const r = await iterator.next();
      if (r.done) return null;
      return typeof r.value === 'string' ? Buffer.from(r.value, 'latin1') : r.value;
    };

    const prefix = new Prefix();
    const scanner = new HeaderScanner(this.limits.maxHeaderBytes);
    let scan: ReturnType<HeaderScanner['scan']> = 'more';
    let ended = false;
    while (scan === 'more') {
      const chunk = await next();
      if (chunk === null) {
        ended = true;
        break;
      }
      prefix.append(chunk);
      scan = scanner.scan(prefix.view());
    }
    let head = prefix.view();
    if (scan === 'more' && ended && head.length > 0 && headerStart(head, true) === 'body') scan = 'headerless';
    if (scan === 'complete' && findHeaderEnd(head) > this.limits.maxHeaderBytes) scan = 'too-large';
    if (scan === 'too-large') {
      // Keep the complete lines that fit under the cap; the body is not parsed.
      const cut = head.lastIndexOf(0x0a, this.limits.maxHeaderBytes);
      this.block = parseHeaderBlock(head.subarray(0, cut > 0 ? cut + 1 : 0));
      this.fail(`header block larger than ${this.limits.maxHeaderBytes} bytes`);
      return;
    }
    this.block = parseHeaderBlock(head);
    if (this.block.damage.length > 0) {
      this.repaired = `header block repaired (${this.block.damage.join('; ')}): its fields were recovered`;
      head = rewriteHeaderBlock(head, this.block);
    }
    if (head.length === 0 && ended) {
      this.fail('empty message');
      return;
    }
    if (this.block.headerless) this.fail('message has no header fields');

    const startLimit = (this.block?.length ?? 0) + START_BYTES;
    const bodyStart = findHeaderEnd(head);
    if (
      iterator === null &&
      scan === 'complete' &&
      this.block.damage.length === 0 &&
      this.block.headers.length > 0 &&
      head.length - bodyStart <= SINGLE_PART_MAX
    ) {
      // A message in memory that is one plain text part: read as mailparser would, without its streams.
      // Whatever it cannot read is left to mailparser, which reports it.
      const text = await singlePartText(head, bodyStart, TEXT_BYTES_PER_PART).catch(() => null);
      if (text !== null) {
        this.start.append(head.subarray(0, startLimit));
        this.root = { contentType: 'text/plain', isAttachment: false, textContent: text, headers: new Map() };
        return;
      }
    }

    const parser = new BoundedMailParser({
      maxMimeDepth: this.limits.maxMimeDepth,
      maxParts: this.limits.maxParts,
      maxHeaderBytes: this.limits.maxHeaderBytes,
      textBytesPerPart: TEXT_BYTES_PER_PART,
      textBytesTotal: TEXT_BYTES_TOTAL,
      onLimit: (reason) => this.fail(reason),
    });
    this.parser = parser;
    const pending: Array<Promise<void>> = [];
    let parserFailed = false;
    const done = new Promise<void>((resolve) => {
      parser.on('data', (data: { type: string }) => {
        if (data.type !== 'attachment') return;
        const att = data as unknown as StreamedAttachment & { headers: object };
        const info: PartInfo = parser.partInfo(att.headers) ?? {
          contentType: 'application/octet-stream',
          disposition: null,
          filename: null,
          contentId: null,
          charset: null,
        };
        const keep = KEPT_TYPES.test(info.contentType) && this.kept.length < KEPT_PARTS ? KEPT_BYTES_PER_PART : 0;
        pending.push(
          consumeAttachment(att, info, keep).then(({ attachment, head }) => {
            if (this.attachments.length < this.limits.maxParts) this.attachments.push(attachment);
            if (head !== null && this.kept.length < KEPT_PARTS)
              this.kept.push({ contentType: info.contentType, text: this.keptText(head, info) });
          }),
        );
      });
      parser.once('end', resolve);
      parser.once('close', resolve);
      parser.once('error', (err: unknown) => {
        parserFailed = true;
        this.fail(`mailparser: ${short(err)}`);
        resolve();
      });
    });
    // mailparser can emit more than one error (and late ones, after 'end'): none may become an uncaught exception.
    parser.on('error', () => undefined);

    const write = async (chunk: Buffer): Promise<void> => {
      if (this.start.length < startLimit) this.start.append(chunk.subarray(0, startLimit - this.start.length));
      if (parser.write(chunk)) return;
      await new Promise<void>((resolve) => {
        const go = (): void => {
          parser.off('drain', go);
          parser.off('error', go);
          parser.off('close', go);
          resolve();
        };
        parser.on('drain', go);
        parser.on('error', go);
        parser.on('close', go);
      });
    };
    const stopped = (): boolean => parserFailed || parser.limitHit !== null || parser.destroyed;

    // A headerless message is fed as a body: a blank line first, so that its first paragraph is not read as headers.
    if (scan === 'headerless') await write(Buffer.from('\r\n'));
    if (head.length > 0) await write(head);
    while (!ended && !stopped()) {
      const chunk = await next();
      if (chunk === null) {
        ended = true;
        break;
      }
      await write(chunk);
    }
    if (!parserFailed && !parser.destroyed) parser.end();
    await done;
    if (!parserFailed) await Promise.all(pending);
  }

  keptText(head: Buffer, info: PartInfo): string {
    // Header and report parts are ASCII or RFC 6532 UTF-8; text files carry their own charset.
    try {
      return decodeBytes(
        head,
        info.contentType.startsWith('text/') && !info.contentType.endsWith('rfc822-headers') ? info.charset : 'utf-8',
      );
    } catch {
      return head.toString('latin1');
    }
  }

  /** The parts read as text (not attachments, not blank), in tree order: once per message, for both readers below. */
  #textNodes: TreeNode[] | null = null;
  textNodes(): TreeNode[] {
    if (this.#textNodes !== null) return this.#textNodes;
    const out: TreeNode[] = [];
    const walk = (node: TreeNode | undefined, depth: number): void => {
      if (!node || depth > 200) return;
      if (typeof node.textContent === 'string' && !node.isAttachment && /\S/.test(node.textContent)) out.push(node);
      for (const child of node.children ?? []) walk(child, depth + 1);
    };
    walk(this.parser?.root ?? this.root ?? undefined, 0);
    this.#textNodes = out;
    return out;
  }

  /** Every text part read as text (body, report parts), in order, then the kept attachments: what the bounce reader sees. */
  bounceParts(headers: HeaderMap): BouncePart[] {
    const out = this.textNodes().map((node): BouncePart => {
      const type = node.contentType ?? 'text/plain';
      const text = node.textContent!;
      return { contentType: type, text: type === 'text/html' ? htmlToPlain(text) : text };
    });
    let preamble: string | null = null;
    try {
      preamble = multipartPreamble(this.start.view(), headers.text('content-type'));
    } catch {
      // a preamble we cannot read adds nothing
    }
    return [...(preamble === null ? [] : [{ contentType: 'text/plain', text: preamble }]), ...out, ...this.kept];
  }

  texts(): { plain: string | null; html: string | null; other: string | null } {
    let plain: string | null = null;
    let html: string | null = null;
    let other: string | null = null;
    for (const node of this.textNodes()) {
      if (node.contentType === 'text/html') html ??= node.textContent!;
      else if (node.contentType === 'text/plain' || node.contentType === undefined) plain ??= node.textContent!;
      else other ??= node.textContent!;
    }
    return { plain, html, other };
  }

  result(): ParsedMessage {
    let fields = EMPTY_FIELDS;
    let flags = { autoReply: false, bounce: false, list: false, bulk: false, spam: false, oversized: false };
    let bounce: Bounce | null = null;
    let snippet = '';
    try {
      const headers = new HeaderMap(this.block?.headers ?? []);
      fields = headerFields(headers);
      try {
        bounce = readBounce({ headers, fields, parts: this.bounceParts(headers) });
      } catch (err) {
        this.fail(`bounce: ${short(err)}`);
      }
      flags = classify(headers, fields, bounce !== null);
    } catch (err) {
      this.fail(`headers: ${short(err)}`);
    }
    try {
      const { plain, html, other } = this.texts();
      const text = plain ?? (html !== null ? htmlToPlain(html) : other) ?? '';
      snippet = makeSnippet(text, this.limits.snippetChars);
    } catch (err) {
      this.fail(`snippet: ${short(err)}`);
    }
    return {
      ...fields,
      attachments: [...this.attachments],
      snippet,
      flags,
      ...(bounce === null ? {} : { bounce }),
      parseError: this.error ?? this.repaired,
    };
  }
}

/**
 * Parses a raw message into the metadata the pipeline publishes. Never throws or rejects: whatever cannot be
 * read is null or empty and `parseError` says why. Always consumes or destroys `source` (a message already in
 * memory may be given as a Buffer, read as it stands), and gives up after `timeoutMs`.
 */
export async function parseMessage(source: Readable | Buffer, limits?: ParseLimits): Promise<ParsedMessage> {
  const run = new ParseRun(source, limitsOf(limits));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      run.fail(`parsing timed out after ${run.limits.timeoutMs} ms`);
      resolve();
    }, run.limits.timeoutMs);
  });
  try {
    await Promise.race([run.run().catch((err: unknown) => run.fail(`read failed: ${short(err)}`)), timeout]);
  } finally {
    clearTimeout(timer);
    if (!Buffer.isBuffer(source) && !source.destroyed) source.destroy();
    if (run.parser && !run.parser.destroyed) run.parser.destroy();
  }
  return run.result();
}
