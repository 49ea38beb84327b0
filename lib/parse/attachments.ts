import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Attachment } from '../document/metadata-schema.ts';
import { HeaderMap, parseHeaderBlock } from './header-block.ts';
import { cleanDisplay, decodeRawHeader } from './decode-headers.ts';
import { messageIds } from './header-fields.ts';
import { parseMimeValue } from './mime-params.ts';

/** What we read from one MIME part's own header lines (raw bytes, decoded our way). */
export interface PartInfo {
  readonly contentType: string;
  readonly disposition: string | null;
  readonly filename: string | null;
  readonly contentId: string | null;
  /** The charset parameter, for text parts whose content is kept (see consumeAttachment). */
  readonly charset: string | null;
}

/** mailsplit hands part header lines over as latin1 ("binary") strings: the bytes survive intact. */
export function partInfo(lines: ReadonlyArray<{ line: string }>): PartInfo {
  const block = Buffer.from(`${lines.map((l) => l.line).join('\r\n')}\r\n\r\n`, 'latin1');
  const h = new HeaderMap(parseHeaderBlock(block).headers);
  const read = (name: string) => {
    const raw = h.first(name);
    return raw === null ? null : parseMimeValue(decodeRawHeader(raw));
  };
  const type = read('content-type');
  const disposition = read('content-disposition');
  // RFC 2557 Content-Location names an unnamed part (Apple Mail sends inline images that way): its last segment.
  const location =
    h
      .text('content-location')
      ?.trim()
      .replace(/^["']|["']$/g, '')
      .split(/[/\\]/)
      .pop()
      ?.replace(/[?#].*$/, '') || null;
  const name = disposition?.params.get('filename') ?? type?.params.get('name') ?? location;
  const filename = name === null ? null : cleanDisplay(name).trim() || null;
  const cid = h.text('content-id');
  const ids = cid === null ? [] : messageIds(cid);
  return {
    contentType: type?.value && /^[^\s/]+\/[^\s/]+$/.test(type.value) ? type.value : 'application/octet-stream',
    disposition: disposition?.value || null,
    filename,
    contentId: ids[0] ?? (cid?.trim() ? `<${cid.trim().replace(/^<|>$/g, '')}>` : null),
    charset: type?.params.get('charset') ?? null,
  };
}

/** The part of mailparser's attachment object we use. */
export interface StreamedAttachment {
  content: Readable;
  release: (() => void) | null;
  related?: boolean;
}

export interface ConsumedAttachment {
  readonly attachment: Attachment;
  /** The first `keep` bytes of the decoded content, when asked for (a bounce's report or returned headers). */
  readonly head: Buffer | null;
}

/**
 * Hashes the decoded content as it streams and forgets it: only size, SHA-256 and at most `keep` leading bytes
 * are kept. Always releases the attachment (mailparser waits for release() before it reads on), also when the
 * content stream fails.
 */
export function consumeAttachment(att: StreamedAttachment, info: PartInfo, keep = 0): Promise<ConsumedAttachment> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let size = 0;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      att.release?.();
      const attachment: Attachment = {
        filename: info.filename,
        contentType: info.contentType,
        size,
        sha256: hash.digest('hex'),
        contentId: info.contentId,
        inline: info.disposition === 'inline' || (info.disposition === null && info.contentId !== null && att.related === true),
      };
      resolve({ attachment, head: keep > 0 ? Buffer.concat(kept) : null });
    };
    att.content.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
      if (keptBytes < keep) {
        const slice = chunk.subarray(0, keep - keptBytes);
        kept.push(Buffer.from(slice));
        keptBytes += slice.length;
      }
    });
    att.content.once('end', finish);
    att.content.once('error', finish);
    att.content.once('close', finish);
  });
}
