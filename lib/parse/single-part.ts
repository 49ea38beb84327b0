import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mailsplit from '@zone-eu/mailsplit';
import { decodeTextPart } from './bounded-mail-parser.ts';

/**
 * The text of a message that is one text/plain part, read without mailparser's stream graph. Most mail a business
 * system sends (notifications, orders, much Japanese business mail) is one plain part; for it mailparser builds a
 * splitter, a parser and three streams and looks at every line, about three quarters of a small message's parse.
 *
 * The same code decides what the message is: mailsplit's own MimeNode reads the header block (the first
 * Content-Type, its charset, format and name, the transfer encoding, the disposition), and the part's transfer
 * encoding is undone by the decoder mailsplit would pick. What follows is what mailparser and BoundedMailParser do
 * with a text part: keep the first `maxBytes` decoded bytes, decode the charset with TextDecodeStream's own
 * decodeTextPart, and normalize line ends as mailparser does. Anything else (multipart, an attached message, format=flowed, a named
 * or disposed part, another type or transfer encoding) returns null and goes through mailparser.
 * test/parse/single-part.test.ts checks the two paths agree on the corpus and on generated variants.
 */

const TRANSFER_ENCODINGS = new Set(['', '7bit', '8bit', 'binary', 'base64', 'quoted-printable']);

interface RootNode {
  contentType: string | false;
  charset: string | false;
  encoding: string | false;
  disposition: string | false;
  filename: string | false;
  multipart: string | false;
  flowed: boolean;
  addHeaderChunk(line: Buffer): boolean;
  parseHeaders(): void;
  getDecoder(): NodeJS.ReadWriteStream;
}

/** Lines of `block` with their line ends, as mailsplit's splitter hands them to a node. */
function* lines(block: Buffer): Generator<Buffer> {
  for (let start = 0; start < block.length; ) {
    const nl = block.indexOf(0x0a, start);
    const end = nl < 0 ? block.length : nl + 1;
    yield block.subarray(start, end);
    start = end;
  }
}

/** The root node of `message` as mailsplit reads its header block, which ends at `bodyStart` (its blank line included). */
function rootNode(message: Buffer, bodyStart: number): RootNode {
  const node = new mailsplit.MimeNode(false, {}) as unknown as RootNode;
  for (const line of lines(message.subarray(0, bodyStart))) node.addHeaderChunk(line);
  node.parseHeaders();
  return node;
}

function eligible(node: RootNode): boolean {
  return (
    node.contentType === 'text/plain' &&
    !node.multipart &&
    !node.flowed &&
    !node.disposition &&
    !node.filename &&
    TRANSFER_ENCODINGS.has(node.encoding || '')
  );
}

async function undoTransferEncoding(node: RootNode, body: Buffer): Promise<Buffer> {
  if (node.encoding !== 'base64' && node.encoding !== 'quoted-printable') return body;
  const chunks: Buffer[] = [];
  await pipeline(
    [body],
    node.getDecoder(),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(chunks);
}

/**
 * The text mailparser would give the part, or null when the message is not one plain text part. `bodyStart` is
 * where the body begins (past the blank line); `maxBytes` caps the decoded bytes kept, as BoundedMailParser does.
 */
export async function singlePartText(message: Buffer, bodyStart: number, maxBytes: number): Promise<string | null> {
  const node = rootNode(message, bodyStart);
  if (!eligible(node)) return null;
  const decoded = await undoTransferEncoding(node, message.subarray(bodyStart));
  const bytes = decoded.length > maxBytes ? decoded.subarray(0, maxBytes) : decoded;
  return decodeTextPart(bytes, node.charset || '')
    .toString()
    .replace(/\r?\n/g, '\n');
}
