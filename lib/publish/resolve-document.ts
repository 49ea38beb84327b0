import { createHash } from 'node:crypto';
import { metadataDocumentSchema } from '../document/metadata-schema.ts';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { CodedError } from '../coded-error.ts';
import { claimCheckMessageSchema } from './claim-check.ts';

/**
 * | code      | meaning                                                                   |
 * |-----------|---------------------------------------------------------------------------|
 * | EINVALID  | the body is neither a metadata document nor a claim check of one           |
 * | ENOTFOUND | the claim check points at an object that is not there                      |
 * | EVERIFY   | the claimed object is not what the pointer says (size, SHA-256, id)        |
 */
export type ResolveErrorCode = 'EINVALID' | 'ENOTFOUND' | 'EVERIFY';

export class ResolveDocumentError extends CodedError<ResolveErrorCode> {
  constructor(code: ResolveErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super('ResolveDocumentError', code, message, { ...options, failureClass: code === 'EINVALID' ? 'publish' : 'storage' });
  }
}

export interface ResolveDeps {
  /** Reads a claimed object, null when absent: an S3 GetObject, or `RawStore.getObject`. */
  getObject(key: string, bucket?: string): Promise<Buffer | null>;
}

/**
 * For consumers of the fan-out queues: turns an SQS message body into the metadata document, whether the
 * document came inline or as a claim check. A claimed document is checked against the pointer's size and
 * SHA-256 before it is trusted, and every document is validated against the schema.
 */
export async function resolveDocument(body: string, deps: ResolveDeps): Promise<MetadataDocument> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new ResolveDocumentError('EINVALID', 'message body is not JSON', { cause: err });
  }
  if (json === null || typeof json !== 'object' || !Object.hasOwn(json, 'claimCheck')) return validate(json, 'message body');

  const pointer = claimCheckMessageSchema.safeParse(json);
  if (!pointer.success)
    throw new ResolveDocumentError('EINVALID', `malformed claim check: ${pointer.error.issues[0]?.message ?? 'invalid'}`);
  const { bucket, key, sha256, size } = pointer.data.claimCheck;
  const where = bucket === undefined ? key : `${bucket}/${key}`;
  const stored = await deps.getObject(key, bucket);
  if (stored === null) throw new ResolveDocumentError('ENOTFOUND', `claimed document ${where} not found`);
  const actual = createHash('sha256').update(stored).digest('hex');
  if (stored.length !== size || actual !== sha256) {
    throw new ResolveDocumentError(
      'EVERIFY',
      `claimed document ${where} is ${stored.length} bytes sha256 ${actual}, the claim check says ${size} bytes sha256 ${sha256}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(stored.toString('utf8'));
  } catch (err) {
    throw new ResolveDocumentError('EVERIFY', `claimed document ${where} is not JSON`, { cause: err });
  }
  const resolved = validate(doc, `claimed document ${where}`);
  if (resolved.id !== pointer.data.id || resolved.mailbox !== pointer.data.mailbox) {
    throw new ResolveDocumentError('EVERIFY', `claimed document ${where} has id ${resolved.id}, the claim check says ${pointer.data.id}`);
  }
  return resolved;
}

function validate(json: unknown, what: string): MetadataDocument {
  const parsed = metadataDocumentSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ResolveDocumentError(
      'EINVALID',
      `${what} is not a metadata document: ${issue === undefined ? 'invalid' : `${issue.path.join('.')}: ${issue.message}`}`,
    );
  }
  return parsed.data;
}
