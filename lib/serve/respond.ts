import type { ServerResponse } from 'node:http';

/** The pages' policy: our own stylesheet, our own frames, no script anywhere, never framed by another site. */
export const PAGE_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "frame-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What every response carries. */
function common(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
}

export function sendHtml(res: ServerResponse, status: number, body: string, policy = PAGE_POLICY, frameable = false): void {
  common(res);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Security-Policy', policy);
  res.setHeader('X-Frame-Options', frameable ? 'SAMEORIGIN' : 'DENY');
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  common(res);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.end(`${JSON.stringify(value, null, 2)}\n`);
}

export function sendCss(res: ServerResponse, css: string): void {
  common(res);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/css; charset=utf-8');
  res.end(css);
}

export function redirect(res: ServerResponse, location: string, setCookie?: string): void {
  common(res);
  res.statusCode = 303;
  if (setCookie !== undefined) res.setHeader('Set-Cookie', setCookie);
  res.setHeader('Location', location);
  res.end();
}

/**
 * A file name as the sender gave it, made safe for a download: no path, no control characters. The header
 * carries an ASCII fallback and the exact name in RFC 8187 encoding (RFC 6266 section 4.3), which browsers prefer.
 */
export function contentDisposition(name: string): string {
  const base =
    (name.split(/[/\\]/).pop() ?? '')
      .replace(/[\u0000-\u001f\u007f"]/g, '')
      .trim()
      .slice(0, 200) || 'download';
  const ascii = base.replace(/[^\x20-\x7e]/g, '_').replace(/[%;\\]/g, '_');
  const encoded = encodeURIComponent(base).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Headers of every download: never rendered by the browser, never sniffed into something it is not. */
export function startDownload(res: ServerResponse, name: string, length?: number): void {
  common(res);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Disposition', contentDisposition(name));
  res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
  if (length !== undefined) res.setHeader('Content-Length', String(length));
}
