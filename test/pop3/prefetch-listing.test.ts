import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultHandlers, startFakePop3Server, type FakePop3Server, type FakeSession } from '../helpers/fake-pop3-server.ts';
import { connectFake, sleep } from './helpers.ts';

const messages = [Buffer.from('Subject: one\r\n\r\nbody one\r\n'), Buffer.from('Subject: two\r\n\r\nbody two\r\n')];
/**
 * A server that answers each of `verbs` (when `slowWhen` holds for the session) only once the client had time to
 * send what it would send without waiting: what had arrived behind that command by then is recorded, by session and
 * verb (`sentBehind.get(\`${session} ${verb}\`)`).
 */
async function slowServer(
  verbs: readonly string[],
  options: { slowWhen?: (s: FakeSession) => boolean; capabilities?: string[] } = {},
): Promise<{ server: FakePop3Server; sentBehind: Map<string, string[]> }> {
  const sentBehind = new Map<string, string[]>();
  const base = defaultHandlers();
  const slow =
    (verb: string) =>
    async (s: FakeSession, args: string[], line: string): Promise<void> => {
      if (options.slowWhen?.(s) ?? true) {
        await sleep(150);
        const mine = s.server.commands.filter((c) => c.session === s.id).map((c) => c.verb);
        sentBehind.set(`${s.id} ${verb}`, mine.slice(mine.lastIndexOf(verb) + 1));
      }
      await base[verb]!(s, args, line);
    };
  const server = await startFakePop3Server({
    messages,
    tokens: { alice: 'token-alice' },
    ...(options.capabilities === undefined ? {} : { capabilities: options.capabilities }),
    handlers: Object.fromEntries(verbs.map((v) => [v, slow(v)])),
  });
  return { server, sentBehind };
}

/** The CAPA after login answered late: what the client sends behind it without waiting, per session. */
async function slowCapaServer(capabilities?: string[]) {
  const { server, sentBehind } = await slowServer(['CAPA'], {
    slowWhen: (s) => s.authed,
    ...(capabilities === undefined ? {} : { capabilities }),
  });
  return { server, sentBeforeCapa: { get: (session: number) => sentBehind.get(`${session} CAPA`) } };
}

describe('the listing sent with the CAPA after login (prefetchListing)', () => {
  let fake: Awaited<ReturnType<typeof slowCapaServer>>;
  before(async () => {
    fake = await slowCapaServer();
  });
  after(() => fake.server.close());
  const verbsOf = (id: number) => fake.server.commands.filter((c) => c.session === id).map((c) => c.verb);

  it('STAT, UIDL and LIST leave with the CAPA, and the first calls take their answers: no command twice', async () => {
    const client = await connectFake(fake.server, { prefetchListing: true });
    const id = fake.server.sessions.length;
    assert.deepEqual(fake.sentBeforeCapa.get(id), ['STAT', 'UIDL', 'LIST'], 'sent before the CAPA was answered');
    const [stat, uidl, list] = await Promise.all([client.stat(), client.uidl(), client.list()]);
    assert.deepEqual(stat, { count: 2, size: messages[0]!.length + messages[1]!.length });
    assert.deepEqual(
      uidl.map((u) => u.n),
      [1, 2],
    );
    assert.deepEqual(list, [
      { n: 1, size: messages[0]!.length },
      { n: 2, size: messages[1]!.length },
    ]);
    // A second STAT is a new command, answered now.
    assert.equal((await client.stat()).count, 2);
    await client.quit();
    assert.deepEqual(
      verbsOf(id).filter((v) => v === 'STAT' || v === 'UIDL' || v === 'LIST'),
      ['STAT', 'UIDL', 'LIST', 'STAT'],
    );
  });

  it('another command sent first makes the prefetched answers stale: STAT is asked again, after it', async () => {
    const client = await connectFake(fake.server, { prefetchListing: true });
    const id = fake.server.sessions.length;
    await client.dele(1);
    // RFC 1939: STAT leaves out messages marked deleted; the answer prefetched before DELE would say 2.
    assert.equal((await client.stat()).count, 1);
    await client.rset(); // the mailbox stays as it was for the next test
    await client.quit();
    const verbs = verbsOf(id);
    assert.ok(verbs.lastIndexOf('STAT') > verbs.indexOf('DELE'), `STAT sent again after DELE: ${verbs.join(' ')}`);
  });

  it('without the option, nothing is sent before the CAPA is answered', async () => {
    const client = await connectFake(fake.server);
    assert.deepEqual(fake.sentBeforeCapa.get(fake.server.sessions.length), []);
    assert.equal((await client.stat()).count, 2);
    await client.quit();
  });

  it('nor when the server does not pipeline', async () => {
    const local = await slowCapaServer(['TOP', 'UIDL', 'USER', 'SASL PLAIN']);
    try {
      const client = await connectFake(local.server, { prefetchListing: true });
      assert.equal(client.pipelining, false);
      assert.deepEqual(local.sentBeforeCapa.get(local.server.sessions.length), []);
      assert.equal((await client.list()).length, 2);
      await client.quit();
    } finally {
      await local.server.close();
    }
  });
});

// Measured against Courier 1.0.16 (test/e2e/pipeline-courier.test.ts): it offers PIPELINING before login, but its
// pop3login hands the connection to pop3d once the login is accepted, and whatever it had read behind the login
// command is lost: a CAPA or listing sent there is never answered and the session hangs until its timeout.
describe('nothing is pipelined behind a login command, even with PIPELINING and prefetchListing', () => {
  let fake: Awaited<ReturnType<typeof slowServer>>;
  before(async () => {
    fake = await slowServer(['USER', 'PASS', 'AUTH', 'APOP']);
  });
  after(() => fake.server.close());

  const logins = [
    { auth: 'plain', verbs: ['AUTH'] },
    { auth: 'apop', verbs: ['APOP'] },
    { auth: 'user', verbs: ['USER', 'PASS'] },
    { auth: 'xoauth2', verbs: ['AUTH'], accessToken: 'token-alice' },
  ] as const;
  for (const { auth, verbs, ...extra } of logins) {
    it(`${auth}: the CAPA after login waits for the login's answer`, async () => {
      const client = await connectFake(fake.server, { prefetchListing: true, auth, ...extra });
      const session = fake.server.sessions.length;
      for (const verb of verbs) assert.deepEqual(fake.sentBehind.get(`${session} ${verb}`), [], `sent behind ${verb}`);
      assert.equal((await client.stat()).count, 2);
      await client.quit();
    });
  }
});
