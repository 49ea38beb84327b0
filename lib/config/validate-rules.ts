/**
 * Rules spanning several fields. They run on the raw JSON, beside the schema, and tolerate wrong types (the
 * schema reports those), so a single pass reports every problem in the file.
 */
import type { ConfigIssue } from './errors.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function crossFieldIssues(input: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!isObj(input)) return issues;
  const ids = new Map<string, number>();
  const mailboxes = Array.isArray(input.mailboxes) ? input.mailboxes : [];
  mailboxes.forEach((m: unknown, i) => {
    if (!isObj(m)) return;
    const at = (field?: string) => (field === undefined ? `mailboxes[${i}]` : `mailboxes[${i}].${field}`);
    const label = typeof m.id === 'string' ? `mailbox ${JSON.stringify(m.id)}` : `mailbox #${i + 1}`;
    if (typeof m.id === 'string') {
      // Case-insensitive: the id names a folder, and macOS and Windows folders ignore case.
      const folded = m.id.toLowerCase();
      const first = ids.get(folded);
      if (first === undefined) ids.set(folded, i);
      else
        issues.push({
          path: at('id'),
          message: `duplicate mailbox id ${JSON.stringify(m.id)} (already used by mailboxes[${first}]; ids are compared ignoring case)`,
        });
    }
    if (m.tls === 'none' && m.allowInsecureAuth !== true) {
      issues.push({
        path: at('tls'),
        message: `${label}: tls "none" would send the credentials unencrypted; refused unless "allowInsecureAuth": true is set for this mailbox`,
      });
    }
    const hasPassword = m.password !== undefined;
    const hasToken = m.accessToken !== undefined;
    const oauth2 = isObj(m.oauth2) ? m.oauth2 : undefined;
    const tokenAuth = m.auth === 'xoauth2' || m.auth === 'oauthbearer';
    if (oauth2 !== undefined) {
      issues.push(...oauth2Issues(m, oauth2, at, label));
    } else if (!hasPassword && !hasToken) {
      issues.push({ path: at(), message: `${label}: "password", "accessToken" or "oauth2" is required` });
    } else if (tokenAuth && !hasToken) {
      issues.push({
        path: at('accessToken'),
        message: `${label}: auth ${JSON.stringify(m.auth)} needs "accessToken" or an "oauth2" block`,
      });
    } else if ((m.auth === 'user' || m.auth === 'plain' || m.auth === 'apop') && !hasPassword) {
      issues.push({ path: at('password'), message: `${label}: auth ${JSON.stringify(m.auth)} needs "password"` });
    }
    if (m.auth === 'apop' && m.tls === 'none') {
      issues.push({ path: at('auth'), message: `${label}: APOP (MD5) is only allowed inside TLS` });
    }
  });

  const store = input.store;
  if (isObj(store) && store.type === 's3' && store.kmsKeyId !== undefined && store.sse === 'AES256') {
    issues.push({ path: 'store.sse', message: '"kmsKeyId" needs "sse": "aws:kms" (or leave "sse" out)' });
  }

  const publish = input.publish;
  if (isObj(publish) && publish.type === 'local' && Array.isArray(publish.processors)) {
    if (isObj(store) && store.type === 's3') {
      issues.push({ path: 'publish.processors', message: 'local processors need an fs store (with S3, add them as SQS targets)' });
    }
    publish.processors.forEach((p: unknown, j) => {
      if (isObj(p) && p.name === 'events')
        issues.push({ path: `publish.processors[${j}].name`, message: '"events" is the event log\'s own name' });
    });
    issues.push(...namedFilterIssues(publish.processors, 'publish.processors', 'processor', ids));
  }
  if (isObj(publish) && publish.type === 'sqs' && Array.isArray(publish.targets)) {
    issues.push(...namedFilterIssues(publish.targets, 'publish.targets', 'target', ids));
  }
  return issues;
}

/** The oauth2 block: what each provider and flow needs, and nothing that contradicts it. */
function oauth2Issues(m: Obj, o: Obj, at: (field?: string) => string, label: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const push = (field: string, message: string) => issues.push({ path: at(field), message: `${label}: ${message}` });
  if (m.password !== undefined) push('password', '"oauth2" and "password" exclude each other (the login uses the OAuth 2 token)');
  if (m.accessToken !== undefined) push('accessToken', '"oauth2" gets and refreshes the access token itself: remove "accessToken"');
  if (m.auth === 'user' || m.auth === 'plain' || m.auth === 'apop')
    push('auth', `"oauth2" logs in with a token: auth must be "xoauth2", "oauthbearer" or "auto", not ${JSON.stringify(m.auth)}`);
  const flow = o.flow ?? 'delegated';
  if (o.provider === 'microsoft' && o.tenant === undefined)
    push('oauth2.tenant', 'provider "microsoft" needs "tenant" (the tenant id, or a domain such as contoso.onmicrosoft.com)');
  if (o.provider !== 'microsoft' && o.provider !== undefined && o.tenant !== undefined)
    push('oauth2.tenant', `"tenant" is for provider "microsoft" only`);
  if (o.provider === 'generic' && o.tokenUrl === undefined) push('oauth2.tokenUrl', 'provider "generic" needs "tokenUrl"');
  if (o.provider === 'generic' && o.scope === undefined) push('oauth2.scope', 'provider "generic" needs "scope"');
  if (flow === 'client-credentials') {
    if (o.provider === 'google') push('oauth2.flow', 'Google offers no client-credentials grant for Gmail: use "flow": "delegated"');
    if (o.clientSecret === undefined) push('oauth2.clientSecret', 'flow "client-credentials" needs "clientSecret"');
    if (o.refreshToken !== undefined) push('oauth2.refreshToken', 'flow "client-credentials" uses no refresh token: remove "refreshToken"');
    if (typeof o.tenant === 'string' && ['common', 'organizations', 'consumers'].includes(o.tenant.toLowerCase())) {
      push('oauth2.tenant', `flow "client-credentials" needs the tenant itself (its id or domain), not ${JSON.stringify(o.tenant)}`);
    }
  } else if (flow === 'delegated' && o.refreshToken === undefined) {
    push(
      'oauth2.refreshToken',
      'flow "delegated" needs "refreshToken": where `mail-ingest auth` stores it, e.g. { "file": "tokens/support.json" } or { "secretId": "mail-ingest/support-refresh-token" }',
    );
  }
  return issues;
}

/** Publish targets and local processors alike: unique names, and filters that name configured mailboxes only. */
function namedFilterIssues(items: unknown[], path: string, noun: string, ids: { has(id: string): boolean }): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  items.forEach((t: unknown, j) => {
    if (!isObj(t)) return;
    if (typeof t.name === 'string') {
      const first = names.get(t.name);
      if (first === undefined) names.set(t.name, j);
      else
        issues.push({
          path: `${path}[${j}].name`,
          message: `duplicate ${noun} name ${JSON.stringify(t.name)} (already used by ${path}[${first}])`,
        });
    }
    const filter = t.filter;
    if (isObj(filter) && Array.isArray(filter.mailbox)) {
      filter.mailbox.forEach((id: unknown, k) => {
        if (typeof id === 'string' && !ids.has(id.toLowerCase())) {
          issues.push({ path: `${path}[${j}].filter.mailbox[${k}]`, message: `no mailbox with id ${JSON.stringify(id)} is configured` });
        }
      });
    }
  });
  return issues;
}
