import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SASL_ROUNDS } from '../../lib/pop3/auth.ts';
import { startFakePop3Server, type FakePop3Server, type FakeServerOptions } from '../helpers/fake-pop3-server.ts';
import { endlessSaslChallenges } from '../helpers/fake-pop3-faults.ts';
import { connectFake } from './helpers.ts';

async function withServer(options: FakeServerOptions, run: (server: FakePop3Server) => Promise<void>): Promise<void> {
  const server = await startFakePop3Server(options);
  try { await run(server); } finally { await server.close(); }
}

describe('SASL continuation rounds are capped', () => {
  for (const [auth, answer] of [['plain', '*'], ['xoauth2', ''], ['oauthbearer', 'AQ==']] as const) {
    it(`${auth}: a server answering "+ " forever ends the login with EPROTOCOL after ${MAX_SASL_ROUNDS} answers`, async () => {
      await withServer({ handlers: endlessSaslChallenges() }, async (server) => {
        const started = Date.now();
        await assert.rejects(connectFake(server, { auth, ...(auth === 'plain' ? {} : { accessToken: 'token' }) }), { code: 'EPROTOCOL', command: 'AUTH' });
        assert.ok(Date.now() - started < 5_000, 'not held for the response timeout');
        const answers = server.commands.filter((c) => c.line === answer);
        assert.equal(answers.length, MAX_SASL_ROUNDS, `answers sent: ${answers.length}`);
      });
    });
  }
});
