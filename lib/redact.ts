/**
 * Every secret value this process has resolved (passwords, access tokens), and the one function that takes them
 * out of any text before it is shown or stored. A server may echo what it was sent (`-ERR invalid password
 * hunter2`, or the base64 of an AUTH PLAIN blob), so server text is redacted wherever it goes: error messages and
 * the state's `lastError` (classifyError), the CLI's output and logs, and the poller's logs.
 */

export const REDACTED = '[redacted]';

/**
 * Shorter values are not redacted: replacing every "ab" in every line would garble all output, and a secret that
 * short protects nothing anyway.
 */
export const MIN_REDACTED_LENGTH = 4;

const secrets = new Set<string>();
let pattern: RegExp | null = null;

const escapeRegExp = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** The forms a secret takes in text: itself, JSON-escaped, URL-encoded, and with controls shown as `?` (lib/pop3 sanitize). */
function forms(secret: string): string[] {
  return [
    ...new Set([
      secret,
      JSON.stringify(secret).slice(1, -1),
      encodeURIComponent(secret),
      // eslint-disable-next-line no-control-regex
      secret.replace(/[\x00-\x1f\x7f]/g, '?'),
    ]),
  ];
}

/** Remembers a resolved secret so that `redact` removes it from now on. */
export function registerSecret(value: string): void {
  if (value.length < MIN_REDACTED_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  pattern = null;
}

/** Forgets every registered secret (tests). */
export function forgetSecrets(): void {
  secrets.clear();
  pattern = null;
}

function secretPattern(): RegExp | null {
  if (secrets.size === 0) return null;
  if (pattern === null) {
    const alternatives = [...secrets]
      .flatMap(forms)
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp);
    // Case-insensitive: a server may echo the password upper-cased.
    pattern = new RegExp(alternatives.join('|'), 'gi');
  }
  return pattern;
}

const BASE64_TOKEN = /[A-Za-z0-9+/_-]{8,}={0,2}/g;

/** A base64 (or base64url) token that decodes to something holding a secret: an echoed SASL blob, for instance. */
function hidesSecret(token: string): boolean {
  const decoded = Buffer.from(token, token.includes('-') || token.includes('_') ? 'base64url' : 'base64');
  for (const text of [decoded.toString('utf8'), decoded.toString('latin1')]) {
    for (const s of secrets) if (text.includes(s)) return true;
  }
  return false;
}

/**
 * Cut short by a length limit ("...pass..."), a secret's beginning can end a text: any prefix of at least
 * MIN_REDACTED_LENGTH characters right before "..." is redacted too.
 */
function redactTruncated(text: string): string {
  if (!text.includes('...')) return text;
  let out = text;
  for (const s of secrets) {
    for (let k = s.length - 1; k >= MIN_REDACTED_LENGTH; k--) {
      const cut = `${s.slice(0, k)}...`;
      if (out.includes(cut)) out = out.split(cut).join(`${REDACTED}...`);
    }
  }
  return out;
}

/** `text` with every registered secret, in any of its usual forms, replaced by "[redacted]". */
export function redact(text: string): string {
  const re = secretPattern();
  if (re === null) return text;
  const out = text.replace(re, REDACTED).replace(BASE64_TOKEN, (token) => (hidesSecret(token) ? REDACTED : token));
  return redactTruncated(out);
}

/** The same for every string inside a value (log fields): a copy, the value itself is left untouched. */
export function redactDeep<T>(value: T): T {
  if (secrets.size === 0) return value;
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redact(v);
    if (depth > 8 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v instanceof Error) return redact(v.message);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, depth + 1);
    return out;
  };
  return walk(value, 0) as T;
}
