import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../lib/config/index.ts';
import { PRESETS, presetById, presetDifferences, presetHost, presetLogin } from '../../lib/presets/index.ts';
import { buildInitConfig } from '../../lib/cli/init/init-config.ts';

const ASKED = ['ocn', 'biglobe', 'so-net', 'nifty', 'plala', 'xserver', 'sakura', 'kagoya', 'onamae', 'microsoft365', 'gmail', 'generic'];

describe('provider presets (lib/presets/presets.json)', () => {
  it('has every provider users asked for, each with its sources; unconfirmed ones say so', () => {
    assert.deepEqual(PRESETS.map((p) => p.id).sort(), [...ASKED].sort());
    for (const p of PRESETS) {
      if (p.id !== 'generic' && p.id !== 'sakura') assert.ok(p.sources.length > 0, `${p.id} names where its settings come from`);
      if (!p.confirmed) assert.match(p.notes.en, /not confirmed|no .* page|compare/i, `${p.id} tells the user to compare`);
      assert.ok(p.notes.ja.length > 0, `${p.id} has Japanese notes`);
    }
    assert.equal(presetById('kagoya')?.login, 'account', 'KAGOYA logs in with account names');
    assert.equal(presetById('microsoft365')?.auth, 'xoauth2', 'Exchange Online refuses passwords');
    assert.deepEqual([presetById('gmail')?.host, presetById('gmail')?.port], ['pop.gmail.com', 995]);
    assert.deepEqual([presetById('microsoft365')?.host, presetById('microsoft365')?.port], ['outlook.office365.com', 995]);
  });

  it('every preset gives init a configuration parseConfig accepts', () => {
    for (const p of PRESETS) {
      const raw = buildInitConfig({
        preset: p, address: 'taro@olive.example.jp', ...(p.login === 'account' ? { user: 'kir000000.info' } : {}),
        ...(presetHost(p, 'taro@olive.example.jp') === null ? { host: p.hostExample } : {}),
      }, '/tmp');
      const config = parseConfig(raw, { baseDir: '/tmp' });
      const [m] = config.mailboxes;
      assert.equal(m!.preset, p.id);
      assert.deepEqual(presetDifferences(p, m!), [], `${p.id}: a mailbox made from it matches it`);
      assert.doesNotMatch(JSON.stringify(raw), /"password":\s*"/, 'the password is never in the file');
    }
  });

  it('derives host and user from the address where the provider does', () => {
    assert.equal(presetHost(presetById('plala')!, 'taro@olive.plala.or.jp'), 'olive.mail.plala.or.jp');
    assert.equal(presetHost(presetById('onamae')!, 'info@Example.co.jp'), 'pop.example.co.jp');
    assert.equal(presetHost(presetById('xserver')!, 'info@example.jp'), null, 'Xserver assigns a server per contract');
    assert.equal(presetLogin(presetById('nifty')!, 'abc12345@nifty.com'), 'abc12345');
    assert.equal(presetLogin(presetById('ocn')!, 'taro@example.ocn.ne.jp'), 'taro@example.ocn.ne.jp');
    assert.equal(presetLogin(presetById('kagoya')!, 'info@example.jp'), null);
  });

  it('says where a mailbox differs from its preset', () => {
    const d = presetDifferences(presetById('ocn')!, { host: 'pop.example.jp', port: 110, tls: 'starttls', user: 'taro', auth: 'auto' });
    assert.deepEqual(d.map((x) => x.field), ['host', 'port', 'tls', 'user']);
    assert.deepEqual(presetDifferences(presetById('kagoya')!, { host: 'pop.kagoya.net', port: 995, tls: 'implicit', user: 'info@example.jp', auth: 'auto' }).map((x) => x.field), ['user']);
    assert.deepEqual(presetDifferences(presetById('microsoft365')!, { host: 'outlook.office365.com', port: 995, tls: 'implicit', user: 'a@b.jp', auth: 'user' }).map((x) => x.field), ['auth']);
  });

  it('the config accepts a preset id and refuses a malformed one', () => {
    const base = { store: { type: 'fs', dir: 'd' }, mailboxes: [{ id: 'a', host: 'h', user: 'u', password: 'p', preset: 'Bad Id' }] };
    assert.throws(() => parseConfig(base, { baseDir: '/tmp' }), (e: unknown) => e instanceof ConfigError && /mailboxes\[0\]\.preset: must be a preset id/.test(e.message));
  });
});
