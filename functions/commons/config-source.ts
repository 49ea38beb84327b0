import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CodedError } from '../../lib/coded-error.ts';

export interface ConfigSourceOptions<T> {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** Validates the parsed JSON (the CLI's `parseConfig`); throws on an invalid config. */
  readonly parse: (json: unknown) => T;
  /** How long a loaded config is used before it is read again. @default 60000 */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class ConfigLoadError extends CodedError<'ECONFIG'> {
  constructor(message: string, options: { cause?: unknown; retryable: boolean }) {
    super('ConfigLoadError', 'ECONFIG', message, { ...options, failureClass: 'config' });
  }
}

/**
 * The deployment config at s3://bucket/key, cached per container for `ttlMs` so an edited config applies within
 * a minute without a redeploy. Concurrent callers share one read.
 */
export class ConfigSource<T> {
  readonly options: ConfigSourceOptions<T>;
  #value: T | undefined;
  #loadedAt = -Infinity;
  #inflight: Promise<T> | null = null;

  constructor(options: ConfigSourceOptions<T>) {
    this.options = options;
  }

  async get(): Promise<T> {
    const now = (this.options.now ?? Date.now)();
    if (this.#value !== undefined && now - this.#loadedAt < (this.options.ttlMs ?? 60_000)) return this.#value;
    this.#inflight ??= this.#load(now).finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #load(now: number): Promise<T> {
    const where = `s3://${this.options.bucket}/${this.options.key}`;
    let text: string;
    try {
      const out = await this.options.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.options.key }));
      text = await out.Body!.transformToString('utf-8');
    } catch (err) {
      const name = (err as { name?: string }).name ?? 'Error';
      throw new ConfigLoadError(`cannot read the config at ${where}: ${name}`, {
        cause: err,
        retryable: name !== 'NoSuchKey' && name !== 'AccessDenied',
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ConfigLoadError(`the config at ${where} is not valid JSON: ${(err as Error).message}`, { cause: err, retryable: false });
    }
    let value: T;
    try {
      value = this.options.parse(json);
    } catch (err) {
      throw new ConfigLoadError(`the config at ${where} is invalid: ${(err as Error).message}`, { cause: err, retryable: false });
    }
    this.#value = value;
    this.#loadedAt = now;
    return value;
  }
}
