import type { ProcessorKind } from '../processors/registry.ts';
import type { AuthMechanism, Pop3Timeouts, TlsMode } from '../pop3/types.ts';

/** Server-side retention after a message is safely stored. */
export type Retention = 'keep' | 'delete' | { readonly deleteAfterDays: number };

/** A password or token: a literal (local use only), an environment variable, or an AWS Secrets Manager secret. */
export type SecretRef = string | { readonly env: string } | { readonly secretId: string };

export type OAuth2Provider = 'microsoft' | 'google' | 'generic';

/** `delegated`: a person's mailbox, through a refresh token from `mail-ingest auth`; `client-credentials`: app-only. */
export type OAuth2Flow = 'delegated' | 'client-credentials';

/**
 * Where a refresh token lives. A token file (JSON, mode 0600; `file` is absolute after parsing) and a Secrets
 * Manager secret are written back when the provider rotates the token; an environment variable is only read.
 */
export type TokenRef = { readonly file: string } | { readonly secretId: string } | { readonly env: string };

/** How a mailbox gets its OAuth 2 access tokens (see lib/oauth2). */
export interface OAuth2Config {
  readonly provider: OAuth2Provider;
  /** Microsoft: the tenant id or domain (or "organizations" for delegated sign-in of any work account). */
  readonly tenant?: string;
  /** @default 'delegated' */
  readonly flow: OAuth2Flow;
  readonly clientId: string;
  /** Confidential clients and client credentials; a public client (device sign-in) has none. */
  readonly clientSecret?: SecretRef;
  /** Delegated flow only. */
  readonly refreshToken?: TokenRef;
  /** @default the provider's (required for generic) */
  readonly tokenUrl?: string;
  /** RFC 8628 endpoint for `mail-ingest auth`. @default the provider's */
  readonly deviceAuthorizationUrl?: string;
  /** Authorization endpoint for `mail-ingest auth` in a browser (RFC 8252). @default the provider's */
  readonly authorizationUrl?: string;
  /** @default the provider's POP3 scope for the flow (required for generic) */
  readonly scope?: string;
}

export interface FsStoreConfig {
  readonly type: 'fs';
  /** Absolute (resolved against the config file's folder). */
  readonly dir: string;
}

export interface S3StoreConfig {
  readonly type: 's3';
  readonly bucket: string;
  /** Normalized: no leading or trailing slash; '' for none. */
  readonly prefix: string;
  /** @default the AWS SDK's region chain */
  readonly region?: string;
  readonly endpoint?: string;
  /** @default false */
  readonly forcePathStyle: boolean;
  readonly kmsKeyId?: string;
  /** 'aws:kms' when kmsKeyId is set and sse is not; otherwise the bucket's default encryption applies. */
  readonly sse?: 'aws:kms' | 'AES256';
}

export type StoreConfig = FsStoreConfig | S3StoreConfig;

/** Plain data; every condition given must hold (see lib/publish/filter.ts). */
export interface TargetFilter {
  readonly mailbox?: readonly string[];
  /** Addresses or `@domain`, matched case-insensitively against To and Cc. */
  readonly to?: readonly string[];
  readonly hasAttachments?: boolean;
  readonly autoReply?: boolean;
  readonly bounce?: boolean;
  readonly list?: boolean;
}

export interface TargetConfig {
  readonly name: string;
  readonly queueUrl: string;
  readonly filter?: TargetFilter;
}

export interface LocalProcessorConfig {
  readonly name: string;
  readonly kind: ProcessorKind;
  /** @default the processor's default filter (lib/processors/registry.ts) */
  readonly filter?: TargetFilter;
}

export type PublishConfig =
  | { readonly type: 'local'; readonly processors?: readonly LocalProcessorConfig[] }
  | { readonly type: 'sqs'; readonly region?: string; readonly endpoint?: string; readonly targets: readonly TargetConfig[] };

/**
 * Bounds on one run of a mailbox. The mailbox's own value, else the one in `defaults`, is chosen once, when the
 * config is normalised (parse-config.ts); maxSessionSeconds then has its built-in default too, and the listing and
 * rate bounds left unset get the POP3 client's own (lib/pop3/options.ts).
 */
export interface SessionLimits {
  /** @default 900 for the CLI; in Lambda also bounded by the time left */
  readonly maxSessionSeconds?: number;
  /** @default 1024; 0 for no minimum */
  readonly minBytesPerSecond?: number;
  /** @default 1000000 */
  readonly maxListingEntries?: number;
  /** @default 67108864 (64 MiB) */
  readonly maxListingBytes?: number;
}

export const SESSION_LIMIT_KEYS = [
  'maxSessionSeconds',
  'minBytesPerSecond',
  'maxListingEntries',
  'maxListingBytes',
] as const satisfies ReadonlyArray<keyof SessionLimits>;

/** Values every mailbox inherits unless it sets its own. */
export interface MailboxDefaults extends SessionLimits {
  /** @default 'keep' */
  readonly retention: Retention;
  /** @default 104857600 (100 MiB) */
  readonly maxMessageBytes: number;
  /** @default unlimited */
  readonly maxMessagesPerRun?: number;
  /** @default false */
  readonly deleteOversized: boolean;
}

/** One mailbox, validated, with defaults applied and `ca` resolved to an absolute path (or PEM text). */
export interface MailboxConfig extends SessionLimits {
  /** The mailbox's own, else `defaults`, else 900. */
  readonly maxSessionSeconds: number;
  readonly id: string;
  readonly host: string;
  /** 995 for implicit TLS, 110 otherwise, unless set. */
  readonly port: number;
  readonly tls: TlsMode;
  /** Absolute path of a PEM file, or PEM text given inline. */
  readonly ca?: string;
  readonly servername?: string;
  readonly user: string;
  readonly password?: SecretRef;
  readonly accessToken?: SecretRef;
  /** Access tokens obtained and refreshed by mail-ingest itself (instead of a static accessToken). */
  readonly oauth2?: OAuth2Config;
  readonly auth: AuthMechanism;
  readonly allowInsecureAuth: boolean;
  readonly pipelining: boolean;
  readonly retention: Retention;
  readonly maxMessageBytes: number;
  readonly deleteOversized: boolean;
  readonly maxMessagesPerRun?: number;
  readonly acceptUidlReset: boolean;
  readonly enabled: boolean;
  readonly timeouts?: Pop3Timeouts;
  /** The provider preset (lib/presets) the mailbox was made from, compared by `check`. */
  readonly preset?: string;
}

export interface Config {
  readonly store: StoreConfig;
  /** `{ type: 'local' }` (events.jsonl in the fs store's folder) when the file has no `publish`. */
  readonly publish: PublishConfig;
  /** Mailboxes polled at once. @default 4 */
  readonly concurrency: number;
  readonly defaults: MailboxDefaults;
  readonly mailboxes: readonly MailboxConfig[];
}

export const DEFAULT_MAX_MESSAGE_BYTES = 100 * 1024 * 1024;
/** A run of a mailbox ends by then, however slow the server (Lambda also bounds it by the time left). */
export const DEFAULT_MAX_SESSION_SECONDS = 900;
export const DEFAULT_CONCURRENCY = 4;
