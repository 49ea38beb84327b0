import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  LOGO_PNG,
  QUOTE_PDF,
  hostileHtml,
  ingestInto,
  japaneseQuote,
  makeArchive,
  newsletterWithLogo,
  plain,
  quoteReply,
  sha256,
  type Archive,
} from '../search/archive-fixture.ts';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  OUTPUT_DIR,
  chromiumSkipReason,
  keepScreenshot,
  startServe,
  startWitness,
  type ServeProcess,
} from './serve-helpers.ts';

const reason = chromiumSkipReason();
const skip = process.env.CI === 'true' ? false : (reason ?? false);

interface Doc {
  id: string;
  subject: string | null;
  raw: { key: string; sha256: string };
}

describe('mail-ingest serve in a real browser (Debian chromium)', { skip }, () => {
  let archive: Archive;
  let witness: Awaited<ReturnType<typeof startWitness>>;
  let serve: ServeProcess;
  let browser: Browser;
  let docs: Doc[];
  const bySubject = (s: string): Doc => docs.find((d) => d.subject === s)!;

  before(async () => {
    if (reason !== null) throw new Error(`CI=true and ${reason}`);
    witness = await startWitness();
    archive = await makeArchive(
      {
        support: [japaneseQuote(), quoteReply(), hostileHtml(witness.url), newsletterWithLogo(witness.url)],
        sales: [plain(1), plain(2, { subject: 'Tracking number', body: 'Your parcel ships today.' })],
        billing: [],
      },
      {},
      { sales: { retention: 'delete' } },
    );
    // A history for the Mailboxes page: sales mail over two weeks (deleted from the server after storing), and
    // billing, which worked once and then failed to log in.
    const day = 86_400_000;
    for (let k = 1; k <= 14; k += 1 + (k % 3)) {
      const batch = Array.from({ length: 1 + ((k * 5) % 7) }, (_, i) => plain(100 + k * 10 + i, { subject: `order ${k}-${i}` }));
      await ingestInto(archive.storeDir, 'sales', batch, 100 + k * 10, {
        now: new Date(Date.now() - k * day),
        job: { retention: 'delete' },
      });
    }
    await ingestInto(archive.storeDir, 'billing', [plain(500, { subject: '請求書の件' })], 500, { now: new Date(Date.now() - 3 * day) });
    await ingestInto(archive.storeDir, 'billing', [], 600, {
      failConnect: Object.assign(new Error('-ERR [AUTH] Authentication failed.'), { code: 'EAUTH' }),
    });
    docs = (await readFile(path.join(archive.storeDir, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Doc);
    assert.ok(docs.length > 20);
    serve = await startServe(archive.configPath);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await rm(OUTPUT_DIR, { recursive: true, force: true });
    await mkdir(OUTPUT_DIR, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    const code = await serve?.stop();
    assert.equal(code ?? 0, 0, `serve ends cleanly on SIGTERM\n${serve?.stderr()}`);
    await witness?.close();
    await archive?.remove();
  });

  /** A logged-in page: the token URL is opened once, which sets the session cookie and drops the token from the address. */
  async function session(locale = 'en-US'): Promise<{ context: BrowserContext; page: Page; requests: string[] }> {
    const context = await browser.newContext({ locale, acceptDownloads: true, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(serve.openUrl);
    return { context, page, requests };
  }

  async function shot(page: Page, name: string): Promise<void> {
    const file = path.join(OUTPUT_DIR, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    await keepScreenshot(file);
  }

  it('refuses every request without the token, API and downloads included; the token URL becomes a strict cookie', async () => {
    const doc = docs[0]!;
    for (const p of ['/search', '/api/search?q=x', '/static/app.css', `/messages/${doc.id}/raw`, '/export?format=mbox', '/mailboxes']) {
      const res = await fetch(`${serve.url}${p}`);
      assert.equal(res.status, 403, `${p} without a token`);
      assert.doesNotMatch(await res.text(), /見積|Quarterly/, 'no archive content in the refusal');
    }
    assert.equal((await fetch(`${serve.url}/search?token=wrong`)).status, 403);
    assert.equal((await fetch(`${serve.url}/api/search`, { headers: { authorization: 'Bearer wrong' } })).status, 403);
    assert.equal(
      (await fetch(`${serve.url}/api/search`, { headers: { authorization: `Bearer ${serve.token}` } })).status,
      200,
      'tools may send the token as a bearer',
    );
    assert.equal(
      (await fetch(`${serve.url}/search`, { method: 'POST', headers: { authorization: `Bearer ${serve.token}` } })).status,
      405,
      'it only reads',
    );

    const { context, page } = await session();
    assert.equal(new URL(page.url()).pathname, '/search');
    assert.equal(new URL(page.url()).searchParams.get('token'), null, 'the token leaves the address bar');
    const [cookie] = await context.cookies();
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.notEqual(cookie?.value, serve.token, 'the cookie is a session of its own, not the token');
    await context.close();
  });

  it('finds a Japanese subject by a substring and a message by its attachment name, then opens it', async () => {
    const { context, page } = await session();
    await page.fill('input[name=q]', '見積');
    await page.click('form.search button[type=submit]');
    await page.waitForURL(/\/search\?q=/);
    const subjects = await page.locator('td.subject a').allTextContents();
    assert.deepEqual(subjects.sort(), ['Re: 見積書の送付について', '見積書の送付について'].sort());
    await shot(page, 'search');

    await page.fill('input[name=q]', '書.pdf');
    await page.click('form.search button[type=submit]');
    await page.waitForURL(/q=%E6%9B%B8\.pdf|q=書\.pdf/);
    assert.deepEqual(
      await page.locator('td.subject a').allTextContents(),
      ['見積書の送付について'],
      'only the message with 見積書.pdf attached',
    );

    await page.click('td.subject a');
    await page.waitForURL(/\/messages\/[0-9a-f]{64}$/);
    assert.equal(await page.textContent('#subject'), '見積書の送付について');
    assert.match((await page.textContent('#verified')) ?? '', /Verified/);
    assert.match((await page.textContent('table.headers')) ?? '', /山田 太郎 <yamada@example\.co\.jp>/);
    assert.match((await page.textContent('#message-text')) ?? '', /納期は三週間です。/, 'the ISO-2022-JP body, decoded');
    assert.deepEqual(await page.locator('a.attachment').allTextContents(), ['見積書.pdf']);
    assert.deepEqual(
      await page
        .locator('.thread li')
        .allTextContents()
        .then((l) => l.map((x) => x.split(' ')[0])),
      ['見積書の送付について', 'Re:'],
    );
    await shot(page, 'message');
    await context.close();
  });

  it('downloads an attachment and the raw message byte for byte, under their original names', async () => {
    const { context, page } = await session();
    const quote = bySubject('見積書の送付について');
    await page.goto(`${serve.url}/messages/${quote.id}`);
    const [att] = await Promise.all([page.waitForEvent('download'), page.click('a.attachment')]);
    assert.equal(att.suggestedFilename(), '見積書.pdf');
    assert.equal(sha256(await readFile((await att.path())!)), sha256(QUOTE_PDF));
    const [raw] = await Promise.all([page.waitForEvent('download'), page.click('#raw-download')]);
    const rawBytes = await readFile((await raw.path())!);
    assert.equal(sha256(rawBytes), quote.raw.sha256, 'the archived bytes');
    assert.ok(rawBytes.equals(japaneseQuote()), 'exactly what the server sent');
    const cookies = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await fetch(`${serve.url}/messages/${quote.id}/attachments/0`, { headers: { cookie: cookies } });
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(
      res.headers.get('content-disposition') ?? '',
      /^attachment; filename="[^"]*"; filename\*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8\.pdf$/,
    );
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    await res.arrayBuffer();
    for (const bad of [
      '/messages/../../etc/passwd',
      `/messages/${quote.id}/attachments/9`,
      '/messages/%2e%2e%2fdata%2fevents.jsonl/raw',
      `/messages/${'f'.repeat(64)}/raw`,
    ]) {
      assert.equal((await fetch(`${serve.url}${bad}`, { headers: { cookie: cookies } })).status, 404, bad);
    }
    await context.close();
  });

  it('a hostile HTML message never runs a script nor loads anything, not even on a click', async () => {
    const { context, page, requests } = await session();
    const hostile = bySubject('Quarterly update');
    const before = witness.requests.length;
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${serve.url}/messages/${hostile.id}`);
    const frame = page.frameLocator('#message-body');
    await frame.locator('#greeting').waitFor();
    await frame.locator('#jslink').click();
    await page.waitForTimeout(800);
    const frameTitle = await page.frame({ url: /\/body$/ })!.title();
    assert.doesNotMatch(`${await page.title()} ${frameTitle}`, /pwned/);
    assert.deepEqual(dialogs, []);
    assert.equal(await frame.locator('#jslink').getAttribute('href'), null, 'the javascript: link lost its target');
    assert.equal(await frame.locator('#tracker').getAttribute('src'), null, 'the remote image lost its source');
    assert.equal(
      await frame.locator('script, iframe, form, input, object, embed, link, base, svg, video, meta[http-equiv]').count(),
      0,
      'nothing that runs, loads or navigates is left',
    );
    assert.equal(await frame.locator('style').count(), 1, 'only our own base style');
    assert.equal(await frame.locator('#safelink').getAttribute('href'), 'https://example.com/docs');
    const foreign = requests.filter((u) => !u.startsWith(`${serve.url}/`));
    assert.deepEqual(foreign, [], 'every request the page made went to the archive server');
    assert.deepEqual(witness.requests.slice(before), [], 'the remote server saw nothing');
    await shot(page, 'message-hostile');
    await context.close();
  });

  it('inline images show; remote ones load only after "load remote content"', async () => {
    const { context, page } = await session();
    const sale = bySubject('春のセールのお知らせ');
    const before = witness.requests.length;
    await page.goto(`${serve.url}/messages/${sale.id}`);
    const frame = page.frameLocator('#message-body');
    await frame.locator('#logo').waitFor();
    const logoSrc = (await frame.locator('#logo').getAttribute('src')) ?? '';
    assert.equal(logoSrc, `data:image/png;base64,${LOGO_PNG.toString('base64')}`, 'the cid: part is embedded');
    assert.equal(await frame.locator('#logo').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), 1);
    await page.waitForTimeout(300);
    assert.deepEqual(witness.requests.slice(before), []);
    await page.click('#load-remote');
    await page.waitForURL(/remote=1/);
    await page.frameLocator('#message-body').locator('#banner').waitFor();
    const deadline = Date.now() + 5000;
    while (!witness.requests.slice(before).includes('/banner.png') && Date.now() < deadline) await page.waitForTimeout(50);
    assert.deepEqual(witness.requests.slice(before), ['/banner.png'], 'the reader asked for it');
    await context.close();
  });

  it("shows each mailbox's health, in Japanese when the browser asks for it; JSON twins answer the same", async () => {
    const { context, page } = await session('ja-JP');
    await page.goto(`${serve.url}/mailboxes`);
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    assert.match((await page.textContent('#mailbox-support')) ?? '', /前回の実行.*正常/s);
    assert.match((await page.textContent('#mailbox-support')) ?? '', /サーバーに残っているメール取り込み済み 4 件のうち 4 件/);
    assert.equal(await page.locator('#mailbox-sales svg.chart rect.bar').count(), 30);
    assert.match((await page.textContent('#mailbox-billing')) ?? '', /auth\s*EAUTH/);
    await shot(page, 'mailboxes');
    await page.goto(`${serve.url}/search?q=${encodeURIComponent('見積')}`);
    assert.match((await page.textContent('#result-count')) ?? '', /2 件/);
    await shot(page, 'search-ja');
    await context.close();

    const auth = { authorization: `Bearer ${serve.token}` };
    const api = (await (await fetch(`${serve.url}/api/mailboxes`, { headers: auth })).json()) as {
      mailboxes: Array<{ id: string; ingested: number; lastRun: { ok: boolean } }>;
    };
    assert.deepEqual(
      api.mailboxes.map((m) => ({ id: m.id, ok: m.lastRun.ok })),
      [
        { id: 'support', ok: true },
        { id: 'sales', ok: true },
        { id: 'billing', ok: false },
      ],
    );
    assert.equal(api.mailboxes[0]!.ingested, 4);
    const billing = (
      api.mailboxes as unknown as Array<{ id: string; lastError: { class: string; code: string }; lastSuccess: string | null }>
    ).find((m) => m.id === 'billing')!;
    assert.deepEqual({ class: billing.lastError.class, code: billing.lastError.code }, { class: 'auth', code: 'EAUTH' });
    assert.equal(billing.lastSuccess, null, 'the state records only the last run; a success before it is not known');
    const found = (await (
      await fetch(`${serve.url}/api/search?q=${encodeURIComponent('見積')}&attachment=yes`, { headers: auth })
    ).json()) as { hits: Array<{ subject: string; api: string }> };
    assert.deepEqual(
      found.hits.map((h) => h.subject),
      ['見積書の送付について'],
    );
    const message = (await (await fetch(`${serve.url}${found.hits[0]!.api}`, { headers: auth })).json()) as {
      verified: { ok: boolean };
      thread: unknown[];
      attachments: Array<{ filename: string }>;
    };
    assert.deepEqual(
      { ok: message.verified.ok, thread: message.thread.length, attachment: message.attachments[0]?.filename },
      { ok: true, thread: 2, attachment: '見積書.pdf' },
    );
    const bad = await fetch(`${serve.url}/api/search?since=2025-02-30&flag=urgent`, { headers: auth });
    assert.equal(bad.status, 400);
    assert.deepEqual(
      ((await bad.json()) as { error: { messages: string[] } }).error.messages.map((m) => m.split(':')[0]),
      ['since', 'flag'],
    );
  });

  it('the search page starts an export: a zip of exactly the archived messages', async () => {
    const { context, page } = await session();
    await page.goto(`${serve.url}/search?mailbox=sales`);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('text=Export as .eml zip')]);
    assert.match(dl.suggestedFilename(), /^mail-ingest-export-.*\.zip$/);
    const { readZip } = await import('../export/zip-reader.ts');
    const entries = readZip(await readFile((await dl.path())!));
    const emls = entries.filter((e) => e.name.endsWith('.eml'));
    assert.deepEqual(
      emls.map((e) => sha256(e.data)).sort(),
      docs
        .filter((d) => d.raw.key.includes('/sales/'))
        .map((d) => d.raw.sha256)
        .sort(),
    );
    assert.ok(entries.some((e) => e.name === 'manifest.csv'));
    await context.close();
  });
});
