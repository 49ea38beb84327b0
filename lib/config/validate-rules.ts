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
      else issues.push({ path: at('id'), message: `duplicate mailbox id ${JSON.stringify(m.id)} (already used by mailboxes[${first}]; ids are compared ignoring case)` });
    }
    if (m.tls === 'none' && m.allowInsecureAuth !== true) {
      issues.push({ path: at('tls'), message: `${label}: tls "none" would send the credentials unencrypted; refused unless "allowInsecureAuth": true is set for this mailbox` });
    }
    const hasPassword = m.password !== undefined;
    const hasToken = m.accessToken !== undefined;
    if (!hasPassword && !hasToken) {
      issues.push({ path: at(), message: `${label}: "password" or "accessToken" is required` });
    } else if (m.auth === 'xoauth2' && !hasToken) {
      issues.push({ path: at('accessToken'), message: `${label}: auth "xoauth2" needs "accessToken"` });
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
      if (isObj(p) && p.name === 'events') issues.push({ path: `publish.processors[${j}].name`, message: '"events" is the event log\'s own name' });
    });
    issues.push(...namedFilterIssues(publish.processors, 'publish.processors', 'processor', ids));
  }
  if (isObj(publish) && publish.type === 'sqs' && Array.isArray(publish.targets)) {
    issues.push(...namedFilterIssues(publish.targets, 'publish.targets', 'target', ids));
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
      else issues.push({ path: `${path}[${j}].name`, message: `duplicate ${noun} name ${JSON.stringify(t.name)} (already used by ${path}[${first}])` });
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
