/**
 * Provider presets: the POP3 settings of the providers mail-ingest users have, kept as data in presets.json with
 * the pages they come from. `mail-ingest init` fills a mailbox from one; `check` says when a mailbox made from a
 * preset (its "preset" id in the config) no longer matches it.
 */
import * as z from 'zod';
import data from './presets.json' with { type: 'json' };

const text = z.strictObject({ en: z.string().min(1), ja: z.string().min(1) });

// A host name, or a template whose only placeholders are {domain} and {subdomain} of the mail address.
const hostTemplate = z.string().regex(/^(?:[a-z0-9-]+|\{domain\}|\{subdomain\})(?:\.(?:[a-z0-9-]+|\{domain\}))*$/, {
  error: 'must be a host name, or a template with {domain} / {subdomain}',
});

export const presetSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/),
    name: z.string().min(1),
    /** null: the provider assigns a server per contract; init asks for it (hostExample shows its form). */
    host: hostTemplate.nullable(),
    hostExample: z.string().optional(),
    port: z.number().int().min(1).max(65535),
    tls: z.enum(['implicit', 'starttls']),
    /** What the server expects as USER: the whole address, the part before @, or an account name it issued. */
    login: z.enum(['address', 'local-part', 'account']),
    loginExample: z.string().optional(),
    /**
     * The provider's OAuth 2 sign-in: init writes an `oauth2` block (auth xoauth2, refresh token in a file) always
     * when `required` (the provider refuses passwords), else when asked to (--oauth).
     */
    oauth2: z.strictObject({ provider: z.enum(['microsoft', 'google']), required: z.boolean() }).optional(),
    notes: text,
    sources: z.array(z.strictObject({ url: z.url(), says: z.string().min(1) })),
    /** The values are defaults, not a provider's facts: check compares nothing (the generic preset). */
    defaultsOnly: z.boolean().optional(),
    /** Whether the host, port and TLS mode were read on the provider's own page (or a copy quoting it). */
    confirmed: z.boolean(),
  })
  .refine((p) => p.host !== null || p.hostExample !== undefined, { error: 'a preset without host needs a hostExample' });

export type Preset = z.infer<typeof presetSchema>;

const fileSchema = z.strictObject({
  $comment: z.string(),
  checked: z.iso.date(),
  presets: z.array(presetSchema).min(1),
});

/** The presets, validated once at load: a broken entry is a bug in the package, reported with its path. */
export const PRESET_FILE = fileSchema.parse(data);
export const PRESETS: readonly Preset[] = PRESET_FILE.presets;

export function presetById(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

function domainOf(address: string | undefined): string | undefined {
  const at = address?.lastIndexOf('@') ?? -1;
  return at > 0 ? address!.slice(at + 1).toLowerCase() : undefined;
}

/** The host for a mail address: null when the preset has none, or its template needs an address not given. */
export function presetHost(p: Preset, address?: string): string | null {
  if (p.host === null) return null;
  if (!p.host.includes('{')) return p.host;
  const domain = domainOf(address);
  if (domain === undefined) return null;
  return p.host.replace('{domain}', domain).replace('{subdomain}', domain.split('.')[0]!);
}

/** The USER for a mail address, or null when the provider issues account names (KAGOYA): init asks for it. */
export function presetLogin(p: Preset, address: string): string | null {
  if (p.login === 'address') return address;
  if (p.login === 'local-part') return address.slice(0, Math.max(0, address.lastIndexOf('@'))) || null;
  return null;
}

export interface PresetDifference {
  readonly field: 'host' | 'port' | 'tls' | 'user' | 'auth';
  readonly value: string;
  readonly preset: string;
}

/** What presetDifferences reads of a mailbox: its parsed config has all of it. */
export interface PresetComparable {
  readonly host: string;
  readonly port: number;
  readonly tls: string;
  readonly user: string;
  readonly auth: string;
  readonly accessToken?: unknown;
  readonly oauth2?: { readonly provider: string };
}

/** Where a mailbox's settings differ from its preset (a template host matches any address's domain). */
export function presetDifferences(p: Preset, m: PresetComparable): PresetDifference[] {
  const out: PresetDifference[] = [];
  if (p.defaultsOnly === true) return out;
  if (p.host !== null) {
    const pattern = new RegExp(
      `^${p.host.replace(/\./g, '\\.').replace('{domain}', '[^\\s]+').replace('{subdomain}', '[a-z0-9-]+')}$`,
      'i',
    );
    if (!pattern.test(m.host)) out.push({ field: 'host', value: m.host, preset: p.host });
  }
  if (m.port !== p.port) out.push({ field: 'port', value: String(m.port), preset: String(p.port) });
  if (m.tls !== p.tls) out.push({ field: 'tls', value: m.tls, preset: p.tls });
  const hasAt = m.user.includes('@');
  if (p.login === 'address' && !hasAt) out.push({ field: 'user', value: m.user, preset: 'the whole mail address' });
  if (p.login !== 'address' && hasAt)
    out.push({
      field: 'user',
      value: m.user,
      preset: p.login === 'account' ? `an account name such as ${p.loginExample ?? 'the one issued'}` : 'the part of the address before @',
    });
  // A token login is an oauth2 block (tokens refreshed) or a static accessToken; auto picks the token when given.
  const token = m.oauth2 !== undefined || m.accessToken !== undefined;
  const tokenLogin = token && (m.auth === 'xoauth2' || m.auth === 'oauthbearer' || m.auth === 'auto');
  if (p.oauth2?.required === true && !tokenLogin) {
    out.push({ field: 'auth', value: m.auth, preset: 'xoauth2 with an oauth2 block (the provider refuses passwords)' });
  }
  if (p.oauth2 !== undefined && m.oauth2 !== undefined && m.oauth2.provider !== p.oauth2.provider) {
    out.push({ field: 'auth', value: `oauth2 provider ${m.oauth2.provider}`, preset: `oauth2 provider ${p.oauth2.provider}` });
  }
  return out;
}
