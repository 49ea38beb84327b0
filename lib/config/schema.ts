/**
 * The configuration file's schema (zod v4). The schema checks shapes and ranges field by field; rules that span
 * fields (tls "none" vs allowInsecureAuth, credentials present, unique ids) are checked in `validate-rules.ts` so
 * that every problem is reported in one pass even when the shapes are wrong too.
 */
import * as z from 'zod';
import { MAILBOX_ID_PATTERN, normalizePrefix } from '../store/keys.ts';
import { PROCESSOR_KINDS } from '../processors/registry.ts';

/** Separates the per-key messages of one unrecognized_keys issue; `parse-config.ts` splits them again. */
export const KEY_MESSAGE_SEPARATOR = '\u0000';

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  if (best !== null && bestDistance <= Math.max(2, Math.floor(key.length / 3))) return `unknown key (did you mean "${best}"?)`;
  return `unknown key (allowed here: ${known.join(', ')})`;
}

/** A strict object whose unknown-key issues name the key and suggest the closest allowed one. */
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? iss.keys.map((k) => unknownKeyMessage(k, known)).join(KEY_MESSAGE_SEPARATOR) : undefined,
  });
}

// Checked, not trimmed: values such as a user name or PEM text are used exactly as written.
const nonEmpty = z.string().regex(/\S/, { error: 'must not be empty' });
const positiveInt = z.number().int().min(1);
// Not z.url(): a WHATWG parser refuses hosts such as `sqs.us-east-1.127.0.0.1` (read as a broken IPv4 address),
// which local SQS servers put in their queue URLs; the SDK only needs the text.
const httpUrl = z.string().regex(/^https?:\/\/[^\s/?#]+(?:[/?#]\S*)?$/i, { error: 'must be an http:// or https:// URL' });

export const mailboxIdSchema = z.string().regex(MAILBOX_ID_PATTERN, {
  error: 'must be 1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit (it becomes a folder and key name)',
});

const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A password or token: a literal (local use only), an environment variable, or an AWS Secrets Manager secret. */
export const secretRefSchema = z.union(
  [
    z.string().min(1, { error: 'must not be empty' }),
    z.strictObject({
      env: z.string().regex(envNamePattern, { error: 'must be an environment variable name such as "SUPPORT_POP3_PASSWORD"' }),
    }),
    z.strictObject({ secretId: z.string().min(1).max(2048) }),
  ],
  {
    error: (iss) => {
      const input = iss.input as unknown;
      if (input === '') return 'must not be empty';
      if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
        const keys = Object.keys(input);
        if (keys.includes('env') && keys.includes('secretId')) return 'use either "env" or "secretId", not both';
        if (keys.length === 1 && keys[0] === 'env') return '"env" must be an environment variable name such as "SUPPORT_POP3_PASSWORD"';
        if (keys.length === 1 && keys[0] === 'secretId') return '"secretId" must be a secret name or ARN';
      }
      return 'must be a string, { "env": "VARIABLE" } or { "secretId": "name-or-arn" }';
    },
  },
);

/** Where a refresh token is kept. Never a literal: it is a long-lived credential, and it changes on rotation. */
export const tokenRefSchema = z.union(
  [
    z.strictObject({ file: nonEmpty.describe('A JSON token file, mode 0600, relative to the config file; written back on rotation') }),
    z.strictObject({
      secretId: z.string().min(1).max(2048).describe('An AWS Secrets Manager secret; rotation writes a new version (PutSecretValue)'),
    }),
    z.strictObject({
      env: z
        .string()
        .regex(envNamePattern, { error: 'must be an environment variable name such as "SUPPORT_REFRESH_TOKEN"' })
        .describe('Read only: a rotated token cannot be written back'),
    }),
  ],
  {
    error: (iss) => {
      const input = iss.input as unknown;
      if (typeof input === 'string')
        return 'must not be the token itself: use { "file": "tokens/NAME.json" } or { "secretId": "name-or-arn" }';
      return 'must be { "file": "path" }, { "secretId": "name-or-arn" } or { "env": "VARIABLE" }';
    },
  },
);

// A token endpoint receives the client secret and the refresh token: TLS, except to this machine (a local server).
const tokenEndpointUrl = z
  .string()
  .regex(/^(?:https:\/\/[^\s/?#@]+|http:\/\/(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::\d{1,5})?)(?:[/?#]\S*)?$/i, {
    error: 'must be an https:// URL (http:// only to 127.0.0.1, localhost or [::1])',
  });

export const OAUTH2_PROVIDERS = ['microsoft', 'google', 'generic'] as const;

export const oauth2Schema = strict({
  provider: z.enum(OAUTH2_PROVIDERS, { error: 'must be "microsoft", "google" or "generic"' }),
  tenant: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,254}$/, { error: 'must be a tenant id (GUID) or a domain such as contoso.onmicrosoft.com' })
    .optional()
    .describe('Microsoft: the tenant id or domain; "organizations" lets any work account sign in (delegated only)'),
  flow: z
    .enum(['delegated', 'client-credentials'])
    .optional()
    .describe(
      'delegated (default): a person signs in once with `mail-ingest auth`; client-credentials: app-only (Microsoft POP.AccessAsApp)',
    ),
  clientId: nonEmpty.describe('The application (client) id'),
  clientSecret: secretRefSchema.optional().describe('For a confidential client and for client-credentials; a public client has none'),
  refreshToken: tokenRefSchema.optional().describe('delegated: where the refresh token is kept and rotated'),
  tokenUrl: tokenEndpointUrl.optional().describe("Token endpoint; required for generic, overrides the provider's otherwise"),
  deviceAuthorizationUrl: tokenEndpointUrl.optional().describe('RFC 8628 device authorization endpoint for `mail-ingest auth`'),
  authorizationUrl: tokenEndpointUrl.optional().describe('Authorization endpoint for `mail-ingest auth --browser` (RFC 8252)'),
  scope: z
    .string()
    .regex(/^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/, {
      error: 'must be scope tokens separated by single spaces (RFC 6749 section 3.3)',
    })
    .optional()
    .describe("Required for generic; default the provider's POP3 scope for the flow"),
});

export const retentionSchema = z.union(
  [z.literal('keep'), z.literal('delete'), strict({ deleteAfterDays: z.number().int().min(0).max(36500) })],
  { error: 'must be "keep", "delete" or { "deleteAfterDays": N } (N whole days, 0-36500)' },
);

const addressOrDomain = z.string().regex(/^(?:[^@\s]+@[^@\s]+\.[^@\s]+|@[^@\s]+\.[^@\s]+)$/, {
  error: 'must be an address (user@example.jp) or a domain written "@example.jp"',
});

export const targetFilterSchema = strict({
  /** Only documents from these mailboxes. */
  mailbox: z.array(mailboxIdSchema).min(1).optional(),
  /** An address or `@domain` among the document's To or Cc. */
  to: z.array(addressOrDomain).min(1).optional(),
  /** Whether the message has an attachment that is not inline. */
  hasAttachments: z.boolean().optional(),
  autoReply: z.boolean().optional(),
  bounce: z.boolean().optional(),
  list: z.boolean().optional(),
});

export const targetSchema = strict({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/, { error: 'must be 1-80 letters, digits, "_" or "-"' }),
  queueUrl: httpUrl,
  filter: targetFilterSchema.optional(),
});

/** The downstream processors that can also run locally, over the fs archive: lib/processors/registry.ts. */
export const LOCAL_PROCESSOR_KINDS = PROCESSOR_KINDS;

export const localProcessorSchema = strict({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/, { error: 'must be 1-80 letters, digits, "_" or "-"' })
    .describe('Also the folder of its output: <store dir>/processors/<name>/'),
  kind: z.enum(LOCAL_PROCESSOR_KINDS, { error: `must be one of ${LOCAL_PROCESSOR_KINDS.join(', ')}` }),
  filter: targetFilterSchema.optional(),
});

const fsStoreSchema = strict({
  type: z.literal('fs'),
  dir: nonEmpty.describe('Folder of the archive (raw/, state/, events.jsonl), relative to the config file'),
});
const s3StoreSchema = strict({
  type: z.literal('s3'),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'must be a valid S3 bucket name (3-63 lower-case letters, digits, "." or "-")' }),
  prefix: z
    .string()
    .describe('Key prefix for everything this store writes')
    .refine(
      (p) => {
        try {
          normalizePrefix(p);
          return true;
        } catch {
          return false;
        }
      },
      {
        error: 'must be a key prefix without empty, "." or ".." segments',
      },
    )
    .optional(),
  region: nonEmpty.optional(),
  endpoint: httpUrl.optional(),
  forcePathStyle: z.boolean().optional().describe('Path-style URLs (needed by most S3-compatible servers)'),
  kmsKeyId: nonEmpty.optional().describe('KMS key id, ARN or alias for SSE-KMS'),
  sse: z.enum(['aws:kms', 'AES256']).optional().describe('Server-side encryption; aws:kms when kmsKeyId is set'),
});

export const storeSchema = z.discriminatedUnion('type', [fsStoreSchema, s3StoreSchema], {
  error: (iss) => (iss.code === 'invalid_union' ? '"type" must be "fs" or "s3"' : undefined),
});

export const publishSchema = z.discriminatedUnion(
  'type',
  [
    strict({
      type: z.literal('local'),
      processors: z.array(localProcessorSchema).optional().describe('Run after each document is appended to events.jsonl'),
    }),
    strict({
      type: z.literal('sqs'),
      region: nonEmpty.optional(),
      endpoint: httpUrl.optional(),
      targets: z.array(targetSchema).min(1, { error: 'at least one target is required' }),
    }),
  ],
  { error: (iss) => (iss.code === 'invalid_union' ? '"type" must be "local" or "sqs"' : undefined) },
);

const maxMessageBytes = positiveInt.max(Number.MAX_SAFE_INTEGER);

/** Bounds on one run of a mailbox, whatever the server does; in the mailbox or in `defaults`. */
const sessionLimits = {
  maxSessionSeconds: positiveInt
    .max(86_400)
    .optional()
    .describe(
      'A run of this mailbox ends by then, however slow the server: what is stored is committed (CLI default 900; Lambda: also the time left)',
    ),
  minBytesPerSecond: z
    .number()
    .int()
    .min(0)
    .max(1_073_741_824)
    .optional()
    .describe('A transfer slower than this over 30 s of receiving ends the session (default 1024; 0: no minimum)'),
  maxListingEntries: positiveInt.max(100_000_000).optional().describe('Entries a UIDL or LIST listing may hold (default 1000000)'),
  maxListingBytes: positiveInt
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('Bytes a UIDL or LIST listing may take (default 67108864, 64 MiB)'),
};

export const defaultsSchema = strict({
  retention: retentionSchema.optional(),
  maxMessageBytes: maxMessageBytes.optional(),
  maxMessagesPerRun: positiveInt.optional(),
  deleteOversized: z.boolean().optional(),
  ...sessionLimits,
});

const timeoutMs = positiveInt.max(3_600_000);

export const mailboxSchema = strict({
  id: mailboxIdSchema,
  host: z
    .string()
    .min(1, { error: 'must not be empty' })
    .check((ctx) => {
      const h = ctx.value;
      // One colon is a "host:port" mistake; an IPv6 literal has several.
      const problem = /[\s/@]/.test(h)
        ? 'must be a host name or IP address, without scheme or user'
        : (h.match(/:/g) ?? []).length === 1
          ? 'must not include the port: use "port"'
          : null;
      if (problem !== null) ctx.issues.push({ code: 'custom', input: h, message: problem });
    }),
  port: z.number().int().min(1).max(65535).optional().describe('Default 995 for implicit TLS, 110 otherwise'),
  tls: z
    .enum(['implicit', 'starttls', 'none'])
    .optional()
    .describe('implicit (POP3S, default), starttls (STLS), none (needs allowInsecureAuth)'),
  /** Extra CA certificate(s): a PEM file path (relative to the config file) or PEM text. */
  ca: nonEmpty.optional().describe('Extra CA certificate: a PEM file (relative to the config file) or PEM text'),
  servername: nonEmpty.optional().describe('Name to verify the certificate against (SNI); default host'),
  user: nonEmpty,
  password: secretRefSchema.optional(),
  accessToken: secretRefSchema.optional(),
  oauth2: oauth2Schema.optional().describe('Get and refresh OAuth 2 access tokens (Microsoft 365, Gmail) instead of a static accessToken'),
  auth: z
    .enum(['auto', 'user', 'plain', 'xoauth2', 'oauthbearer', 'apop'])
    .optional()
    .describe('Login mechanism; auto picks the strongest offered'),
  allowInsecureAuth: z.boolean().optional().describe('Allow sending credentials without TLS (tls none)'),
  pipelining: z.boolean().optional(),
  retention: retentionSchema.optional().describe('keep (default), delete after safe storage, or { deleteAfterDays: N }'),
  maxMessageBytes: maxMessageBytes.optional().describe('Larger messages are not fetched: headers kept via TOP, reported (default 100 MiB)'),
  deleteOversized: z.boolean().optional().describe('Let retention delete oversized messages too'),
  maxMessagesPerRun: positiveInt.optional(),
  acceptUidlReset: z.boolean().optional().describe('Proceed once when every UIDL looks new (server UIDL reset); re-ingests the mailbox'),
  ...sessionLimits,
  enabled: z.boolean().optional(),
  preset: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, { error: 'must be a preset id such as "ocn" (mail-ingest init --list-presets)' })
    .optional()
    .describe('The provider preset the mailbox was made from (mail-ingest init); check says where host, port, tls or user differ from it'),
  timeouts: strict({
    connectMs: timeoutMs.optional(),
    tlsMs: timeoutMs.optional(),
    greetingMs: timeoutMs.optional(),
    responseMs: timeoutMs.optional(),
    idleMs: timeoutMs.optional(),
  }).optional(),
});

export const configSchema = strict({
  /** Lets editors find the JSON Schema; ignored otherwise. */
  $schema: z.string().optional(),
  store: storeSchema,
  publish: publishSchema.optional().describe('Default: local events.jsonl in the fs store folder'),
  concurrency: z.number().int().min(1).max(64).optional().describe('Mailboxes polled at once (default 4)'),
  defaults: defaultsSchema.optional().describe('Values for every mailbox that does not set its own'),
  mailboxes: z.array(mailboxSchema).min(1, { error: 'at least one mailbox is required' }),
});

export type ConfigInput = z.input<typeof configSchema>;
