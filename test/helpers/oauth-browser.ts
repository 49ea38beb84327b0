/** The test's "person" at a browser: a cookie jar and redirects, against the test OAuth server's pages. */

/** A cookie jar for one "browser" session against this server. */
export class Browser {
  readonly #cookies = new Map<string, string>();
  readonly #base: string;
  constructor(base: string) {
    this.#base = base;
  }

  async request(
    path: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ status: number; location: string | null; body: string }> {
    const headers: Record<string, string> = { cookie: [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    let body: string | undefined;
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(new URL(path, this.#base), {
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      redirect: 'manual',
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      this.#cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }

  /** Follows 30x redirects (GET) until a page is served, to this server or (a client's redirect URI) elsewhere. */
  async follow(first: { status: number; location: string | null; body: string }): Promise<{ status: number; body: string; path: string }> {
    let r = first;
    let path = '';
    for (let i = 0; i < 10 && r.status >= 300 && r.status < 400 && r.location !== null; i++) {
      const next = new URL(r.location, this.#base);
      path = next.origin === new URL(this.#base).origin ? next.pathname + next.search : next.href;
      r = await this.request(path);
    }
    return { status: r.status, body: r.body, path };
  }
}

export const xsrfOf = (html: string): string => {
  const m = /name="xsrf" value="([^"]+)"/.exec(html);
  if (m === null) throw new Error(`no xsrf field in the page:\n${html.slice(0, 500)}`);
  return m[1]!;
};
