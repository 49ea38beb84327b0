import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../lib/config/index.ts';
import { runAll, runEvery } from '../../lib/app/run-all.ts';
import type { MailboxRunSummary } from '../../lib/ingest/pipeline-types.ts';
import { fakeServerMailbox, startFakePop3Server, type FakePop3Server, type FakeServerOptions } from '../helpers/fake-pop3-server.ts';
import { endlessListing, trickledReply } from '../helpers/fake-pop3-faults.ts';
import { MemoryPublisher, MemoryRawStore, MemoryStateStore } from '../helpers/memory-adapters.ts';
import { sampleMessage } from '../helpers/memory-pop3.ts';

async function withServers(options: FakeServerOptions[], body: (servers: FakePop3Server[]) => Promise<void>): Promise<void> {
  const servers = await Promise.all(options.map((o) => startFakePop3Server(o)));
  try {
    await body(servers);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}

/** A config of one mailbox per fake server (STLS, the test CA inline, alice's literal password). */
function configFor(
  servers: ReadonlyArray<{ id: string; server: FakePop3Server; extra?: Record<string, unknown> }>,
  top: Record<string, unknown> = {},
) {
  return parseConfig(
    {
      store: { type: 'fs', dir: 'unused' },
      ...top,
      mailboxes: servers.map(({ id, server, extra }) => fakeServerMailbox(id, server, extra)),
    },
    { baseDir: '/tmp' },
  );
}

const memoryAdapters = () => ({ store: new MemoryRawStore(), state: new MemoryStateStore(), publisher: new MemoryPublisher() });

describe('runAll', () => {
  it('a mailbox whose listing never ends fails alone, with its name and ELISTINGLIMIT; the other is ingested', async () => {
    const endless = endlessListing((i) => `${i} uid-${i}`);
    await withServers(
      [{ handlers: { UIDL: endless.handler } }, { messages: [sampleMessage(1), sampleMessage(2)] }],
      async ([hostile, good]) => {
        const config = configFor([
          { id: 'hostile', server: hostile!, extra: { maxListingBytes: 2 << 20 } },
          { id: 'good', server: good! },
        ]);
        const adapters = memoryAdapters();
        const [h, g] = await runAll({ config, adapters });
        assert.equal(h!.mailbox, 'hostile');
        assert.equal(h!.ok, false);
        assert.equal(h!.error?.code, 'ELISTINGLIMIT');
        assert.match(h!.error!.message, /UIDL listing of more than 2097152 bytes/);
        assert.deepEqual({ mailbox: g!.mailbox, ok: g!.ok, stored: g!.stored }, { mailbox: 'good', ok: true, stored: 2 });
        assert.ok(endless.sent() < 16 << 20, `the hostile server got ${endless.sent()} bytes out`);
      },
    );
  });

  it('under a schedule each mailbox polls on its own: a slow one does not hold back the next polls of the other', async () => {
    const slowBody = sampleMessage(9, { body: 'slowly sent line\r\n'.repeat(350) });
    await withServers(
      [{ messages: [slowBody], handlers: { RETR: trickledReply(slowBody, 200, 100) } }, { messages: [sampleMessage(1)] }],
      async ([slow, fast]) => {
        const config = configFor([
          { id: 'slow', server: slow!, extra: { minBytesPerSecond: 0 } },
          { id: 'fast', server: fast! },
        ]);
        const seen: MailboxRunSummary[] = [];
        const stop = new AbortController();
        const last = await runEvery({
          config,
          adapters: memoryAdapters(),
          intervalMs: 300,
          stop: stop.signal,
          onSummary: (s) => {
            seen.push(s);
            if (s.mailbox === 'slow') stop.abort();
          },
        });
        const fastBeforeSlow = seen.findIndex((s) => s.mailbox === 'slow');
        assert.ok(
          fastBeforeSlow >= 3,
          `the fast mailbox ran ${fastBeforeSlow} times while the slow one ran once: ${seen.map((s) => s.mailbox).join(' ')}`,
        );
        assert.ok(
          seen.every((s) => s.ok),
          JSON.stringify(seen.find((s) => !s.ok)?.error),
        );
        assert.deepEqual(last.map((s) => s.mailbox).sort(), ['fast', 'slow']);
        assert.equal(fast!.sessions.length, seen.filter((s) => s.mailbox === 'fast').length, 'one session per run');
      },
    );
  });

  it('a mailbox refused with LOGIN-DELAY is not polled again before the delay it was told', async () => {
    await withServers(
      [
        {
          capabilities: ['TOP', 'UIDL', 'USER', 'RESP-CODES', 'PIPELINING', 'LOGIN-DELAY 2'],
          handlers: { USER: (s) => s.err('[LOGIN-DELAY] wait a little') },
        },
      ],
      async ([server]) => {
        const config = configFor([{ id: 'delayed', server: server!, extra: { auth: 'user' } }]);
        const stop = new AbortController();
        const at: number[] = [];
        setTimeout(() => stop.abort(), 2_500);
        await runEvery({
          config,
          adapters: memoryAdapters(),
          intervalMs: 100,
          stop: stop.signal,
          onSummary: () => {
            at.push(Date.now());
          },
        });
        assert.equal(at.length, 2, `polled ${at.length} times in 2.5 s with a 2 s delay`);
        assert.ok(at[1]! - at[0]! >= 1_900);
      },
    );
  });
});
