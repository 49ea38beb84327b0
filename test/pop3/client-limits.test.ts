import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SASL_ROUNDS } from '../../lib/pop3/auth.ts';
import { startFakePop3Server, type FakePop3Server, type FakeServerOptions } from '../helpers/fake-pop3-server.ts';
import { afterPause, endlessListing, endlessSaslChallenges, trickledReply, trickledStatus } from '../helpers/fake-pop3-faults.ts';
import { buffer } from 'node:stream/consumers';
import { DEFAULT_MAX_LISTING_BYTES, DEFAULT_MAX_LISTING_ENTRIES } from '../../lib/pop3/options.ts';
import type { Pop3Error } from '../../lib/pop3/index.ts';
import { connectFake, sleep } from './helpers.ts';

async function withServer(options: FakeServerOptions, run: (server: FakePop3Server) => Promise<void>): Promise<void> {
  const server = await startFakePop3Server(options);
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

describe('SASL continuation rounds are capped', () => {
  for (const [auth, answer] of [
    ['plain', '*'],
    ['xoauth2', ''],
    ['oauthbearer', 'AQ=='],
  ] as const) {
    it(`${auth}: a server answering "+ " forever ends the login with EPROTOCOL after ${MAX_SASL_ROUNDS} answers`, async () => {
      await withServer({ handlers: endlessSaslChallenges() }, async (server) => {
        const started = Date.now();
        await assert.rejects(connectFake(server, { auth, ...(auth === 'plain' ? {} : { accessToken: 'token' }) }), {
          code: 'EPROTOCOL',
          command: 'AUTH',
        });
        assert.ok(Date.now() - started < 5_000, 'not held for the response timeout');
        const answers = server.commands.filter((c) => c.line === answer);
        assert.equal(answers.length, MAX_SASL_ROUNDS, `answers sent: ${answers.length}`);
      });
    });
  }
});

describe('what a listing may cost is capped', () => {
  it('an endless UIDL listing fails with ELISTINGLIMIT at maxListingBytes, and the server cannot push much past it', async () => {
    const endless = endlessListing((i) => `${i} uid-${String(i).padStart(20, '0')}`);
    await withServer({ handlers: { UIDL: endless.handler } }, async (server) => {
      const client = await connectFake(server, { maxListingBytes: 1 << 20 });
      await assert.rejects(client.uidl(), (err: Pop3Error) => {
        assert.equal(err.code, 'ELISTINGLIMIT');
        assert.equal(err.command, 'UIDL');
        assert.match(err.message, /more than 1048576 bytes \(maxListingBytes\)/);
        return true;
      });
      assert.equal(client.closed, true);
      assert.ok(endless.sent() < 8 << 20, `the server got ${endless.sent()} bytes out before the client hung up`);
    });
  });

  it('a LIST of more entries than maxListingEntries fails with ELISTINGLIMIT', async () => {
    const endless = endlessListing((i) => `${i} 100`);
    await withServer({ handlers: { LIST: endless.handler } }, async (server) => {
      const client = await connectFake(server, { maxListingEntries: 1000 });
      await assert.rejects(client.list(), { code: 'ELISTINGLIMIT', command: 'LIST', message: /more than 1000 entries/ });
    });
  });

  it('a listing at the limits is accepted', async () => {
    const messages = Array.from({ length: 50 }, (_, i) => `message ${i}\r\n`);
    await withServer({ messages }, async (server) => {
      const client = await connectFake(server, { maxListingEntries: 50 });
      assert.equal((await client.list()).length, 50);
      await client.quit();
    });
  });

  it('the defaults are generous: a million entries, 64 MiB', () => {
    assert.deepEqual(
      { entries: DEFAULT_MAX_LISTING_ENTRIES, bytes: DEFAULT_MAX_LISTING_BYTES },
      { entries: 1_000_000, bytes: 64 * 1024 * 1024 },
    );
  });
});

describe('a minimum transfer rate (minBytesPerSecond over a window of receiving)', () => {
  const body = Buffer.from(`Subject: slow\r\n\r\n${'line of text\r\n'.repeat(2000)}`);
  const rate = { minBytesPerSecond: 1000, minRateWindowMs: 1000 };

  it('a body trickled at 20 bytes a second ends the session with ESLOW, long before any idle timeout', async () => {
    await withServer({ messages: [body], handlers: { RETR: trickledReply(body, 1, 50) } }, async (server) => {
      const client = await connectFake(server, rate);
      const started = Date.now();
      const { stream } = await client.retr(1);
      await assert.rejects(buffer(stream), {
        code: 'ESLOW',
        command: 'RETR',
        retryable: true,
        message: /minimum of 1000 bytes per second/,
      });
      assert.ok(Date.now() - started < 5_000, `failed after ${Date.now() - started} ms`);
      assert.equal(client.closed, true);
    });
  });

  it('a status line trickled a byte at a time is receiving too: ESLOW', async () => {
    await withServer({ handlers: { STAT: trickledStatus('+OK 1 100', 1, 100) } }, async (server) => {
      const client = await connectFake(server, rate);
      await assert.rejects(client.stat(), { code: 'ESLOW', command: 'STAT' });
    });
  });

  it("a server slow to start answering is the response timeout's business, not a slow transfer", async () => {
    await withServer({ messages: [body], handlers: { RETR: afterPause(1500, (s) => s.multi(body)) } }, async (server) => {
      const client = await connectFake(server, rate);
      assert.ok((await buffer((await client.retr(1)).stream)).equals(body));
      await client.quit();
    });
  });

  it('our consumer holding the socket paused is not the server being slow', async () => {
    const big = Buffer.alloc(8 << 20, 0x61);
    await withServer({ messages: [big] }, async (server) => {
      const client = await connectFake(server, { minBytesPerSecond: 1 << 20, minRateWindowMs: 500 });
      const { stream } = await client.retr(1);
      await sleep(1500);
      assert.equal((await buffer(stream)).length, (8 << 20) + 2);
      await client.quit();
    });
  });

  it('0 turns the minimum off', async () => {
    await withServer({ messages: [body], handlers: { RETR: trickledReply(body.subarray(0, 100), 1, 20) } }, async (server) => {
      const client = await connectFake(server, { minBytesPerSecond: 0, minRateWindowMs: 200, timeouts: { idleMs: 60_000 } });
      const { stream } = await client.retr(1);
      assert.equal((await buffer(stream)).length, 100 + 2);
    });
  });
});
