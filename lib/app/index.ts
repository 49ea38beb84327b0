// The application: from a validated config to running mailboxes. Both the CLI and the Lambda poller use it.
export { createAdapters } from './adapters.ts';
export type { AdapterClients, Adapters } from './adapters.ts';
export { resolveCredentials, toMailboxJob } from './mailbox-job.ts';
export type { MailboxCredentials } from './mailbox-job.ts';
export { runAll, selectMailboxes } from './run-all.ts';
export type { RunAllOptions } from './run-all.ts';
export { connectWithTokenRenewal, oauth2Login } from './oauth2-login.ts';
export type { OAuth2Login } from './oauth2-login.ts';
