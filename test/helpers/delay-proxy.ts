import { createServer, connect, type Socket } from 'node:net';

export interface DelayProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Added to every chunk in each direction, so the round trip grows by twice this. */
  oneWayDelayMs: number;
  /** Bytes held per direction before the sender is paused (the proxy's "bandwidth-delay product"). @default 16 MiB */
  highWaterMark?: number;
}

export interface DelayProxyStats {
  connections: number;
  /** Bytes relayed, both directions together. */
  bytes: number;
  /** Most bytes ever held in one direction of one connection: bounded by highWaterMark plus one read. */
  peakQueuedBytes: number;
}

export interface DelayProxy {
  port: number;
  stats(): DelayProxyStats;
  close(): Promise<void>;
}

type Item = { kind: 'data'; at: number; chunk: Buffer } | { kind: 'end'; at: number } | { kind: 'reset'; at: number };

/**
 * One direction of a connection: chunks wait in a FIFO until their release time, so order is kept whatever
 * the timer jitter; an end or a reset travels through the same queue, after the data sent before it.
 */
class DelayedPipe {
  readonly src: Socket;
  readonly dst: Socket;
  readonly delayMs: number;
  readonly highWaterMark: number;
  private queue: Item[] = [];
  private head = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private waitingDrain = false;
  private srcPaused = false;
  private finished = false;

  readonly stats: DelayProxyStats;

  constructor(src: Socket, dst: Socket, delayMs: number, highWaterMark: number, stats: DelayProxyStats) {
    this.stats = stats;
    this.src = src;
    this.dst = dst;
    this.delayMs = delayMs;
    this.highWaterMark = highWaterMark;
    src.on('data', (chunk: Buffer) => this.push({ kind: 'data', at: Date.now() + delayMs, chunk }));
    src.on('end', () => this.push({ kind: 'end', at: Date.now() + delayMs }));
    // A close without a clean end (reset, error) is passed on as a reset, in order.
    src.on('close', () => {
      if (!this.finished) this.push({ kind: 'reset', at: Date.now() + delayMs });
    });
    dst.on('drain', () => {
      this.waitingDrain = false;
      this.flush();
    });
  }

  private push(item: Item): void {
    if (this.finished) return;
    if (item.kind !== 'data') this.finished = true;
    this.queue.push(item);
    if (item.kind === 'data') {
      this.queuedBytes += item.chunk.length;
      this.stats.bytes += item.chunk.length;
      if (this.queuedBytes > this.stats.peakQueuedBytes) this.stats.peakQueuedBytes = this.queuedBytes;
      if (this.queuedBytes > this.highWaterMark && !this.srcPaused) {
        this.srcPaused = true;
        this.src.pause();
      }
    }
    this.flush();
  }

  private flush(): void {
    if (this.waitingDrain) return;
    const now = Date.now();
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      if (item.at > now) {
        this.schedule(item.at - now);
        return;
      }
      this.head++;
      if (item.kind === 'end') {
        this.dst.end();
      } else if (item.kind === 'reset') {
        if (!this.dst.destroyed) this.dst.resetAndDestroy();
      } else {
        this.queuedBytes -= item.chunk.length;
        if (this.dst.destroyed) continue;
        if (!this.dst.write(item.chunk)) {
          this.waitingDrain = true;
          break;
        }
      }
    }
    this.compact();
    if (this.srcPaused && this.queuedBytes <= this.highWaterMark / 2) {
      this.srcPaused = false;
      this.src.resume();
    }
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, ms);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.head = 0;
  }
}

/** A TCP proxy on 127.0.0.1 that adds a fixed one-way delay in each direction (the kernel here has no netem). */
export async function startDelayProxy(o: DelayProxyOptions): Promise<DelayProxy> {
  const highWaterMark = o.highWaterMark ?? 16 * 1024 * 1024;
  const sockets = new Set<Socket>();
  const stats: DelayProxyStats = { connections: 0, bytes: 0, peakQueuedBytes: 0 };
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = connect({ host: o.targetHost, port: o.targetPort, allowHalfOpen: true, noDelay: true });
    stats.connections++;
    sockets.add(client);
    sockets.add(upstream);
    const pipes = [
      new DelayedPipe(client, upstream, o.oneWayDelayMs, highWaterMark, stats),
      new DelayedPipe(upstream, client, o.oneWayDelayMs, highWaterMark, stats),
    ];
    const onClose = () => {
      if (client.destroyed && upstream.destroyed) pipes.forEach((p) => p.dispose());
    };
    // Errors surface as 'close' on the same socket, which the pipe relays as a reset.
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('close', () => {
      sockets.delete(client);
      onClose();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      onClose();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
