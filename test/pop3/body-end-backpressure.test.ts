/**
 * Regression: when the last piece of a RETR body meets back-pressure in the same socket chunk as the terminator,
 * the finished stream never asks for more (a Readable that has ended never calls _read again), so the socket must
 * not stay paused on its account: the next pipelined response has to be parsed. Before the fix, the session
 * stalled with the socket paused and, nothing else keeping it alive, the process exited with an unsettled await.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { startFakePop3Server, type FakePop3Server } from '../helpers/fake-pop3-server.ts';
import { connectFake } from './helpers.ts';

describe('a body that ends under back-pressure', () => {
  let server: FakePop3Server;
  // Sizes around the stream high-water mark (256 KiB), so that some message ends exactly while the consumer is behind.
  const line = (i: number): string => `${String.fromCharCode(0x61 + (i % 26)).repeat(78)}\r\n`;
  const messages = Array.from({ length: 40 }, (_, i) => Buffer.from(line(i).repeat(Math.ceil((250 * 1024 + i * 1531) / 80))));
  before(async () => {
    server = await startFakePop3Server({ messages });
  });
  after(async () => {
    await server.close();
  });

  it('does not stall the pipelined responses behind it, whatever the pace of the consumer', async () => {
    const client = await connectFake(server);
    const watchdog = setTimeout(() => undefined, 60_000); // keeps the loop alive, so a stall shows as a timeout, not an exit
    try {
      const pending = messages.map((_, i) => client.retr(i + 1));
      for (const p of pending) p.catch(() => undefined);
      for (const [i, p] of pending.entries()) {
        const { stream } = await Promise.race([
          p,
          new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`RETR ${i + 1} never answered`)), 10_000)),
        ]);
        let size = 0;
        for await (const chunk of stream) {
          size += (chunk as Buffer).length;
          if (i % 3 === 0) await tick(); // a slow consumer on some messages
        }
        assert.equal(size, messages[i]!.length);
      }
      await client.quit();
    } finally {
      clearTimeout(watchdog);
      if (!client.closed) client.close();
    }
  });
});
