import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../lib/config/index.ts';
import { runAll } from '../../lib/app/run-all.ts';
import { makeTestCerts } from '../helpers/certs.ts';
import { startFakePop3Server, type FakePop3Server, type FakeServerOptions } from '../helpers/fake-pop3-server.ts';
import { endlessListing } from '../helpers/fake-pop3-faults.ts';
import { MemoryPublisher, MemoryRawStore, MemoryStateStore } from '../helpers/memory-adapters.ts';
import { sampleMessage } from '../helpers/memory-pop3.ts';

async function withServers(options: FakeServerOptions[], body: (servers: FakePop3Server[]) => Promise<void>): Promise<void> {
  const servers = await Promise.all(options.map((o) => startFakePop3Server(o)));
  try { await body(servers); } finally { await Promise.all(servers.map((s) => s.close())); }
}

/** A config of one mailbox per fake server (STLS, the test CA inline, alice's literal password). */
function configFor(servers: ReadonlyArray<{ id: string; server: FakePop3Server; extra?: Record<string, unknown> }>, top: Record<string, unknown> = {}) {
  return parseConfig({
    store: { type: 'fs', dir: 'unused' }, ...top,
    mailboxes: servers.map(({ id, server, extra }) => ({
      id, host: '127.0.0.1', port: server.port, tls: 'starttls', ca: makeTestCerts().caPem, user: 'alice', password: 'secret', ...extra,
    })),
  }, { baseDir: '/tmp' });
}

const memoryAdapters = () => ({ store: new MemoryRawStore(), state: new MemoryStateStore(), publisher: new MemoryPublisher() });

describe('runAll', () => {
  it('a mailbox whose listing never ends fails alone, with its name and ELISTINGLIMIT; the other is ingested', async () => {
    const endless = endlessListing((i) => `${i} uid-${i}`);
    await withServers([{ handlers: { UIDL: endless.handler } }, { messages: [sampleMessage(1), sampleMessage(2)] }], async ([hostile, good]) => {
      const config = configFor([{ id: 'hostile', server: hostile!, extra: { maxListingBytes: 2 << 20 } }, { id: 'good', server: good! }]);
      const adapters = memoryAdapters();
      const [h, g] = await runAll({ config, adapters });
      assert.equal(h!.mailbox, 'hostile');
      assert.equal(h!.ok, false);
      assert.equal(h!.error?.code, 'ELISTINGLIMIT');
      assert.match(h!.error!.message, /UIDL listing of more than 2097152 bytes/);
      assert.deepEqual({ mailbox: g!.mailbox, ok: g!.ok, stored: g!.stored }, { mailbox: 'good', ok: true, stored: 2 });
      assert.ok(endless.sent() < 16 << 20, `the hostile server got ${endless.sent()} bytes out`);
    });
  });
});
