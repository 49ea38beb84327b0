import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/types.ts';
import { EXPORT_FORMATS, writeExport, type ExportFormat } from '../export/export.ts';
import { counts, pendingCount } from '../search/catch-up.ts';
import { QueryError, SearchError } from '../search/errors.ts';
import type { SearchDb } from '../search/search-db.ts';
import { parseSearchQuery } from '../search/search-query.ts';
import { getDocument, isDocumentId, search } from '../search/search.ts';
import { threadOf } from '../search/thread.ts';
import type { RawStore, StateStore } from '../store/types.ts';
import { AccessGate } from './auth.ts';
import { html, layout } from './html.ts';
import { negotiateLang, translator, type Lang, type Translate } from './i18n.ts';
import { mailboxHealth, processorHealth } from './mailbox-health.ts';
import { readMessageContent, writeAttachment } from './message-content.ts';
import { mailboxesJson, renderMailboxes } from './pages/mailboxes-page.ts';
import { messageJson, renderMessage } from './pages/message-page.ts';
import { renderSearch, searchJson } from './pages/search-page.ts';
import { redirect, sendCss, sendHtml, sendJson, startDownload } from './respond.ts';
import { bodyFramePolicy, sanitizeMessageHtml } from './sanitize.ts';
import { APP_CSS, BODY_CSS } from './static.ts';

export interface ServeContext {
  readonly config: Config;
  readonly store: RawStore;
  readonly state: StateStore;
  readonly index: SearchDb;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface ServeOptions extends ServeContext {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 for any free port. @default 8025 */
  readonly port?: number;
  /** The access token (tests); a random one otherwise. */
  readonly token?: string;
}

export interface RunningServer {
  readonly server: Server;
  /** Base URL, e.g. http://127.0.0.1:8025 */
  readonly url: string;
  /** The URL to open: carries the access token. */
  readonly openUrl: string;
  readonly token: string;
  close(): Promise<void>;
}

class NotFound extends Error {}

interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly lang: Lang;
  readonly t: Translate;
  readonly api: boolean;
}

const MESSAGE_ROUTE = /^\/(api\/)?messages\/([^/]+)(?:\/(body|raw|attachments\/(\d{1,4})))?$/;

function errorPage(r: Request, status: number, title: string, lines: readonly string[]): void {
  if (r.api) {
    sendJson(r.res, status, { error: { status, title, messages: lines } });
    return;
  }
  sendHtml(
    r.res,
    status,
    layout({
      lang: r.lang,
      t: r.t,
      title,
      active: 'error',
      body: html`<h1>${title}</h1>${lines.map((l) => html`<p>${l}</p>`)}<p><a href="/search">${r.t('navSearch')}</a></p>`,
    }),
  );
}

function exportName(format: ExportFormat): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `mail-ingest-export-${stamp}.${format === 'mbox' ? 'mbox' : 'zip'}`;
}

async function route(ctx: ServeContext, r: Request): Promise<void> {
  const path = r.url.pathname;
  if (path === '/') {
    redirect(r.res, '/search');
    return;
  }
  if (path === '/static/app.css') {
    sendCss(r.res, APP_CSS);
    return;
  }
  if (path === '/search' || path === '/api/search') {
    const query = parseSearchQuery(r.url.searchParams, { strict: r.api });
    const model = {
      query,
      result: search(ctx.index, query),
      mailboxes: ctx.config.mailboxes.map((m) => m.id),
      pendingBodies: pendingCount(ctx.index),
    };
    if (r.api) sendJson(r.res, 200, searchJson(model));
    else sendHtml(r.res, 200, renderSearch(model, r.lang, r.t));
    return;
  }
  if (path === '/mailboxes' || path === '/api/mailboxes') {
    const model = {
      mailboxes: await mailboxHealth(ctx.config, ctx.state, ctx.index),
      processors: await processorHealth(ctx.config),
      now: new Date(),
      index: counts(ctx.index),
    };
    if (r.api) sendJson(r.res, 200, mailboxesJson(model));
    else sendHtml(r.res, 200, renderMailboxes(model, r.lang, r.t));
    return;
  }
  if (path === '/export') {
    const format = r.url.searchParams.get('format') as ExportFormat | null;
    const params = new URLSearchParams(r.url.searchParams);
    params.delete('format');
    params.delete('page');
    if (format === null || !EXPORT_FORMATS.includes(format))
      throw new QueryError([{ param: 'format', message: `expected one of ${EXPORT_FORMATS.join(', ')}` }]);
    const query = parseSearchQuery(params);
    startDownload(r.res, exportName(format));
    try {
      await writeExport({ index: ctx.index, store: ctx.store, query, format, out: r.res });
      r.res.end();
    } catch (err) {
      // Headers are gone: cutting the connection is the only way to tell the browser the file is incomplete.
      ctx.log?.('error', `export failed: ${err instanceof Error ? err.message : String(err)}`);
      r.res.destroy();
    }
    return;
  }
  const m = MESSAGE_ROUTE.exec(path);
  if (m === null) throw new NotFound();
  const [, apiPrefix, rawId, sub, attachment] = m;
  // Ids are the only way to name a message: 64 hex digits, looked up in the index; nothing from the request
  // becomes a path or a key.
  const id = decodeURIComponent(rawId!);
  const doc = isDocumentId(id) ? getDocument(ctx.index, id) : null;
  if (doc === null) throw new NotFound();
  if (sub === undefined) {
    const remote = r.url.searchParams.get('remote') === '1';
    const model = { doc, content: await readMessageContent(ctx.store, doc), thread: threadOf(ctx.index, id), remote };
    if (apiPrefix !== undefined || r.api) sendJson(r.res, 200, messageJson(model));
    else sendHtml(r.res, 200, renderMessage(model, r.lang, r.t));
    return;
  }
  if (apiPrefix !== undefined) throw new NotFound();
  if (sub === 'raw') {
    startDownload(r.res, `${id}.eml`, doc.raw.size);
    await pipeline(await ctx.store.getRaw(doc.raw.key), r.res);
    return;
  }
  if (sub === 'body') {
    const remote = r.url.searchParams.get('remote') === '1';
    const content = await readMessageContent(ctx.store, doc);
    const clean = sanitizeMessageHtml(content.html ?? '', { remote, cidUrl: (cid) => content.inlineImages.get(cid) ?? null });
    const page = `<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><style>${BODY_CSS}</style></head><body>${clean}</body></html>`;
    sendHtml(r.res, 200, page, bodyFramePolicy(remote), true);
    return;
  }
  const n = Number(attachment);
  const a = doc.attachments[n];
  if (a === undefined) throw new NotFound();
  const sent = await writeAttachment(ctx.store, doc, n, () => {
    startDownload(r.res, a.filename ?? `attachment-${n + 1}`, a.size);
    return r.res;
  });
  if (!sent) throw new NotFound();
}

async function handle(ctx: ServeContext, gate: AccessGate, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const lang = negotiateLang(req.headers['accept-language']);
  const t = translator(lang);
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://serve.invalid');
  } catch {
    res.statusCode = 400;
    res.end();
    return;
  }
  const r: Request = { req, res, url, lang, t, api: url.pathname.startsWith('/api/') };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    errorPage(r, 405, 'Method not allowed', ['This server only reads: GET and HEAD.']);
    return;
  }
  const auth = gate.check(req, url);
  if (auth.kind === 'exchange') {
    redirect(res, auth.location, auth.setCookie);
    return;
  }
  if (auth.kind === 'denied') {
    errorPage(r, 403, t('forbidden'), [t('forbiddenText')]);
    return;
  }
  try {
    await route(ctx, r);
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof NotFound) errorPage(r, 404, t('notFound'), [t('notFoundText')]);
    else if (err instanceof QueryError)
      errorPage(
        r,
        400,
        t('badRequest'),
        err.issues.map((i) => `${i.param}: ${i.message}`),
      );
    else if (err instanceof SearchError && err.code === 'EINDEXBUSY') errorPage(r, 503, t('errorTitle'), [err.message]);
    else {
      ctx.log?.('error', `${req.method} ${url.pathname}: ${err instanceof Error ? err.message : String(err)}`);
      errorPage(r, 500, t('errorTitle'), [err instanceof Error ? err.message : String(err)]);
    }
  }
}

/** Starts the archive viewer. It reads the archive and the state, and writes nothing but its index. */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const gate = new AccessGate(o.token);
  const server = createServer({ requestTimeout: 120_000, headersTimeout: 30_000 }, (req, res) => {
    handle(o, gate, req, res).catch((err: unknown) => {
      o.log?.('error', `request failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else res.destroy();
    });
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8025, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  return {
    server,
    url,
    token: gate.token,
    openUrl: `${url}/?token=${gate.token}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
