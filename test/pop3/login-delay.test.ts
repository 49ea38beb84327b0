import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pop3Error } from '../../lib/pop3/index.ts';
import { DEFAULT_CAPABILITIES, startFakePop3Server, type FakeServerOptions } from '../helpers/fake-pop3-server.ts';
import { loginDelayRefusal } from '../helpers/fake-pop3-faults.ts';
import { connectFake } from './helpers.ts';
import { fakeServerJob, withFakeServer } from '../ingest/fault-server-helpers.ts';

async function refusal(options: FakeServerOptions): Promise<Pop3Error> {
  const server = await startFakePop3Server(options);
  try {
    return await connectFake(server, { auth: 'user' }).then(
      () => assert.fail('login accepted'),
      (e: Pop3Error) => e,
    );
  } finally {
    await server.close();
  }
}

describe('RFC 2449 LOGIN-DELAY', () => {
  it('a [LOGIN-DELAY] refusal is ELOGINDELAY, retryable, with the delay CAPA advertised before login', async () => {
    const e = await refusal({ capabilities: [...DEFAULT_CAPABILITIES, 'LOGIN-DELAY 300'], handlers: loginDelayRefusal() });
    assert.deepEqual(
      { code: e.code, retryable: e.retryable, retryAfterSeconds: e.retryAfterSeconds, responseCode: e.responseCode },
      { code: 'ELOGINDELAY', retryable: true, retryAfterSeconds: 300, responseCode: 'LOGIN-DELAY' },
    );
    assert.match(e.message, /allows one login every 300 s/);
  });

  it('without an advertised delay the refusal says so without a figure', async () => {
    const e = await refusal({ handlers: loginDelayRefusal() });
    assert.deepEqual({ code: e.code, retryAfterSeconds: e.retryAfterSeconds }, { code: 'ELOGINDELAY', retryAfterSeconds: undefined });
  });

  it('a run refused so is its own outcome: ELOGINDELAY with retryAfterSeconds, not a protocol error, nothing touched', async () => {
    await withFakeServer(
      { messages: ['a\r\n'], capabilities: [...DEFAULT_CAPABILITIES, 'LOGIN-DELAY 120'], handlers: loginDelayRefusal() },
      async (w) => {
        const s = await w.run({ connect: { ...fakeServerJob(w.server).connect, auth: 'user' } });
        assert.equal(s.ok, false);
        assert.deepEqual(s.error && { code: s.error.code, class: s.error.class, retryAfterSeconds: s.error.retryAfterSeconds }, {
          code: 'ELOGINDELAY',
          class: 'network',
          retryAfterSeconds: 120,
        });
        assert.equal(w.store.rawKeys().length, 0);
      },
    );
  });
});
