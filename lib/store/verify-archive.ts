import { documentId } from '../document/document.ts';
import { hashStream } from './s3-digest.ts';
import { StoreError } from './types.ts';
import type { IngestedEntry, RawStore, StateStore } from './types.ts';

/**
 * What `mail-ingest verify` can find wrong, one stable word each:
 * | kind              | meaning                                                                          |
 * |-------------------|----------------------------------------------------------------------------------|
 * | raw-missing       | a document or a state entry names a raw message the archive does not hold        |
 * | raw-mismatch      | the raw message's bytes do not hash (or measure) to what its key, document or state say |
 * | document-missing  | a state entry (an ingested UIDL) has no metadata document                        |
 * | document-mismatch | a document disagrees with the state, or its id is not that of its mailbox, UIDL and bytes |
 * | unreadable        | the store failed while reading (the detail says how): nothing could be checked   |
 */
export type ArchiveProblemKind = 'raw-missing' | 'raw-mismatch' | 'document-missing' | 'document-mismatch' | 'unreadable';

export interface ArchiveProblem {
  readonly kind: ArchiveProblemKind;
  /** The raw key concerned. */
  readonly key: string;
  readonly id?: string;
  readonly detail: string;
}

export interface MailboxAudit {
  readonly mailbox: string;
  readonly documents: number;
  readonly stateEntries: number;
  /** Distinct raw messages read and hashed. */
  readonly rawChecked: number;
  readonly bytes: number;
  readonly problems: readonly ArchiveProblem[];
}

/** Raw messages hashed at once: a store read is mostly waiting (disk, network). */
const PARALLEL = 8;
/** Hashes remembered, so twins (two UIDLs, one raw message) and a state entry read their file once. */
const HASHES_KEPT = 4096;

type Hashed = { readonly sha256: string; readonly size: number } | { readonly missing: true } | { readonly error: string };

/**
 * Re-reads one mailbox's archive against its state and its documents: every raw message a document or a state entry
 * names is read in full and hashed (the disk, not the page cache of the write), every document is checked against
 * its raw message and the state, and every state entry must have its document. Reports, never repairs.
 */
export async function verifyMailbox(
  store: RawStore,
  stateStore: StateStore,
  mailbox: string,
  onProgress?: (documents: number) => void,
): Promise<MailboxAudit> {
  const problems: ArchiveProblem[] = [];
  const hashes = new Map<string, Promise<Hashed>>();
  let rawChecked = 0;
  let bytes = 0;
  const hashOf = (key: string): Promise<Hashed> => {
    let h = hashes.get(key);
    if (h === undefined) {
      h = hashRaw(store, key).then((r) => {
        rawChecked++;
        if ('size' in r) bytes += r.size;
        return r;
      });
      if (hashes.size >= HASHES_KEPT) hashes.delete(hashes.keys().next().value!);
      hashes.set(key, h);
    }
    return h;
  };
  const checkRaw = async (key: string, sha256: string, size: number | null, who: string, id?: string): Promise<void> => {
    const r = await hashOf(key);
    const at = { key, ...(id === undefined ? {} : { id }) };
    if ('missing' in r) problems.push({ kind: 'raw-missing', ...at, detail: `${who} names it, the archive does not hold it` });
    else if ('error' in r) problems.push({ kind: 'unreadable', ...at, detail: r.error });
    else if (r.sha256 !== sha256 || (size !== null && r.size !== size)) {
      problems.push({
        kind: 'raw-mismatch',
        ...at,
        detail: `stored ${r.size} bytes sha256 ${r.sha256}; ${who} says ${size ?? '?'} bytes sha256 ${sha256}`,
      });
    } else if (!key.endsWith(`/${sha256}.eml`)) {
      problems.push({ kind: 'raw-mismatch', ...at, detail: `sha256 ${sha256} is not the one its content-addressed key names` });
    }
  };

  let entries: Map<string, { uidl: string; entry: IngestedEntry }>;
  try {
    const { state } = await stateStore.read(mailbox);
    entries = new Map(Object.entries(state.uidls).map(([uidl, entry]) => [entry.id, { uidl, entry }]));
  } catch (err) {
    return {
      mailbox,
      documents: 0,
      stateEntries: 0,
      rawChecked: 0,
      bytes: 0,
      problems: [{ kind: 'unreadable', key: `state/${mailbox}`, detail: message(err) }],
    };
  }
  const unseen = new Set(entries.keys());
  let documents = 0;
  const running = new Set<Promise<void>>();
  const run = async (task: () => Promise<void>): Promise<void> => {
    const p = task().finally(() => running.delete(p));
    running.add(p);
    if (running.size >= PARALLEL) await Promise.race(running);
  };
  try {
    // A document that cannot be read is a finding of its own, and the audit goes on past it.
    const onDamaged = (where: string, reason: string): void => {
      problems.push({ kind: 'unreadable', key: where, detail: reason });
    };
    for await (const doc of store.listMetadata({ mailbox, onDamaged })) {
      documents++;
      onProgress?.(documents);
      const known = entries.get(doc.id);
      unseen.delete(doc.id);
      if (doc.mailbox !== mailbox || doc.id !== documentId(doc.mailbox, doc.uidl, doc.raw.sha256)) {
        problems.push({
          kind: 'document-mismatch',
          key: doc.raw.key,
          id: doc.id,
          detail: `id ${doc.id} is not the id of mailbox ${doc.mailbox}, its UIDL and sha256 ${doc.raw.sha256}`,
        });
      }
      if (known !== undefined && (known.entry.key !== doc.raw.key || known.entry.sha256 !== doc.raw.sha256)) {
        problems.push({
          kind: 'document-mismatch',
          key: doc.raw.key,
          id: doc.id,
          detail: `the state has ${known.entry.key} sha256 ${known.entry.sha256} for this document`,
        });
        await run(() =>
          checkRaw(known.entry.key, known.entry.sha256, known.entry.oversized ? null : known.entry.size, 'the state', doc.id),
        );
      }
      await run(() => checkRaw(doc.raw.key, doc.raw.sha256, doc.raw.size, 'its document', doc.id));
    }
    for (const id of unseen) {
      const { entry } = entries.get(id)!;
      problems.push({
        kind: 'document-missing',
        key: entry.key,
        id,
        detail: `ingested ${entry.ingestedAt}, but no document with its id is stored`,
      });
      await run(() => checkRaw(entry.key, entry.sha256, entry.oversized ? null : entry.size, 'the state', id));
    }
  } catch (err) {
    problems.push({ kind: 'unreadable', key: `raw/${mailbox}/`, detail: message(err) });
  }
  await Promise.all(running);
  problems.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  return { mailbox, documents, stateEntries: entries.size, rawChecked, bytes, problems };
}

async function hashRaw(store: RawStore, key: string): Promise<Hashed> {
  try {
    const { sha256Hex, size } = await hashStream(await store.getRaw(key));
    return { sha256: sha256Hex, size };
  } catch (err) {
    if (err instanceof StoreError && err.code === 'ENOTFOUND') return { missing: true };
    return { error: message(err) };
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
