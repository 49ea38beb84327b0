import { Readable } from 'node:stream';

export interface BodyStreamHooks {
  /** The consumer wants more: resume reading the socket. */
  readonly onRead: () => void;
  /** The consumer destroyed the stream before its end: the rest of the response must be discarded. */
  readonly onAbandon: () => void;
}

/**
 * The Readable given out by RETR and TOP. The connection pushes slices of socket chunks into it and pauses the
 * socket when push() says the consumer is behind; _read resumes it. So memory stays bounded by the high-water
 * mark plus one socket chunk, whatever the message size.
 */
export class BodyStream extends Readable {
  private readonly hooks: BodyStreamHooks;
  private finished = false;
  bytes = 0;

  constructor(hooks: BodyStreamHooks, highWaterMark: number) {
    super({ highWaterMark });
    this.hooks = hooks;
    // A stream nobody listens to must not turn a server fault into an uncaught exception: the error stays
    // observable through pipeline(), for await, 'error' listeners and stream.errored.
    this.on('error', () => {});
  }

  /** Pushes a piece of body; false means the consumer is behind and the socket should pause. */
  write(piece: Buffer): boolean {
    this.bytes += piece.length;
    if (this.destroyed) return true;
    return this.push(piece);
  }

  finish(): void {
    this.finished = true;
    if (!this.destroyed) this.push(null);
  }

  override _read(): void {
    this.hooks.onRead();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.finished) this.hooks.onAbandon();
    callback(error);
  }
}
