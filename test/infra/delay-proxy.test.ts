import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { startDelayProxy } from '../helpers/delay-proxy.ts';

async function listen(onConn: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true, noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Time from writing one byte to reading its echo. */
function pingPong(s: Socket): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    s.once('data', () => resolve(performance.now() - t0));
    s.write('x');
  });
}

describe('delay proxy', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('adds the configured delay in each direction (round trip ~ 2 x one-way)', async () => {
    const echo = await listen((s) => s.pipe(s));
    cleanups.push(() => {
      echo.server.close();
    });
    const direct = await open(echo.port);
    const proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort: echo.port, oneWayDelayMs: 40 });
    cleanups.push(() => proxy.close());
    const viaProxy = await open(proxy.port);
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) rtts.push(await pingPong(viaProxy));
    const directRtt = await pingPong(direct);
    direct.destroy();
    viaProxy.destroy();
    for (const rtt of rtts) {
      assert.ok(rtt >= 79, `round trip ${rtt.toFixed(1)} ms is shorter than 2 x 40 ms`);
      assert.ok(rtt < 79 + 60, `round trip ${rtt.toFixed(1)} ms is far above 80 ms`);
    }
    assert.ok(directRtt < 20, `direct round trip ${directRtt} ms`);
  });

  it('relays 200 MB intact and in order with a delay, holding at most its high-water mark', async () => {
    const payload = randomBytes(200 * 1024 * 1024);
    const want = createHash('sha256').update(payload).digest('hex');
    let got = '';
    let received = 0;
    const sink = await listen((s) => {
      const h = createHash('sha256');
      s.on('data', (d: Buffer) => {
        h.update(d);
        received += d.length;
      });
      s.on('end', () => {
        got = h.digest('hex');
        s.end('done');
      });
    });
    cleanups.push(() => {
      sink.server.close();
    });
    const proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort: sink.port, oneWayDelayMs: 10, highWaterMark: 1024 * 1024 });
    cleanups.push(() => proxy.close());
    const s = await open(proxy.port);
    const reply = new Promise<string>((resolve) => {
      let r = '';
      s.on('data', (d) => {
        r += d;
      });
      s.on('end', () => resolve(r));
    });
    for (let off = 0; off < payload.length; off += 1 << 20) {
      if (!s.write(payload.subarray(off, off + (1 << 20)))) await new Promise((r) => s.once('drain', r));
    }
    s.end();
    assert.equal(await reply, 'done', 'half-close reached the server and its reply came back');
    s.destroy();
    assert.equal(received, payload.length);
    assert.equal(got, want);
    const stats = proxy.stats();
    assert.equal(stats.connections, 1);
    assert.equal(stats.bytes, payload.length + 'done'.length);
    // Back-pressure: the sender is paused past 1 MB held, so at most one more read (64 KB) lands on top.
    assert.ok(stats.peakQueuedBytes <= 1024 * 1024 + 65536, `held ${stats.peakQueuedBytes} bytes at once`);
    assert.ok(stats.peakQueuedBytes > 256 * 1024, 'the delay did hold data back');
  });

  it('passes a server-side reset on to the client', async () => {
    const rst = await listen((s) => {
      s.once('data', () => s.resetAndDestroy());
    });
    cleanups.push(() => {
      rst.server.close();
    });
    const proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort: rst.port, oneWayDelayMs: 5 });
    cleanups.push(() => proxy.close());
    const s = await open(proxy.port);
    const outcome = new Promise<string>((resolve) => {
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.once('end', () => resolve('end'));
    });
    s.write('hello');
    assert.equal(await outcome, 'ECONNRESET');
  });

  it('closes the client when the target refuses the connection', async () => {
    const gone = await listen(() => {});
    const port = gone.port;
    await new Promise<void>((r) => gone.server.close(() => r()));
    const proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort: port, oneWayDelayMs: 5 });
    cleanups.push(() => proxy.close());
    const s = await open(proxy.port);
    const closed = await new Promise<boolean>((resolve) => {
      s.on('error', () => {});
      s.once('close', () => resolve(true));
    });
    assert.ok(closed);
  });
});
