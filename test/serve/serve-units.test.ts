import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { AccessGate } from '../../lib/serve/auth.ts';
import { html, SafeHtml } from '../../lib/serve/html.ts';
import { negotiateLang, translator } from '../../lib/serve/i18n.ts';
import { contentDisposition } from '../../lib/serve/respond.ts';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('serve building blocks', () => {
  it('picks Japanese or English from Accept-Language by weight; anything else is English', () => {
    assert.equal(negotiateLang('ja,en-US;q=0.9'), 'ja');
    assert.equal(negotiateLang('en-US,en;q=0.9,ja;q=0.8'), 'en');
    assert.equal(negotiateLang('fr-FR, ja;q=0.5'), 'ja');
    assert.equal(negotiateLang('ja;q=0, en;q=0.1'), 'en');
    assert.equal(negotiateLang('de'), 'en');
    assert.equal(negotiateLang(undefined), 'en');
    assert.equal(translator('ja')('results', { count: 3 }), '3 件');
  });

  it('escapes every interpolated value unless it is markup we made', () => {
    const subject = '<img src=x onerror=alert(1)> "quoted" & \'single\'';
    assert.equal(
      html`<td title="${subject}">${subject}</td>`.value,
      '<td title="&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &amp; &#39;single&#39;">&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &amp; &#39;single&#39;</td>',
    );
    assert.equal(html`<p>${[new SafeHtml('<b>a</b>'), '<b>']}</p>`.value, '<p><b>a</b>&lt;b&gt;</p>');
  });

  it('names downloads as the sender did, without a path or header injection', () => {
    assert.equal(contentDisposition('見積書.pdf'), `attachment; filename="___.pdf"; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf`);
    assert.equal(contentDisposition('../../etc/passwd'), `attachment; filename="passwd"; filename*=UTF-8''passwd`);
    assert.equal(
      contentDisposition('a"\r\nSet-Cookie: x=1.txt'),
      `attachment; filename="aSet-Cookie: x=1.txt"; filename*=UTF-8''aSet-Cookie%3A%20x%3D1.txt`,
    );
    assert.equal(contentDisposition(''), `attachment; filename="download"; filename*=UTF-8''download`);
  });

  it('admits the token once as a URL (then a cookie), as a bearer, or the session cookie; nothing else', () => {
    const gate = new AccessGate('the-token');
    const exchange = gate.check(req({}), new URL('http://h/messages/x?token=the-token&remote=1'));
    assert.equal(exchange.kind, 'exchange');
    if (exchange.kind !== 'exchange') return;
    assert.equal(exchange.location, '/messages/x?remote=1');
    assert.match(exchange.setCookie, /^mi_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = exchange.setCookie.split(';')[0]!;
    assert.equal(gate.check(req({ cookie: `other=1; ${cookie}` }), new URL('http://h/search')).kind, 'ok');
    assert.equal(gate.check(req({ authorization: 'Bearer the-token' }), new URL('http://h/api/search')).kind, 'ok');
    assert.equal(
      gate.check(req({ cookie: 'mi_session=the-token' }), new URL('http://h/search')).kind,
      'denied',
      'the token is not a cookie',
    );
    assert.equal(gate.check(req({ authorization: 'Bearer the-token2' }), new URL('http://h/search')).kind, 'denied');
    assert.equal(gate.check(req({}), new URL('http://h/search?token=')).kind, 'denied');
    assert.notEqual(new AccessGate().token, new AccessGate().token, 'a new random token per start');
  });
});

describe('processor health on the Mailboxes page', () => {
  it("shows each processor's position and dead letters as its consumer records them, and tolerates their absence", async () => {
    const { mkdtemp, mkdir, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { parseConfig } = await import('../../lib/config/index.ts');
    const { processorHealth } = await import('../../lib/serve/mailbox-health.ts');
    const dir = await mkdtemp(path.join(tmpdir(), 'mi-proc-'));
    try {
      await mkdir(path.join(dir, 'processors'), { recursive: true });
      const line = `${JSON.stringify({ event: 'x'.repeat(80) })}\n`;
      await writeFile(path.join(dir, 'events.jsonl'), line.repeat(10));
      await writeFile(path.join(dir, 'processors', 'tickets.cursor.json'), JSON.stringify({ offset: line.length * 6 }));
      const failed = (offset: number, final: boolean) =>
        JSON.stringify({
          op: 'failed',
          at: '2026-12-01T10:00:00.000Z',
          offset,
          length: line.length,
          id: null,
          attempts: final ? 5 : 1,
          firstFailedAt: '2026-12-01T09:00:00.000Z',
          error: 'EIO: disk full',
          final,
        });
      await writeFile(
        path.join(dir, 'processors', 'tickets.dead-letters.jsonl'),
        `${[failed(0, false), failed(line.length, true), JSON.stringify({ op: 'done', at: '2026-12-01T11:00:00.000Z', offset: 0 })].join('\n')}\n`,
      );
      const config = parseConfig(
        {
          store: { type: 'fs', dir },
          publish: {
            type: 'local',
            processors: [
              { name: 'tickets', kind: 'ticket-intake' },
              { name: 'index', kind: 'archive-index' },
            ],
          },
          mailboxes: [{ id: 'support', host: 'pop.example.jp', user: 'u', password: { env: 'P' } }],
        },
        { baseDir: dir },
      );
      const health = await processorHealth(config);
      const tickets = health.find((h) => h.name === 'tickets')!;
      assert.deepEqual(tickets.position, { offset: line.length * 6, logBytes: line.length * 10, behind: 4 });
      assert.deepEqual(tickets.failures, { retrying: 0, givenUp: 1 });
      assert.equal(tickets.lastFailure?.error, 'EIO: disk full');
      assert.deepEqual(
        health.map((h) => h.name),
        ['tickets', 'index'],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('mail-ingest serve: command line', () => {
  it('refuses a host that is not an address and a port that is not one, before opening anything', async () => {
    const { cli } = await import('../cli/cli-helpers.ts');
    const path = await import('node:path');
    const config = path.resolve(import.meta.dirname, '../fixtures/config/minimal.json');
    const host = await cli(['serve', '--config', config, '--host', 'evil.example']);
    assert.equal(host.code, 2);
    assert.match(host.stderr, /--host: expected an IP address/);
    const port = await cli(['serve', '--config', config, '--port', 'http']);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port: expected 0 to 65535/);
  });
});
