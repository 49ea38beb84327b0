import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { MessageAttributeValue, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import type { TargetConfig } from '../config/types.ts';
import { SCHEMA_VERSION } from '../document/metadata-schema.ts';
import type { MetadataDocument } from '../document/metadata-schema.ts';
import type { RawStore } from '../store/types.ts';
import { storeClaimCheck } from './claim-check.ts';
import type { ClaimCheckMessage } from './claim-check.ts';
import { matchesFilter } from './filter.ts';
import { PublishError } from './types.ts';
import type { Publisher, PublishResult } from './types.ts';

export interface SqsPublisherOptions {
  readonly client: SQSClient;
  readonly targets: readonly TargetConfig[];
  /** Where documents too large for a queue are stored; `prefix` goes before `claims/<id>.json`. @default store.keyPrefix */
  readonly claimCheck: { readonly store: RawStore; readonly prefix?: string };
  /** Sends of one entry, the first included, before it counts as failed. @default 5 */
  readonly maxAttempts?: number;
  /** First backoff between attempts; doubled each time, full jitter, capped by `maxDelayMs`. @default 100 */
  readonly baseDelayMs?: number;
  /** @default 5000 */
  readonly maxDelayMs?: number;
  /** SendMessageBatch calls in flight per target. @default 4 */
  readonly concurrency?: number;
}

/** SQS's limit of entries per SendMessageBatch. */
const MAX_BATCH_ENTRIES = 10;
/** Characters SQS accepts in a body; anything else (including astral characters some servers refuse) is escaped. */
const NOT_SQS_SAFE = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/g;

interface Entry {
  readonly doc: MetadataDocument;
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  /** What SQS counts against the size limits: body, attribute names, types and values, in UTF-8 bytes. */
  readonly size: number;
}

interface TargetOutcome {
  readonly sent: Set<string>;
  /** Document id -> why it failed, and whether another try might succeed. */
  readonly failed: Map<string, { readonly reason: string; readonly retryable: boolean }>;
}

/**
 * Fans metadata documents out to SQS queues: each document goes to every target whose filter matches it, in
 * SendMessageBatch calls within SQS's entry and payload limits. Entries SQS lists as `Failed` in an otherwise
 * successful response are retried with exponential backoff and jitter; sender faults are not (they would fail
 * the same way again). A document larger than the queue's MaximumMessageSize travels as a claim check. Message
 * attributes carry only values safe to show any consumer: mailbox id, schema version and the boolean flags.
 */
export class SqsPublisher implements Publisher {
  readonly #client: SQSClient;
  readonly #targets: readonly TargetConfig[];
  readonly #store: RawStore;
  readonly #claimPrefix: string;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #concurrency: number;
  readonly #maxSizes = new Map<string, Promise<number>>();

  constructor(options: SqsPublisherOptions) {
    const names = new Set<string>();
    for (const t of options.targets) {
      if (names.has(t.name)) throw new TypeError(`SqsPublisher: duplicate target name ${JSON.stringify(t.name)}`);
      names.add(t.name);
    }
    this.#client = options.client;
    this.#targets = options.targets;
    this.#store = options.claimCheck.store;
    // Store keys are full keys (lib/store/types.ts): by default claims go under the store's own prefix.
    this.#claimPrefix = options.claimCheck.prefix ?? options.claimCheck.store.keyPrefix;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#baseDelayMs = options.baseDelayMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 5000;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
  }

  async publish(docs: readonly MetadataDocument[]): Promise<PublishResult> {
    // One claim check per document, shared by every target that needs it.
    const claims = new Map<string, Promise<ClaimCheckMessage>>();
    const claimFor = (doc: MetadataDocument) => {
      let p = claims.get(doc.id);
      if (p === undefined) {
        p = storeClaimCheck(this.#store, this.#claimPrefix, doc);
        claims.set(doc.id, p);
      }
      return p;
    };
    const outcomes = await Promise.all(
      this.#targets.map(async (target) => {
        const matching = docs.filter((d) => matchesFilter(d, target.filter));
        return { target, matching, outcome: await this.#publishToTarget(target, matching, claimFor) };
      }),
    );

    const perTarget: Record<string, number> = {};
    const failed = new Map<string, { reason: string; retryable: boolean }>();
    for (const { target, outcome } of outcomes) {
      perTarget[target.name] = outcome.sent.size;
      for (const [id, why] of outcome.failed) {
        const prior = failed.get(id);
        failed.set(id, {
          reason: prior === undefined ? `${target.name}: ${why.reason}` : `${prior.reason}; ${target.name}: ${why.reason}`,
          retryable: (prior?.retryable ?? false) || why.retryable,
        });
      }
    }
    if (failed.size > 0) {
      const reasons = [...new Set([...failed.values()].map((f) => f.reason))].slice(0, 5).join('; ');
      throw new PublishError(
        `${failed.size} of ${new Set(docs.map((d) => d.id)).size} documents not accepted by every matching queue (${reasons})`,
        [...failed.keys()],
        { retryable: [...failed.values()].some((f) => f.retryable) },
      );
    }
    return { published: new Set(docs.map((d) => d.id)).size, perTarget };
  }

  async #publishToTarget(
    target: TargetConfig,
    docs: readonly MetadataDocument[],
    claimFor: (d: MetadataDocument) => Promise<ClaimCheckMessage>,
  ): Promise<TargetOutcome> {
    const outcome: TargetOutcome = { sent: new Set(), failed: new Map() };
    if (docs.length === 0) return outcome;
    let maxSize: number;
    try {
      maxSize = await this.#maxMessageSize(target.queueUrl);
    } catch (err) {
      for (const d of docs) outcome.failed.set(d.id, { reason: `GetQueueAttributes: ${errorName(err)}`, retryable: isRetryable(err) });
      return outcome;
    }
    const fifo = target.queueUrl.endsWith('.fifo');
    const entries: Entry[] = [];
    for (const doc of docs) {
      const inline = makeEntry(doc, JSON.stringify(doc));
      if (inline.size <= maxSize) {
        entries.push(inline);
        continue;
      }
      try {
        entries.push(makeEntry(doc, JSON.stringify(await claimFor(doc))));
      } catch (err) {
        outcome.failed.set(doc.id, { reason: `claim check: ${errorName(err)}`, retryable: isRetryable(err) });
      }
    }

    let pending = entries;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const retry: Entry[] = [];
      const batches = pack(pending, maxSize);
      await mapLimit(batches, this.#concurrency, async (batch) => {
        const result = await this.#sendBatch(target.queueUrl, batch, fifo);
        for (const e of result.sent) outcome.sent.add(e.doc.id);
        for (const f of result.failed) {
          if (f.retryable && attempt < this.#maxAttempts) retry.push(f.entry);
          else outcome.failed.set(f.entry.doc.id, { reason: f.reason, retryable: f.retryable });
        }
      });
      pending = retry;
      if (pending.length > 0) await sleep(Math.random() * Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1)));
    }
    for (const id of outcome.sent) outcome.failed.delete(id);
    return outcome;
  }

  async #sendBatch(
    queueUrl: string,
    batch: readonly Entry[],
    fifo: boolean,
  ): Promise<{
    sent: Entry[];
    failed: Array<{ entry: Entry; reason: string; retryable: boolean }>;
  }> {
    // Batch entry ids are positions: never a UIDL or anything else a server chose.
    const request: SendMessageBatchRequestEntry[] = batch.map((e, i) => ({
      Id: `m${i}`,
      MessageBody: e.body,
      MessageAttributes: e.attributes,
      ...(fifo ? { MessageGroupId: e.doc.mailbox, MessageDeduplicationId: deduplicationId(e.doc.id) } : {}),
    }));
    let res;
    try {
      res = await this.#client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: request }));
    } catch (err) {
      const retryable = isRetryable(err);
      return { sent: [], failed: batch.map((entry) => ({ entry, reason: `SendMessageBatch: ${errorName(err)}`, retryable })) };
    }
    const byId = new Map(batch.map((e, i) => [`m${i}`, e]));
    const sent: Entry[] = [];
    const failed: Array<{ entry: Entry; reason: string; retryable: boolean }> = [];
    for (const s of res.Successful ?? []) {
      const e = s.Id === undefined ? undefined : byId.get(s.Id);
      if (e !== undefined) {
        sent.push(e);
        byId.delete(s.Id!);
      }
    }
    for (const f of res.Failed ?? []) {
      const e = f.Id === undefined ? undefined : byId.get(f.Id);
      if (e === undefined) continue;
      byId.delete(f.Id!);
      failed.push({
        entry: e,
        reason: `${f.Code ?? 'Failed'}${f.SenderFault === true ? ' (sender fault)' : ''}`,
        retryable: f.SenderFault !== true,
      });
    }
    // An entry in neither list was not confirmed: send it again (consumers deduplicate by id).
    for (const e of byId.values()) failed.push({ entry: e, reason: 'not in the batch response', retryable: true });
    return { sent, failed };
  }

  /** MaximumMessageSize of a queue (256 KiB or 1 MiB by default, less if configured), read once per queue. */
  #maxMessageSize(queueUrl: string): Promise<number> {
    let p = this.#maxSizes.get(queueUrl);
    if (p === undefined) {
      p = this.#client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MaximumMessageSize'] })).then((res) => {
        const n = Number(res.Attributes?.MaximumMessageSize);
        if (!Number.isInteger(n) || n <= 0)
          throw new Error(`queue reports no valid MaximumMessageSize: ${String(res.Attributes?.MaximumMessageSize)}`);
        return n;
      });
      // A failed lookup is not remembered: the next publish asks again.
      p.catch(() => this.#maxSizes.delete(queueUrl));
      this.#maxSizes.set(queueUrl, p);
    }
    return p;
  }
}

export function messageAttributes(doc: MetadataDocument): Record<string, MessageAttributeValue> {
  const bool = (b: boolean): MessageAttributeValue => ({ DataType: 'String', StringValue: b ? 'true' : 'false' });
  return {
    mailbox: { DataType: 'String', StringValue: doc.mailbox },
    schemaVersion: { DataType: 'Number', StringValue: String(SCHEMA_VERSION) },
    autoReply: bool(doc.flags.autoReply),
    bounce: bool(doc.flags.bounce),
    list: bool(doc.flags.list),
    // As the filter counts them: inline parts (images of an HTML signature) are not attachments.
    hasAttachments: bool(doc.attachments.some((a) => !a.inline)),
  };
}

/** Body + attribute names, types and values in UTF-8 bytes: what SQS counts against MaximumMessageSize. */
export function sqsMessageSize(body: string, attributes: Record<string, MessageAttributeValue>): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, a] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(a.DataType ?? '', 'utf8') + Buffer.byteLength(a.StringValue ?? '', 'utf8');
  }
  return size;
}

/** JSON with every character SQS refuses written as a \u escape: the same JSON value, and accepted. */
export function sqsSafeJson(json: string): string {
  return json.replace(NOT_SQS_SAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function makeEntry(doc: MetadataDocument, json: string): Entry {
  const body = sqsSafeJson(json);
  const attributes = messageAttributes(doc);
  return { doc, body, attributes, size: sqsMessageSize(body, attributes) };
}

/** Greedy packing into batches of at most 10 entries and at most `limit` bytes. */
function pack(entries: readonly Entry[], limit: number): Entry[][] {
  const batches: Entry[][] = [];
  let current: Entry[] = [];
  let size = 0;
  for (const e of entries) {
    if (current.length > 0 && (current.length === MAX_BATCH_ENTRIES || size + e.size > limit)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(e);
    size += e.size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** FIFO deduplication ids allow 128 characters of ASCII punctuation and alphanumerics. */
function deduplicationId(id: string): string {
  return /^[\x21-\x7E]{1,128}$/.test(id) ? id : createHash('sha256').update(id, 'utf8').digest('hex');
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorName(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.name === 'string' && e.name !== 'Error') return e.name;
  return typeof e?.message === 'string' ? e.message : 'error';
}

/** Service faults, throttling and transport errors may pass on another try; sender faults will not. */
function isRetryable(err: unknown): boolean {
  const e = err as { retryable?: unknown; $fault?: unknown; $retryable?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  if (typeof e?.retryable === 'boolean') return e.retryable;
  if (e?.$retryable !== undefined) return true;
  if (e?.$fault === 'server') return true;
  const status = e?.$metadata?.httpStatusCode;
  return status === undefined || status >= 500 || status === 429;
}
