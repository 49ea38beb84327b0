import type { MetadataDocument } from '../document/metadata-schema.ts';
import { orderPartitionNames } from './document-packs.ts';
import { metadataKeyFor } from './keys.ts';
import type { DocumentIo, PartitionIndex } from './metadata-buffer.ts';
import { StoreError, type MetadataQuery } from './types.ts';

/** Packs read by getMetadata, kept parsed: packs never change once written. */
const PACKS_CACHED = 64;

/**
 * What the fs and S3 stores' documents have in common (lib/store/document-packs.ts): each partition holds legacy
 * `<sha256>.json` documents and packs, and a document is looked up the same way in both. A store supplies how its
 * partitions are listed and its two kinds of files are read; each keeps its own answer to a damaged one in a
 * listing, while a lookup reads past damage in both.
 */
export abstract class PackedDocuments implements Pick<DocumentIo, 'indexPartition' | 'legacyId'> {
  /** Per pack, its readable documents and where it is damaged, if it is. */
  readonly #packs = new Map<string, { readonly docs: MetadataDocument[]; readonly damage: string | null }>();

  /** The names in one partition (a key ending in `/`): all of them, or those starting with `startsWith`. */
  protected abstract names(partition: string, startsWith?: string): Promise<string[]>;
  /** A pack's documents, each line that is not one reported to `onDamaged` and left out; [] when it is not there. */
  protected abstract readPack(key: string, onDamaged: NonNullable<MetadataQuery['onDamaged']>): Promise<MetadataDocument[]>;
  /** A legacy document; null when it is not there. */
  protected abstract readLegacy(key: string): Promise<MetadataDocument | null>;

  /**
   * What a partition holds, for the writer. A damaged line counts as not stored: the document of a message
   * ingested again is written anew, which mends it, instead of one bad line stopping every write to the partition.
   */
  async indexPartition(partition: string): Promise<PartitionIndex> {
    const { legacy, packs } = orderPartitionNames(await this.names(partition));
    const packIds = new Set<string>();
    for (const name of packs) for (const doc of await this.readPack(`${partition}${name}`, () => undefined)) packIds.add(doc.id);
    return { packIds, legacy: new Set(legacy.map((n) => n.slice(0, 64))) };
  }

  async legacyId(rawKey: string): Promise<string | null> {
    try {
      return (await this.readLegacy(metadataKeyFor(rawKey)))?.id ?? null;
    } catch {
      return null;
    }
  }

  /**
   * One UIDL's document (by `id`), or without `id` the first stored for the raw message at `key` (a store key).
   * Damage elsewhere in the partition does not hide it; when it is not found and a pack there is damaged, the
   * answer is not "none" but EVERIFY naming the damage, which may be the document asked for.
   */
  protected async find(key: string, id?: string): Promise<MetadataDocument | null> {
    const legacy = await this.readLegacy(metadataKeyFor(key));
    if (legacy !== null && (id === undefined || legacy.id === id)) return legacy;
    const partition = key.slice(0, key.lastIndexOf('/') + 1);
    let damage: string | null = null;
    for (const name of orderPartitionNames(await this.names(partition, 'docs-')).packs) {
      const packKey = `${partition}${name}`;
      let pack = this.#packs.get(packKey);
      if (pack === undefined) {
        let first: string | null = null;
        const docs = await this.readPack(packKey, (where, reason) => {
          first ??= `${where} is damaged (${reason})`;
        });
        pack = { docs, damage: first };
        if (this.#packs.size >= PACKS_CACHED) this.#packs.delete(this.#packs.keys().next().value!);
        this.#packs.set(packKey, pack);
      }
      const found = pack.docs.find((d) => d.raw.key === key && (id === undefined || d.id === id));
      if (found !== undefined) return found;
      damage ??= pack.damage;
    }
    if (damage !== null) {
      throw new StoreError(
        'EVERIFY',
        `no readable metadata document for ${key}, and ${damage}: it may be this one. ` +
          '`mail-ingest verify` lists every damaged document',
        { retryable: false },
      );
    }
    return null;
  }
}
