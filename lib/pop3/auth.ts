import { createHash } from 'node:crypto';
import type { Capabilities } from './capabilities.ts';
import { saslMechanisms } from './capabilities.ts';
import type { CommandSpec } from './command.ts';
import type { Pop3Connection } from './connection.ts';
import { Pop3Error } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import type { AuthMechanism } from './types.ts';

type Mechanism = Exclude<AuthMechanism, 'auto'>;

/**
 * `auto`: with a token, XOAUTH2 (what Exchange Online and Gmail offer), else OAUTHBEARER (RFC 7628) when only that
 * is offered; then SASL PLAIN, then USER/PASS (RFC 1939). APOP only when asked for.
 */
export function chooseMechanism(o: ResolvedOptions, caps: Capabilities): Mechanism {
  if (o.auth !== 'auto') return o.auth;
  const sasl = saslMechanisms(caps);
  if (o.accessToken && sasl.has('XOAUTH2')) return 'xoauth2';
  if (o.accessToken && sasl.has('OAUTHBEARER')) return 'oauthbearer';
  if (o.accessToken && o.password === undefined) return 'xoauth2';
  if (sasl.has('PLAIN')) return 'plain';
  return 'user';
}

/** RFC 2449 section 4: a command line is at most 255 octets, CRLF included. */
const MAX_COMMAND_OCTETS = 255;

/** RFC 7628 section 3.1 (via RFC 5801's gs2 header): "," and "=" in the authzid are escaped as =2C and =3D. */
function gs2Authzid(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/**
 * One SASL token exchange (RFC 5034). The initial response rides on the AUTH line when the line fits in 255
 * octets; a bearer token rarely does (an Entra ID token is 1.5-3 KB), so the client then sends `AUTH <mech>` and
 * the response after the server's empty "+ " challenge, which is also the exchange Microsoft documents for POP.
 * A second challenge is the server's error report (base64 JSON, RFC 7628 section 3.2.2): it is answered with
 * `failureReply` so that the server finishes with -ERR, and its `status` is kept for the error message.
 */
async function tokenExchange(conn: Pop3Connection, mechanism: string, response: string, failureReply: string): Promise<void> {
  const withIr = `AUTH ${mechanism} ${response}`;
  const inline = withIr.length + 2 <= MAX_COMMAND_OCTETS;
  let sent = inline;
  let status: string | undefined;
  const onContinuation = (challenge: string): string => {
    if (!sent) {
      sent = true;
      return response;
    }
    status ??= challengeStatus(challenge);
    return failureReply;
  };
  try {
    await conn.send(login(inline ? withIr : `AUTH ${mechanism}`, 'AUTH', { onContinuation: capRounds(onContinuation) }));
  } catch (err) {
    if (!(err instanceof Pop3Error) || status === undefined) throw err;
    throw new Pop3Error(err.code, `${err.message} (the server reported the token as ${status})`, {
      command: err.command,
      response: err.response,
      responseCode: err.responseCode,
      cause: err,
    });
  }
}

/** The `status` of an RFC 7628 / XOAUTH2 error challenge, printable and short; undefined when it is not one. */
function challengeStatus(challenge: string): string | undefined {
  try {
    const json = JSON.parse(Buffer.from(challenge.trim(), 'base64').toString('utf8')) as { status?: unknown };
    return typeof json.status === 'string' && /^[\w.-]{1,40}$/.test(json.status) ? json.status : undefined;
  } catch {
    return undefined;
  }
}

// Login commands: -ERR is EAUTH unless a response code says more ([IN-USE], [LOGIN-DELAY], [SYS/TEMP]...). The
// verb is all an error may show: the arguments are the secret.
const login = (line: string, verb: string, extra: Partial<CommandSpec<void>> = {}): CommandSpec<void> => ({
  line,
  verb,
  kind: 'single',
  errorCode: 'EAUTH',
  parse: () => undefined,
  ...extra,
});

/**
 * A SASL exchange of ours needs at most one challenge answered (the cancel or the empty reply that brings the
 * -ERR). A server that keeps sending "+ " is looping, not authenticating: after a few rounds the session ends.
 */
export const MAX_SASL_ROUNDS = 3;

function capRounds(answer: (challenge: string) => string): (challenge: string) => string {
  let rounds = 0;
  return (challenge) => {
    if (++rounds > MAX_SASL_ROUNDS) {
      throw new Pop3Error(
        'EPROTOCOL',
        `AUTH: the server sent more than ${MAX_SASL_ROUNDS} continuation requests without an answer; giving up`,
        { command: 'AUTH' },
      );
    }
    return answer(challenge);
  };
}

/** APOP's timestamp: the msg-id in the greeting (RFC 1939 section 7). */
function apopTimestamp(greeting: string): string | null {
  return /<[^<>\s]+>/.exec(greeting)?.[0] ?? null;
}

export async function authenticate(
  conn: Pop3Connection,
  o: ResolvedOptions,
  mechanism: Mechanism,
  greeting: string,
  secure: boolean,
): Promise<void> {
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
      await conn.send(login(`AUTH PLAIN ${ir}`, 'AUTH', { onContinuation: capRounds(() => '*') }));
      return;
    }
    case 'xoauth2': {
      const ir = Buffer.from(`user=${user}\x01auth=Bearer ${o.accessToken!}\x01\x01`, 'utf8').toString('base64');
      // On failure the server sends a base64 JSON challenge; the client answers with an empty line to get the -ERR.
      await tokenExchange(conn, 'XOAUTH2', ir, '');
      return;
    }
    case 'oauthbearer': {
      // RFC 7628 section 3.1: gs2 header naming the user, then host, port and the bearer token as ^A-separated pairs.
      const { servername, port } = o.transport;
      const message = `n,a=${gs2Authzid(user)},\x01host=${servername}\x01port=${port}\x01auth=Bearer ${o.accessToken!}\x01\x01`;
      // RFC 7628 section 3.2.3: after an error challenge the client sends a single ^A (base64 "AQ==").
      await tokenExchange(conn, 'OAUTHBEARER', Buffer.from(message, 'utf8').toString('base64'), 'AQ==');
      return;
    }
    case 'apop': {
      if (!secure) throw new Pop3Error('EINSECURE', 'APOP is only used inside TLS', { command: 'APOP' });
      const stamp = apopTimestamp(greeting);
      if (!stamp) throw new Pop3Error('EAUTH', 'APOP requested but the greeting carries no timestamp', { command: 'APOP' });
      const digest = createHash('md5')
        .update(stamp + o.password!, 'utf8')
        .digest('hex');
      await conn.send(login(`APOP ${user} ${digest}`, 'APOP'));
      return;
    }
  }
}
