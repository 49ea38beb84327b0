import { createHash } from 'node:crypto';
import type { Capabilities } from './capabilities.ts';
import { saslMechanisms } from './capabilities.ts';
import type { CommandSpec } from './command.ts';
import type { Pop3Connection } from './connection.ts';
import { Pop3Error } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import type { AuthMechanism } from './types.ts';

type Mechanism = Exclude<AuthMechanism, 'auto'>;

/** `auto`: XOAUTH2 when a token is given, then SASL PLAIN, then USER/PASS (RFC 1939). APOP only when asked for. */
export function chooseMechanism(o: ResolvedOptions, caps: Capabilities): Mechanism {
  if (o.auth !== 'auto') return o.auth;
  const sasl = saslMechanisms(caps);
  if (o.accessToken && (sasl.has('XOAUTH2') || o.password === undefined)) return 'xoauth2';
  if (sasl.has('PLAIN')) return 'plain';
  return 'user';
}

// Login commands: -ERR is EAUTH unless a response code says more ([IN-USE], [LOGIN-DELAY], [SYS/TEMP]...). The
// verb is all an error may show: the arguments are the secret.
const login = (line: string, verb: string, extra: Partial<CommandSpec<void>> = {}): CommandSpec<void> =>
  ({ line, verb, kind: 'single', errorCode: 'EAUTH', parse: () => undefined, ...extra });

/** APOP's timestamp: the msg-id in the greeting (RFC 1939 section 7). */
function apopTimestamp(greeting: string): string | null {
  return /<[^<>\s]+>/.exec(greeting)?.[0] ?? null;
}

export async function authenticate(conn: Pop3Connection, o: ResolvedOptions, mechanism: Mechanism,
  greeting: string, secure: boolean): Promise<void> {
  const user = o.user;
  switch (mechanism) {
    case 'user':
      // Never pipelined: no PASS goes out unless USER was accepted.
      await conn.send(login(`USER ${user}`, 'USER'));
      await conn.send(login(`PASS ${o.password!}`, 'PASS'));
      return;
    case 'plain': {
      // RFC 5034: the initial response rides on the AUTH line. A challenge after it means the server did not take
      // it: cancel with "*" (RFC 5034 section 4) and let the -ERR speak.
      const ir = Buffer.from(`\0${user}\0${o.password!}`, 'utf8').toString('base64');
      await conn.send(login(`AUTH PLAIN ${ir}`, 'AUTH', { onContinuation: () => '*' }));
      return;
    }
    case 'xoauth2': {
      const ir = Buffer.from(`user=${user}\x01auth=Bearer ${o.accessToken!}\x01\x01`, 'utf8').toString('base64');
      // On failure the server sends a base64 JSON challenge; the client answers with an empty line to get the -ERR.
      await conn.send(login(`AUTH XOAUTH2 ${ir}`, 'AUTH', { onContinuation: () => '' }));
      return;
    }
    case 'apop': {
      if (!secure) throw new Pop3Error('EINSECURE', 'APOP is only used inside TLS', { command: 'APOP' });
      const stamp = apopTimestamp(greeting);
      if (!stamp) throw new Pop3Error('EAUTH', 'APOP requested but the greeting carries no timestamp', { command: 'APOP' });
      const digest = createHash('md5').update(stamp + o.password!, 'utf8').digest('hex');
      await conn.send(login(`APOP ${user} ${digest}`, 'APOP'));
      return;
    }
  }
}
