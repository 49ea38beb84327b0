import { Transform, type TransformCallback } from 'node:stream';
import { MailParser } from 'mailparser';
import { decodeBytes, utf8AsIs } from './charset.ts';
import { partInfo, type PartInfo } from './attachments.ts';
import { listNamedTextAsAttachments } from './attachment-rule.ts';

/**
 * mailparser's streaming MailParser with the limits and the decoding this project needs. It hooks two members
 * mailparser marks @internal (checked by the tests in test/ingest/parse-limits.test.ts, so an upgrade that
 * changes them fails loudly rather than silently):
 *
 * - `createNode`: list named text parts as attachments (attachment-rule.ts); count parts and MIME depth (mailsplit itself caps only the part count, at 1000, with an error
 *   that loses everything); read each part's own header lines for the file name (raw bytes, RFC 2231, our
 *   charsets); cap how much of each text body is kept, since mailparser keeps every text part whole in memory
 *   and only the snippet needs it.
 * - `processHeaders`: decode only the few fields read from its header maps (DECODED_FIELDS).
 * - `decoder.decodeStream`: every text part goes through our charset decoding (CP932 for all Shift_JIS labels,
 *   CP50220 for ISO-2022-JP, detection for missing, unknown or wrong labels), including the ones mailparser
 *   would pass through as UTF-8 unchecked.
 */

export interface BoundedParserOptions {
  readonly maxMimeDepth: number;
  readonly maxParts: number;
  readonly maxHeaderBytes: number;
  /** Bytes of decoded text kept per text part. */
  readonly textBytesPerPart: number;
  /** Bytes of decoded text kept over all text parts. */
  readonly textBytesTotal: number;
  /** Called once, when a limit is crossed; the caller stops feeding the parser and ends it. */
  readonly onLimit: (reason: string) => void;
}

/** Minimal views of mailsplit's and mailparser's internal node objects. */
interface SplitNode {
  parentNode?: SplitNode | false | null;
  headers?: { getList(): Array<{ key: string; line: string }> };
}
export interface TreeNode {
  contentType?: string;
  isAttachment?: boolean;
  decoder?: Transform;
  charset?: string;
  textContent?: string;
  headers: Map<string, unknown>;
  children?: TreeNode[];
}
interface Internals {
  createNode(data: SplitNode): TreeNode;
  processHeaders(lines: ReadonlyArray<{ key: string; line: string }> | undefined): Map<string, unknown>;
  decoder: { decodeStream(charset: string): Transform };
  tree: TreeNode | false;
}

const MARK = 'x-mail-ingest;';

/**
 * The header fields this parser reads from mailparser's decoded header maps. mailparser decodes every field of
 * every part (addresses parsed, encoded words decoded, dates read) for its 'headers' event and its message-level
 * fields; nothing here reads those (lib/parse/header-block.ts reads the message's headers, partInfo each part's
 * raw lines), and for a short message that decoding was a fifth of the parse. What mailparser itself still looks
 * up in a part's map is content-id (whether an inline part is related); the part structure comes from mailsplit.
 */
const DECODED_FIELDS = new Set(['content-type', 'content-disposition', 'content-id', 'content-transfer-encoding']);

/** Collects a (capped) text body and decodes it in one go at the end: ISO-2022-JP needs its escape state. */
class TextDecodeStream extends Transform {
  readonly charset: string;
  readonly chunks: Buffer[] = [];

  constructor(charset: string) {
    super();
    this.charset = charset;
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, done: TransformCallback): void {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    done(null, decodeTextPart(Buffer.concat(this.chunks), this.charset));
  }
}

/** A text part's bytes (transfer encoding undone) as UTF-8, decoded from `charset` the way every text part is. */
export function decodeTextPart(bytes: Buffer, charset: string): Buffer {
  // Most text is UTF-8 or ASCII already: decoded and encoded again it would be these very bytes.
  if (utf8AsIs(bytes, charset)) return bytes;
  let text: string;
  try {
    text = decodeBytes(bytes, charset);
  } catch {
    text = bytes.toString('utf8');
  }
  return Buffer.from(text, 'utf8');
}

export class BoundedMailParser extends MailParser {
  /**
   * Each part's own header lines by the part's processed header map (mailparser passes that map on with each
   * attachment): read into a PartInfo only for the parts that turn out to be attachments.
   */
  readonly #partLines = new WeakMap<object, ReadonlyArray<{ key: string; line: string }>>();
  partCount = 0;
  limitHit: string | null = null;

  constructor(options: BoundedParserOptions) {
    super({
      checksumAlgo: false, // we hash with SHA-256 ourselves, md5 would be wasted work
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
      // An attached message is archived as one attachment (its hash identifies the forwarded mail) rather than
      // parsed into: its own parts would otherwise mix into this message's attachments and snippet.
      ignoreEmbedded: true,
      // mailsplit's own caps stay as a backstop above ours: hitting them is an error that loses the text parsed so far.
      maxHeadSize: Math.max(options.maxHeaderBytes * 4, 1024 * 1024),
      maxChildNodes: options.maxParts + 1000,
    } as ConstructorParameters<typeof MailParser>[0]);
    const self = listNamedTextAsAttachments(this) as unknown as Internals;
    const createNode = self.createNode.bind(this);
    const processHeaders = self.processHeaders.bind(this);
    self.processHeaders = (lines) => processHeaders((lines ?? []).filter((l) => DECODED_FIELDS.has(l.key)));
    let textKept = 0;
    const hit = (reason: string): void => {
      if (this.limitHit !== null) return;
      this.limitHit = reason;
      options.onLimit(reason);
    };
    self.createNode = (data: SplitNode): TreeNode => {
      const node = createNode(data);
      this.partCount++;
      let depth = 0;
      for (let p = data.parentNode; p; p = p.parentNode) depth++;
      if (depth > options.maxMimeDepth) hit(`MIME nesting deeper than ${options.maxMimeDepth}`);
      if (this.partCount > options.maxParts) hit(`more than ${options.maxParts} MIME parts`);
      try {
        this.#partLines.set(node.headers, [...(data.headers?.getList() ?? [])]);
      } catch {
        // a part whose headers we cannot read is reported with mailparser's view only
      }
      const decoder = node.decoder;
      if (decoder) {
        // mailparser ends a part's decoder at the part's end and again at the message's: the second end() builds
        // an ERR_STREAM_ALREADY_FINISHED (a stack trace per message) that nothing reads.
        const end = decoder.end.bind(decoder);
        decoder.end = ((...args: unknown[]) =>
          args.length === 0 && decoder.writableEnded ? decoder : (end as (...a: unknown[]) => Transform)(...args)) as Transform['end'];
      }
      if (decoder && !node.isAttachment) {
        let keptHere = 0;
        const push = decoder.push.bind(decoder);
        // Discarding past the cap keeps the decoder draining, so the parser still reads through the part.
        decoder.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
          if (chunk === null || chunk === undefined) return push(chunk, encoding);
          const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Buffer);
          const room = Math.min(options.textBytesPerPart - keptHere, options.textBytesTotal - textKept);
          if (room <= 0) return true;
          const slice = buf.length > room ? buf.subarray(0, room) : buf;
          keptHere += slice.length;
          textKept += slice.length;
          return push(slice);
        };
        node.charset = MARK + (node.charset ?? '');
      }
      return node;
    };
    self.decoder = {
      decodeStream: (charset: string) => new TextDecodeStream(charset.startsWith(MARK) ? charset.slice(MARK.length) : charset),
    };
  }

  /** What a part's own header lines say, given the header map mailparser hands on with an attachment. */
  partInfo(headers: object): PartInfo | undefined {
    const lines = this.#partLines.get(headers);
    if (lines === undefined) return undefined;
    try {
      return partInfo(lines);
    } catch {
      return undefined; // a part whose headers we cannot read is reported with mailparser's view only
    }
  }

  /** The parsed node tree (text parts carry `textContent` once they have ended). */
  get root(): TreeNode | null {
    return (this as unknown as Internals).tree || null;
  }
}
