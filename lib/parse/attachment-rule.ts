/**
 * Which parts a mail client lists as attachments. mailparser lists every part that is not text/plain or
 * text/html, and a text part only when its disposition is not inline; Thunderbird, Apple Mail and Outlook also
 * list a text part that carries a file name (`Content-Type: text/plain; name=Makefile`, a bounce's
 * `deliveryproblems.txt`), inline or not. An inline text part without a name stays the message body.
 *
 * Both the ingest parser and the attachment-extraction processor apply this rule, so a file the document lists
 * is a file the processor extracts.
 */

/** The mailsplit node fields the rule reads (mailsplit fills them from the part's own header lines). */
export interface SplitPart {
  readonly contentType?: string | false;
  readonly disposition?: string | false;
  readonly filename?: string | false;
}

/** mailparser's node object, as far as the rule touches it. */
export interface ParserNode {
  contentType?: string;
  isAttachment?: boolean;
}

export function isNamedTextFile(part: SplitPart): boolean {
  const type = typeof part.contentType === 'string' ? part.contentType.toLowerCase() : 'text/plain';
  if (!type.startsWith('text/')) return false;
  const disposition = typeof part.disposition === 'string' ? part.disposition.toLowerCase() : '';
  return disposition === 'attachment' || (typeof part.filename === 'string' && part.filename.trim() !== '');
}

interface NodeFactory {
  createNode(data: SplitPart): ParserNode;
}

/**
 * Hooks mailparser's `createNode` (an @internal member; test/parse/real-world.test.ts fails loudly if an
 * upgrade changes it) so that named text parts stream out as attachments instead of text.
 */
export function listNamedTextAsAttachments<T extends object>(parser: T): T {
  const self = parser as unknown as NodeFactory;
  const createNode = self.createNode.bind(parser);
  self.createNode = (data: SplitPart): ParserNode => {
    const node = createNode(data);
    // The root of a multipart message is no part: only leaf parts can become attachments.
    if (!node.isAttachment && typeof node.contentType === 'string' && !node.contentType.startsWith('multipart/') && isNamedTextFile(data)) {
      node.isAttachment = true;
    }
    return node;
  };
  return parser;
}
