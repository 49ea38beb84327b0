import { CodedError, type FailureClass } from './coded-error.ts';
import { redact } from './redact.ts';

/**
 * Every error code the project raises: its failure class, what it means and what to do. The one table: the CLI's
 * hints and the state's lastError come from it, and docs/errors.md is generated from it (`npm run docs:errors`; a
 * test keeps the two the same).
 */
export interface ErrorCodeInfo {
  readonly class: FailureClass;
  /** Where it is raised: the module whose error class carries it. */
  readonly source: string;
  readonly meaning: string;
  readonly action: string;
  readonly retryable: boolean;
}

const row = (cls: FailureClass, source: string, retryable: boolean, meaning: string, action: string): ErrorCodeInfo => ({
  class: cls,
  source,
  retryable,
  meaning,
  action,
});

export const ERROR_CODES = {
  // POP3 client (lib/pop3/errors.ts)
  ECONNECTION: row(
    'network',
    'pop3',
    true,
    'the TCP connection failed, the socket broke, or the greeting was -ERR',
    'check host and port and that the server is up; it is retried next run',
  ),
  ETIMEDOUT: row(
    'network',
    'pop3',
    true,
    'connect, TLS handshake, greeting or a response took too long',
    'a slow or stalled server; it is retried next run (timeouts are in the mailbox config)',
  ),
  ESLOW: row(
    'network',
    'pop3',
    true,
    'a response arrived slower than minBytesPerSecond over 30 s of receiving',
    'a slow or hostile server, or a poor link; what was stored is committed and it is retried next run (minBytesPerSecond in the mailbox config, 0 for no minimum)',
  ),
  ECLOSED: row(
    'network',
    'pop3',
    true,
    'the connection closed before the session was done',
    'retried next run; what was stored before is committed',
  ),
  ETLS: row(
    'tls',
    'pop3',
    false,
    'the TLS handshake failed: untrusted, expired or wrong-host certificate, or an old protocol',
    'check host name, port and tls mode; for a private CA set "ca", for another certificate name "servername"',
  ),
  ESTLS: row(
    'tls',
    'pop3',
    false,
    'STLS was required but not offered, refused, or bytes were injected before the handshake',
    'use port 995 with "tls": "implicit", or ask the provider for STLS',
  ),
  EINSECURE: row(
    'tls',
    'pop3',
    false,
    'credentials would cross the network in clear (or APOP outside TLS)',
    'use TLS; only for a trusted network set allowInsecureAuth',
  ),
  EAUTH: row(
    'auth',
    'pop3',
    false,
    'the server rejected the credentials',
    'check the user name and the password (or secret) of this mailbox',
  ),
  EINUSE: row(
    'protocol',
    'pop3',
    true,
    'the maildrop is locked by another session ([IN-USE])',
    'another client is reading this mailbox; it is retried next run',
  ),
  // RFC 2449 LOGIN-DELAY is the schedule's doing, not the server breaking the protocol: a distinct outcome, retried later.
  ELOGINDELAY: row(
    'network',
    'pop3',
    true,
    'logged in too soon after the last session ([LOGIN-DELAY]); the run summary carries retryAfterSeconds when the server advertised its delay',
    "poll less often than the server's LOGIN-DELAY (mail-ingest check --every <interval> shows it and warns); run --every waits it out",
  ),
  ESYSTEMP: row('protocol', 'pop3', true, 'a transient server failure ([SYS/TEMP])', 'retried next run'),
  ESYSPERM: row(
    'protocol',
    'pop3',
    false,
    'a permanent server failure ([SYS/PERM])',
    'ask the mail provider; the mailbox cannot be read as it is',
  ),
  EPROTOCOL: row(
    'protocol',
    'pop3',
    false,
    'the server broke the protocol (garbage, an overlong line, an absurd number, an unsolicited line)',
    "nothing was deleted; report the server's behaviour to its provider",
  ),
  ETOOLARGE: row(
    'protocol',
    'pop3',
    false,
    'a message passed maxMessageBytes',
    'its headers are archived and it is flagged oversized; raise maxMessageBytes to fetch it',
  ),
  ELISTINGLIMIT: row(
    'protocol',
    'pop3',
    false,
    'a LIST, UIDL or CAPA listing passed maxListingEntries or maxListingBytes',
    'a hostile server, or a maildrop that big: raise maxListingEntries / maxListingBytes for this mailbox if it really holds that many messages',
  ),
  ECOMMAND: row('protocol', 'pop3', false, 'the server answered -ERR to an ordinary command', "see the server's words in the message"),
  // The pipeline (lib/ingest/errors.ts)
  ENOUIDL: row(
    'protocol',
    'ingest',
    false,
    'the server does not support UIDL, so new mail cannot be told from mail already ingested',
    'use a server or account with UIDL; mail-ingest refuses to guess',
  ),
  EUIDLRESET: row(
    'protocol',
    'ingest',
    false,
    'every UIDL on the server is unknown but the messages look like those already ingested',
    'the server renumbered its UIDLs; to re-ingest everything once, run with --accept-uidl-reset',
  ),
  ELISTING: row(
    'protocol',
    'ingest',
    false,
    "the listing does not add up: message numbers repeat, are 0, skip one, exceed STAT's count, or differ between UIDL and LIST",
    "nothing was fetched, recorded or deleted this session; report the server's behaviour",
  ),
  EOVERSIZED: row(
    'protocol',
    'ingest',
    false,
    'a message sent more than maxMessageBytes although LIST said less (or a RETR that never ends)',
    'nothing to do: reading stopped at the limit, its headers are archived flagged oversized, and the rest of the mailbox follows; raise maxMessageBytes to fetch it',
  ),
  EDEADLINE: row(
    'network',
    'ingest',
    true,
    "the run's deadline (maxSessionSeconds, or the Lambda's time left) passed before any message was stored",
    'the server is too slow for the deadline: raise maxSessionSeconds, or check the link to the server',
  ),
  ESTATE: row(
    'storage',
    'ingest',
    true,
    'the state kept changing under this run (another writer)',
    "retried next run; check that no other process writes this mailbox's state",
  ),
  // Stores (lib/store/types.ts) and the consumer helper (lib/publish/resolve-document.ts)
  ECONFLICT: row(
    'storage',
    'store',
    false,
    'a different object already sits at a content-addressed key, or a compare-and-set lost',
    'nothing was overwritten or deleted; run `mail-ingest verify` and look at the key',
  ),
  EVERIFY: row(
    'storage',
    'store',
    false,
    'stored bytes or a document do not match their recorded hash or schema',
    'nothing was deleted; run `mail-ingest verify` to list what differs',
  ),
  EIO: row(
    'storage',
    'store',
    true,
    'the archive could not be read or written',
    'check disk space, permissions or the bucket; nothing was deleted from the server',
  ),
  ENOTFOUND: row(
    'storage',
    'store',
    false,
    'an archived object is missing',
    'the message is ingested again on the next run if still on the server; run `mail-ingest verify`',
  ),
  EACCESS: row('storage', 'store', false, 'the archive refused access', 'check the IAM policy or the folder permissions'),
  ELEASELOST: row(
    'storage',
    'store',
    true,
    "another run took over this mailbox's lease while this one ran (it stalled past the lease's expiry)",
    'nothing is lost: this run stopped and kept what it had committed; look for a process or host that stalls',
  ),
  EINVALID: row(
    'publish',
    'publish',
    false,
    'a queue message is neither a metadata document nor a claim check',
    'a producer other than mail-ingest wrote to the queue; inspect the dead-letter queue',
  ),
  EPRECONDITION: row(
    'storage',
    'processors',
    true,
    'a conditional write lost: someone else wrote the object first',
    'retried automatically after re-reading',
  ),
  ERAWMISMATCH: row(
    'storage',
    'processors',
    false,
    'the raw message does not match its document',
    'run `mail-ingest verify`; the record goes to the dead-letter queue',
  ),
  ETICKETCONFLICT: row(
    'storage',
    'processors',
    true,
    'a ticket kept changing during every attempt to update it',
    'retried later from the queue',
  ),
  // Publishing (lib/publish/types.ts, functions/commons/send-batch.ts)
  EPUBLISH: row(
    'publish',
    'publish',
    true,
    'metadata documents could not be published',
    'nothing was deleted from the server; they are published again next run',
  ),
  ESENDBATCH: row(
    'publish',
    'functions',
    true,
    'SQS did not accept some entries after retries',
    "retried from the queue; check the queue's policy and KMS key",
  ),
  // OAuth 2 tokens (lib/oauth2/errors.ts)
  EOAUTH2_GRANT: row(
    'auth',
    'oauth2',
    false,
    'the provider refused the refresh token: expired after its idle period, revoked, or already used',
    "sign in again: `mail-ingest auth --config FILE --mailbox ID` (the message names the provider's code, e.g. AADSTS700082)",
  ),
  EOAUTH2_CLIENT: row(
    'auth',
    'oauth2',
    false,
    'the provider refused the client id or secret',
    "fix clientId or clientSecret from the app registration (a secret's Value, not its ID; secrets expire)",
  ),
  EOAUTH2_SCOPE: row(
    'auth',
    'oauth2',
    false,
    'the scope was refused, never consented to, or gave no refresh token',
    'grant consent to the app (Entra admin center, or the Google consent screen), then sign in again',
  ),
  EOAUTH2_DENIED: row(
    'auth',
    'oauth2',
    false,
    'the device sign-in was declined or cancelled',
    'run `mail-ingest auth` again and accept the permissions',
  ),
  EOAUTH2_EXPIRED: row(
    'auth',
    'oauth2',
    false,
    'nobody signed in before the device code expired',
    'run `mail-ingest auth` again and finish within the time it shows',
  ),
  EOAUTH2_PROVIDER: row(
    'auth',
    'oauth2',
    false,
    'the token endpoint refused the request for another reason',
    "see the provider's words in the message; check tokenUrl, tenant and scope",
  ),
  EOAUTH2_UNAVAILABLE: row(
    'network',
    'oauth2',
    true,
    'the token endpoint could not be reached, timed out, or answered 5xx or 429',
    'retried next run; no POP3 login is tried meanwhile, so the account is not locked out',
  ),
  EOAUTH2_RESPONSE: row(
    'auth',
    'oauth2',
    true,
    'the token endpoint answered something that is not a usable token',
    'retried next run; if it persists, check tokenUrl (a proxy or captive portal may be answering)',
  ),
  EOAUTH2_NO_TOKEN: row(
    'auth',
    'oauth2',
    false,
    'no refresh token is stored for the mailbox yet',
    'sign in once: `mail-ingest auth --config FILE --mailbox ID`',
  ),
  EOAUTH2_STORE: row(
    'auth',
    'oauth2',
    false,
    'the refresh token could not be read or written (token file, Secrets Manager); retryable when the store was only unreachable',
    "check the token file (mode 0600, owned by the user running mail-ingest) or the secret and the role's GetSecretValue and PutSecretValue",
  ),
  EOAUTH2_REJECTED: row(
    'auth',
    'oauth2',
    false,
    'the mail server refused an access token the provider had just issued',
    'check that POP is enabled for the mailbox and the app may use it (POP.AccessAsUser.All, or POP.AccessAsApp with Add-MailboxPermission), and that "user" is the mailbox address',
  ),
  // Configuration (lib/config/errors.ts, lib/cli, functions/commons)
  ECONFIG: row(
    'config',
    'config',
    false,
    'the configuration cannot be used',
    'fix the problems listed (each with its path); `mail-ingest check` tries a config',
  ),
  ESECRET: row(
    'config',
    'config',
    false,
    'a password or token could not be resolved from its env variable or secret',
    'set the variable or create the secret; the error names it, never its value',
  ),
  EUSAGE: row('config', 'cli', false, 'the command line is wrong', 'see `mail-ingest <command> --help`'),
  ECFNPROPS: row(
    'config',
    'functions',
    false,
    'a property the config writer needs is missing or malformed, or the static part is not UTF-8 or over 32 MiB',
    "the template was not made by this version's ConfigDeployment: synth and deploy again from the same checkout",
  ),
  ECFNTIMEOUT: row(
    'network',
    'functions',
    true,
    'the config writer did not finish before its deadline; CloudFormation was told FAILED',
    'S3 was slow or unreachable: deploy again',
  ),
  ECFNRESPONSE: row(
    'network',
    'functions',
    true,
    "CloudFormation's ResponseURL did not accept the config writer's answer",
    'the stack fails after its 5-minute ServiceTimeout: deploy again',
  ),
  EENV: row(
    'config',
    'functions',
    false,
    'the Lambda function is missing an environment variable',
    'the deployment is broken: deploy again with `cdk deploy`',
  ),
  // The search index and the archive viewer (lib/search/errors.ts), exports (lib/export/errors.ts)
  EQUERY: row(
    'config',
    'search',
    false,
    'a search query or filter is malformed (a day that does not exist, an unknown flag, ...)',
    'fix the parameters the message lists, all at once',
  ),
  EINDEX: row(
    'storage',
    'search',
    false,
    'the search index file cannot be opened or written (permissions, disk full, a damaged file)',
    'check the path and free space; `mail-ingest index --rebuild` recreates it from the archive',
  ),
  EINDEXBUSY: row(
    'storage',
    'search',
    true,
    'another process held the search index past the wait (a rebuild in progress)',
    'try again when it is done; runs catch the index up next time',
  ),
  EEXPORTVERIFY: row(
    'storage',
    'export',
    false,
    'an archived message does not hash to its recorded sha256, or cannot be read',
    'the export stopped and left no file; run `mail-ingest verify`, restore the object, export again',
  ),
  EEXPORTOUT: row(
    'storage',
    'export',
    false,
    'the export file could not be written, or the download was closed before the end',
    'check the path and free space, and export again',
  ),
  EZIP: row(
    'internal',
    'export',
    false,
    'the zip writer was given a duplicate or unsafe entry name',
    'please report it with the line that names it',
  ),
  EINTERNAL: row('internal', 'any', false, 'an unexpected error', 'please report it with the line that names it'),
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode] : undefined;
}

/** The failure class of a code from the table; 'internal' for a code the table does not know. */
export function classOfCode(code: string): FailureClass {
  return errorCodeInfo(code)?.class ?? 'internal';
}

export interface ClassifiedError {
  readonly class: FailureClass;
  readonly code: string;
  readonly message: string;
}

/**
 * Classifies any error thrown during a run: the class tells an operator where to look. The message is redacted
 * (a server may echo the password): this is what summaries, logs and the state's lastError show.
 */
export function classifyError(err: unknown): ClassifiedError {
  const c = classifyRaw(err);
  return { ...c, message: redact(c.message) };
}

function classifyRaw(err: unknown): ClassifiedError {
  if (err instanceof CodedError) return { class: err.failureClass, code: err.code, message: err.message || err.code };
  const e = err as { message?: unknown; code?: unknown } | null;
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  // An AbortSignal fired (shutdown, a deadline): the session ended from our side, as a network cut would.
  if (e?.code === 'ABORT_ERR' || (err instanceof DOMException && err.code === DOMException.ABORT_ERR))
    return { class: 'network', code: 'EABORTED', message };
  // A foreign error (Node's, a library's): keep its code for the report, but nothing says where to look.
  return { class: 'internal', code: typeof e?.code === 'string' ? e.code : 'EINTERNAL', message };
}

/** What to do about an error, from the table: by its code, else by its class. */
export function hintFor(error: { readonly class: FailureClass; readonly code: string }): string {
  return errorCodeInfo(error.code)?.action ?? CLASS_HINTS[error.class];
}

export const CLASS_HINTS: Readonly<Record<FailureClass, string>> = {
  auth: 'check the user name and password (or secret) for this mailbox',
  tls: 'check the host name, port, tls mode and CA file; the server certificate did not verify or TLS was refused',
  network: 'the server could not be reached or dropped the connection; it will be retried next run',
  protocol: 'the server answered in a way mail-ingest will not risk; see the message',
  storage: 'the archive could not be written; nothing was deleted from the server',
  publish: 'metadata could not be published; nothing was deleted from the server, it will be published again next run',
  config: 'fix the configuration',
  internal: 'unexpected error; please report it with this line',
};
