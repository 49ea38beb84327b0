import { extractAttachments } from '../../lib/processors/attachments.ts';
import type { RawOpener } from '../../lib/processors/object-store.ts';
import { s3RawOpener } from '../../lib/processors/s3-object-store.ts';
import { createProcessorHandler } from '../commons/processor-handler.ts';

let openRaw: RawOpener;

/**
 * Attachment extraction: re-parses each raw message streamed from the archive and stores its attachments by
 * sha256 under OUTPUT_PREFIX/attachments/, with a manifest per document. Memory: the largest attachment.
 */
export const handler = createProcessorHandler({
  setup: (env) => {
    openRaw = s3RawOpener(env.s3, env.archiveBucket);
  },
  process: (doc, env) => extractAttachments(doc, openRaw, env.output),
});
