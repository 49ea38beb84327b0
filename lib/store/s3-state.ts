import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { assertMailboxId, normalizePrefix } from './keys.ts';
import { decodeState, emptyState } from './state-format.ts';
import {
  isConditionalConflict,
  isNotFound,
  isPreconditionFailed,
  putJsonIf,
  sseParams,
  toStoreError,
  type SseParams,
} from './s3-client.ts';
import { StoreError } from './types.ts';
import type { MailboxState, StateStore, VersionedState } from './types.ts';
import { ARCHIVE_LAYOUT } from './layout.ts';

export interface S3StateStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** The same prefix as the raw store: state lives at `<prefix>/state/<mailbox>.json`. @default '' */
  readonly prefix?: string;
  readonly sse?: 'aws:kms' | 'AES256';
  readonly kmsKeyId?: string;
}

/**
 * One JSON object per mailbox, compare-and-set on its ETag: `If-Match: <etag>` replaces only the version that was
 * read, `If-None-Match: *` creates only when there is none. S3 answers a lost race with 412 (or 409
 * ConditionalRequestConflict while another conditional write is in flight): both become ECONFLICT, and the caller
 * re-reads, merges and retries (see `writeStateMerged`).
 */
export class S3StateStore implements StateStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #sse: SseParams;

  constructor(options: S3StateStoreOptions) {
    if (options.kmsKeyId !== undefined && options.sse !== 'aws:kms') throw new TypeError('S3StateStore: kmsKeyId needs sse "aws:kms"');
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = normalizePrefix(options.prefix ?? '');
    this.#sse = sseParams(options);
  }

  keyFor(mailbox: string): string {
    assertMailboxId(mailbox);
    const key = `${ARCHIVE_LAYOUT.state}${mailbox}.json`;
    return this.#prefix === '' ? key : `${this.#prefix}/${key}`;
  }

  async read(mailbox: string): Promise<VersionedState> {
    const key = this.keyFor(mailbox);
    let body: string;
    let etag: string | undefined;
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      body = await res.Body!.transformToString('utf8');
      etag = res.ETag;
    } catch (err) {
      if (isNotFound(err)) return { state: emptyState(mailbox), version: null };
      throw toStoreError(err, 'GetObject', key);
    }
    if (etag === undefined || etag === '')
      throw new StoreError('EIO', `S3 GetObject ${key}: no ETag, compare-and-set impossible`, { retryable: false });
    return { state: parseState(key, mailbox, body), version: etag };
  }

  async write(mailbox: string, state: MailboxState, expectedVersion: string | null): Promise<string> {
    const key = this.keyFor(mailbox);
    if (state.mailbox !== mailbox) throw new StoreError('EIO', `state for ${state.mailbox} written as ${mailbox}`, { retryable: false });
    const body = Buffer.from(JSON.stringify(state), 'utf8');
    try {
      const condition = expectedVersion === null ? ({ IfNoneMatch: '*' } as const) : { IfMatch: expectedVersion };
      return await putJsonIf(this.#client, { bucket: this.#bucket, key, body, condition, sse: this.#sse });
    } catch (err) {
      // If-Match on an object that was removed underneath answers 404: for us it is the same lost race.
      if (isPreconditionFailed(err) || isConditionalConflict(err) || (expectedVersion !== null && isNotFound(err))) {
        throw new StoreError('ECONFLICT', `state of ${mailbox} changed since version ${String(expectedVersion)} was read`, {
          cause: err,
          retryable: true,
        });
      }
      throw toStoreError(err, 'PutObject', key);
    }
  }
}

function parseState(key: string, mailbox: string, body: string): MailboxState {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new StoreError('EVERIFY', `state at ${key} is not JSON`, { cause: err, retryable: false });
  }
  return decodeState(
    mailbox,
    json,
    (why) => new StoreError('EVERIFY', `state at ${key} is not a state of mailbox ${mailbox}: ${why}`, { retryable: false }),
  );
}

export interface MergedWriteOptions {
  /** Attempts before giving up with the last ECONFLICT. @default 5 */
  readonly attempts?: number;
  /** First backoff; doubled per attempt, with full jitter. @default 50 */
  readonly baseDelayMs?: number;
}

/**
 * Read, apply `mutate`, write with compare-and-set; on ECONFLICT read the other writer's state and apply
 * `mutate` again to it. `mutate` must therefore be a function of the state it is given (add these entries, set
 * this field), never a blind replacement, so that two writers never lose each other's entries. Bounded: after
 * `attempts` conflicts the last ECONFLICT is thrown (retryable) rather than spinning against a busy writer.
 */
export async function writeStateMerged(
  store: StateStore,
  mailbox: string,
  mutate: (current: MailboxState) => MailboxState,
  options: MergedWriteOptions = {},
): Promise<{ readonly state: MailboxState; readonly version: string; readonly attempts: number }> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 50;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const current = await store.read(mailbox);
    const next = mutate(current.state);
    try {
      const version = await store.write(mailbox, next, current.version);
      return { state: next, version, attempts: attempt };
    } catch (err) {
      if (!(err instanceof StoreError) || err.code !== 'ECONFLICT') throw err;
      lastError = err;
      if (attempt < attempts) await new Promise((r) => setTimeout(r, Math.random() * base * 2 ** (attempt - 1)));
    }
  }
  throw lastError;
}
