import type { S3Client } from '@aws-sdk/client-s3';
import { metadataDocumentSchema } from '../document/metadata-schema.ts';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import { decodePack, isLegacyDocumentName, isPackName, orderPartitionNames } from './document-packs.ts';
import { assertMailboxId, parseRawKey } from './keys.ts';
import { ARCHIVE_LAYOUT } from './layout.ts';
import type { DocumentIo } from './metadata-buffer.ts';
import { PackedDocuments } from './packed-documents.ts';
import { listObjectPages } from './s3-client.ts';
import { StoreError } from './types.ts';
import type { MetadataQuery } from './types.ts';

/** Document objects fetched ahead while listing, in order. */
const LIST_PREFETCH = 8;

/** What the documents need from their store. Keys given to these functions are full object keys. */
export interface S3DocumentsContext {
  readonly client: S3Client;
  readonly bucket: string;
  /** Full object key of a store key. */
  objectKey(key: string): string;
  put(
    objectKey: string,
    body: Buffer,
    contentType: string,
    options: { readonly metadata?: Record<string, string>; readonly ifNoneMatch?: boolean },
  ): Promise<void>;
  get(objectKey: string): Promise<Buffer | null>;
  readonly listPageSize?: number;
}

/** The metadata documents of the S3 store: packs and legacy objects beside the raw messages (lib/store/document-packs.ts). */
export class S3Documents extends PackedDocuments implements DocumentIo {
  readonly #ctx: S3DocumentsContext;

  constructor(ctx: S3DocumentsContext) {
    super();
    this.#ctx = ctx;
  }

  async writePack(partition: string, name: string, body: Buffer): Promise<void> {
    const parsed = parseRawKey(`${partition}${'0'.repeat(64)}.eml`);
    await this.#ctx.put(`${partition}${name}`, body, 'application/x-ndjson', {
      // The name is new: a conditional create makes sure no earlier pack is ever replaced.
      ifNoneMatch: true,
      ...(parsed === null ? {} : { metadata: { mailbox: parsed.mailbox } }),
    });
  }

  get(rawKey: string, id?: string): Promise<MetadataDocument | null> {
    return this.find(this.#ctx.objectKey(rawKey), id);
  }

  /**
   * Walks `raw/<mailbox>/` with ListObjectsV2 (mailboxes in key order, then date partitions oldest first, as the
   * fs store walks its folders); in each partition the legacy documents, then the packs in the order written, each
   * id once. `since` starts each mailbox's listing after the partitions before that day.
   */
  async *list(query: MetadataQuery = {}): AsyncIterable<MetadataDocument> {
    const since =
      query.since === undefined
        ? null
        : new Date(Date.UTC(query.since.getUTCFullYear(), query.since.getUTCMonth(), query.since.getUTCDate()));
    const mailboxes = query.mailbox === undefined ? await this.#listMailboxes() : [query.mailbox];
    for (const mailbox of mailboxes) {
      assertMailboxId(mailbox);
      const base = `${this.#ctx.objectKey(`${ARCHIVE_LAYOUT.raw}${mailbox}`)}/`;
      const startAfter =
        since === null
          ? undefined
          : // Everything in the partition of `since` sorts after its folder name without the trailing slash.
            `${base}${String(since.getUTCFullYear()).padStart(4, '0')}/${String(since.getUTCMonth() + 1).padStart(2, '0')}/${String(since.getUTCDate()).padStart(2, '0')}`;
      let partition: string | null = null;
      let names: string[] = [];
      for await (const key of this.#listKeys(base, startAfter)) {
        const slash = key.lastIndexOf('/');
        const name = key.slice(slash + 1);
        if (!isPackName(name) && !isLegacyDocumentName(name)) continue;
        const here = key.slice(0, slash + 1);
        const parsed = parseRawKey(`${here}${'0'.repeat(64)}.eml`);
        if (parsed === null || parsed.mailbox !== mailbox) continue;
        if (since !== null && parsed.date.getTime() < since.getTime()) continue;
        if (here !== partition) {
          if (partition !== null) yield* this.#readPartition(partition, names, query.onDamaged);
          partition = here;
          names = [];
        }
        names.push(name);
      }
      if (partition !== null) yield* this.#readPartition(partition, names, query.onDamaged);
    }
  }

  async *#readPartition(
    partition: string,
    names: readonly string[],
    onDamaged: MetadataQuery['onDamaged'],
  ): AsyncIterable<MetadataDocument> {
    const { legacy, packs } = orderPartitionNames(names);
    const legacyRead = async (key: string): Promise<MetadataDocument[]> => {
      try {
        const doc = await this.readLegacy(key);
        return doc === null ? [] : [doc];
      } catch (err) {
        if (onDamaged === undefined || !isDamage(err)) throw err;
        onDamaged(key, err.message);
        return [];
      }
    };
    const reads = [
      ...legacy.map((n) => () => legacyRead(`${partition}${n}`)),
      ...packs.map((n) => () => this.readPack(`${partition}${n}`, onDamaged)),
    ];
    const pending: Array<Promise<MetadataDocument[]>> = [];
    const seen = new Set<string>();
    let next = 0;
    const refill = (): void => {
      while (next < reads.length && pending.length < LIST_PREFETCH) {
        const p = reads[next++]!();
        // A consumer that stops early leaves prefetched reads behind: they must not become unhandled rejections.
        p.catch(() => undefined);
        pending.push(p);
      }
    };
    refill();
    while (pending.length > 0) {
      const docs = await pending.shift()!;
      refill();
      for (const doc of docs) {
        if (seen.has(doc.id)) continue;
        seen.add(doc.id);
        yield doc;
      }
    }
  }

  protected async readLegacy(objectKey: string): Promise<MetadataDocument | null> {
    const body = await this.#ctx.get(objectKey);
    if (body === null) return null;
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new StoreError('EVERIFY', `metadata at ${objectKey} is not JSON`, { cause: err, retryable: false });
    }
    return validate(objectKey, json);
  }

  /**
   * Every line must be a valid document: a damaged pack is refused (EVERIFY), not skipped in silence; or, given
   * `onDamaged` (a listing that goes on past damage), each line that is not one is reported there and left out.
   */
  protected async readPack(objectKey: string, onDamaged?: MetadataQuery['onDamaged']): Promise<MetadataDocument[]> {
    const body = await this.#ctx.get(objectKey);
    if (body === null) return [];
    const values = decodePack(body, (line, err) => {
      if (onDamaged === undefined) {
        throw new StoreError('EVERIFY', `metadata pack ${objectKey} line ${line} is not JSON`, { cause: err, retryable: false });
      }
      onDamaged(`${objectKey} line ${line}`, 'not JSON');
    });
    const out: MetadataDocument[] = [];
    values.forEach((v, i) => {
      const where = `${objectKey} (document ${i + 1})`;
      if (onDamaged === undefined) {
        out.push(validate(where, v));
        return;
      }
      const parsed = metadataDocumentSchema.safeParse(v);
      if (parsed.success) out.push(parsed.data);
      else onDamaged(where, `not a valid document: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    });
    return out;
  }

  /** Names in one partition (all of them, or those starting with `startsWith`). */
  protected async names(partition: string, startsWith = ''): Promise<string[]> {
    const out: string[] = [];
    for await (const key of this.#listKeys(`${partition}${startsWith}`, undefined)) out.push(key.slice(partition.length));
    return out.filter((n) => !n.includes('/'));
  }

  async #listMailboxes(): Promise<string[]> {
    const base = `${this.#ctx.objectKey(ARCHIVE_LAYOUT.raw.slice(0, -1))}/`;
    const out: string[] = [];
    for await (const res of listObjectPages(this.#ctx.client, {
      Bucket: this.#ctx.bucket,
      Prefix: base,
      Delimiter: '/',
      MaxKeys: this.#ctx.listPageSize,
    })) {
      for (const p of res.CommonPrefixes ?? []) {
        const name = p.Prefix?.slice(base.length, -1);
        if (name !== undefined && name !== '') out.push(name);
      }
    }
    return out.sort();
  }

  async *#listKeys(prefix: string, startAfter: string | undefined): AsyncIterable<string> {
    const pages = listObjectPages(this.#ctx.client, {
      Bucket: this.#ctx.bucket,
      Prefix: prefix,
      MaxKeys: this.#ctx.listPageSize,
      ...(startAfter === undefined ? {} : { StartAfter: startAfter }),
    });
    for await (const res of pages) for (const o of res.Contents ?? []) if (o.Key !== undefined) yield o.Key;
  }
}

/** A document that is there but cannot be read: EVERIFY, never retryable (a failed request is not damage). */
function isDamage(err: unknown): err is StoreError {
  return err instanceof StoreError && err.code === 'EVERIFY' && !err.retryable;
}

function validate(where: string, json: unknown): MetadataDocument {
  const parsed = metadataDocumentSchema.safeParse(json);
  if (!parsed.success)
    throw new StoreError('EVERIFY', `metadata at ${where} is not a valid document: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
      retryable: false,
    });
  return parsed.data;
}
