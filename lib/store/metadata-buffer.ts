import type { MetadataDocument } from '../document/metadata-schema.ts';
import { encodePacks, newPackName, partitionOfRawKey } from './document-packs.ts';
import { parseRawKey } from './keys.ts';

/** What is already stored in one date partition, as far as "is this document there?" needs. */
export interface PartitionIndex {
  /** Ids of every document in the partition's packs. */
  readonly packIds: Set<string>;
  /** SHA-256s with a legacy `<sha256>.json` document in the partition. */
  readonly legacy: ReadonlySet<string>;
}

/** The store-specific half: how a partition is read and a pack written (fs files, S3 objects). */
export interface DocumentIo {
  indexPartition(partition: string): Promise<PartitionIndex>;
  /** The id of the legacy document beside `rawKey`, null when there is none or it cannot be read. */
  legacyId(rawKey: string): Promise<string | null>;
  /** Writes one new pack; `name` is unique. Must not resolve before the pack is durable (fs: its directory aside). */
  writePack(partition: string, name: string, body: Buffer): Promise<void>;
}

/** Partition indexes kept in memory: a re-ingest walks a mailbox in order, so recent partitions are the ones asked. */
const INDEXES_KEPT = 64;
/** Raw keys remembered as new; past this the set is dropped (the cost is only extra lookups, never a wrong answer). */
const FRESH_KEPT = 100_000;
const PARTITIONS_IN_PARALLEL = 4;

/**
 * The documents put since the last flush, written at the next flush as one pack per date partition. A document
 * whose id is already stored is not written again (the first one stands): a re-ingest after a lost state must not
 * give the archive a second version of it with another `ingestedAt`. Asking costs a read of the partition, so it is
 * skipped for a raw message this process has just created (`markFresh`): nothing can be filed under it yet.
 */
export class MetadataBuffer {
  readonly #io: DocumentIo;
  #pending: MetadataDocument[] = [];
  readonly #fresh = new Set<string>();
  readonly #indexes = new Map<string, PartitionIndex>();

  constructor(io: DocumentIo) {
    this.#io = io;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  add(doc: MetadataDocument): void {
    partitionOfRawKey(doc.raw.key);
    this.#pending.push(doc);
  }

  /** `rawKey` was just created by this store (no object was there before): no document can refer to it yet. */
  markFresh(rawKey: string): void {
    if (this.#fresh.size >= FRESH_KEPT) this.#fresh.clear();
    this.#fresh.add(rawKey);
  }

  /**
   * Writes what is pending. Not reentrant: the store runs its flushes one after another. On failure the documents
   * not yet written stay pending for the next flush, and the error is thrown.
   */
  async flush(): Promise<void> {
    const docs = this.#pending;
    this.#pending = [];
    if (docs.length === 0) return;
    const groups = new Map<string, MetadataDocument[]>();
    for (const doc of docs) {
      const partition = partitionOfRawKey(doc.raw.key);
      let group = groups.get(partition);
      if (group === undefined) groups.set(partition, (group = []));
      group.push(doc);
    }
    const unwritten: MetadataDocument[] = [];
    let error: unknown = null;
    const queue = [...groups];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const failure = await this.#flushPartition(next[0], next[1]);
        if (failure === null) continue;
        unwritten.push(...failure.unwritten);
        error ??= failure.error;
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARTITIONS_IN_PARALLEL, queue.length) }, worker));
    if (unwritten.length > 0) {
      this.#pending = [...unwritten, ...this.#pending];
      throw error;
    }
  }

  /** Null when every document of the group is stored; else the ones that are not, and why. */
  async #flushPartition(
    partition: string,
    group: readonly MetadataDocument[],
  ): Promise<{ unwritten: MetadataDocument[]; error: unknown } | null> {
    const unique: MetadataDocument[] = [];
    const seen = new Set<string>();
    for (const doc of group) {
      if (seen.has(doc.id)) continue;
      seen.add(doc.id);
      unique.push(doc);
    }
    let keep = unique;
    const packs: ReturnType<typeof encodePacks> = [];
    try {
      const unsure = unique.filter((d) => !this.#fresh.has(d.raw.key));
      if (unsure.length > 0) {
        const index = await this.#index(partition);
        const stored = new Set<string>();
        for (const doc of unsure) {
          if (index.packIds.has(doc.id)) stored.add(doc.id);
          else if (index.legacy.has(parseRawKey(doc.raw.key)!.sha256) && (await this.#io.legacyId(doc.raw.key)) === doc.id)
            stored.add(doc.id);
        }
        keep = unique.filter((d) => !stored.has(d.id));
      }
      packs.push(...encodePacks(keep));
    } catch (error) {
      return { unwritten: [...group], error };
    }
    for (let i = 0; i < packs.length; i++) {
      try {
        await this.#io.writePack(partition, newPackName(), packs[i]!.body);
      } catch (error) {
        return { unwritten: packs.slice(i).flatMap((p) => p.docs), error };
      }
      const index = this.#indexes.get(partition);
      if (index !== undefined) for (const doc of packs[i]!.docs) index.packIds.add(doc.id);
    }
    for (const doc of unique) this.#fresh.delete(doc.raw.key);
    return null;
  }

  async #index(partition: string): Promise<PartitionIndex> {
    let index = this.#indexes.get(partition);
    if (index !== undefined) {
      this.#indexes.delete(partition);
    } else {
      index = await this.#io.indexPartition(partition);
      if (this.#indexes.size >= INDEXES_KEPT) this.#indexes.delete(this.#indexes.keys().next().value!);
    }
    this.#indexes.set(partition, index);
    return index;
  }
}
