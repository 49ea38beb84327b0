import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { failureLine } from '../../lib/cli/format.ts';
import { summaryWithoutMessages } from '../../lib/ingest/pipeline-types.ts';
import { DEFAULT_CAPABILITIES, fakeServerMailbox, startFakePop3Server, type FakePop3Server } from '../helpers/fake-pop3-server.ts';
import { loginDelayRefusal } from '../helpers/fake-pop3-faults.ts';
import { tempDir } from '../e2e/e2e-helpers.ts';
import { cli } from './cli-helpers.ts';

describe('LOGIN-DELAY in the CLI', () => {
  let t: Awaited<ReturnType<typeof tempDir>>;
  let delayed: FakePop3Server;
  let refusing: FakePop3Server;
  let config: string;
  before(async () => {
    t = await tempDir('cli-login-delay-');
    delayed = await startFakePop3Server({ messages: ['a\r\n'], capabilities: [...DEFAULT_CAPABILITIES, 'LOGIN-DELAY 900'] });
    refusing = await startFakePop3Server({ capabilities: [...DEFAULT_CAPABILITIES, 'LOGIN-DELAY 600'], handlers: loginDelayRefusal() });
    const mailbox = (id: string, server: FakePop3Server) => fakeServerMailbox(id, server, { auth: 'user' });
    config = path.join(t.dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ store: { type: 'fs', dir: './data' }, mailboxes: [mailbox('delayed', delayed), mailbox('refusing', refusing)] }),
    );
  });
  after(async () => {
    await delayed?.close();
    await refusing?.close();
    await t?.remove();
  });

  it('check shows the advertised LOGIN-DELAY and warns when --every is shorter', async () => {
    const r = await cli(['check', '--config', config, '--mailbox', 'delayed', '--every', '5m']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /login delay/);
    assert.match(r.stdout, /900 s/);
    assert.match(
      r.stderr,
      /warn +delayed: the server allows one login every 900 s \(LOGIN-DELAY\) but the mailbox is polled every 5 min 0 s/,
    );
    const quiet = await cli(['check', '--config', config, '--mailbox', 'delayed', '--every', '15m', '--json']);
    const [report] = JSON.parse(quiet.stdout).mailboxes;
    assert.deepEqual({ loginDelay: report.loginDelay, warnings: report.warnings }, { loginDelay: 900, warnings: [] });
    assert.doesNotMatch(quiet.stderr, /warning/);
  });

  it('run reports a LOGIN-DELAY refusal as its own outcome with when to retry', async () => {
    const r = await cli(['run', '--config', config, '--mailbox', 'refusing']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing: .*login refused as too soon \(ELOGINDELAY\), retry after 600 s/);
    assert.doesNotMatch(r.stderr, /protocol error/);
  });

  it('the failure line of any other error is unchanged', () => {
    const line = failureLine(
      summaryWithoutMessages('m', { ok: false, durationMs: 1, error: { class: 'auth', code: 'EAUTH', message: 'login refused' } }),
    );
    assert.match(line, /^m: auth error EAUTH: login refused \(check the user name/);
  });
});
