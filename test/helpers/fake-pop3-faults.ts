/**
 * Named misbehaviours for the fake POP3 server (fake-pop3-server.ts): each returns a handler (or a set of them) to
 * put in `handlers`, so a fault test reads as what the server does wrong, not as a wire-level lambda.
 */
import type { FakeSession, Handler } from './fake-pop3-server.ts';
import { defaultHandlers, dotStuff } from './fake-pop3-server.ts';

const defaults = defaultHandlers();

/** A multi-line reply of exactly these lines, whatever the maildrop holds (a listing the server got wrong). */
export function listingOf(lines: readonly string[]): Handler {
  return (s) => s.multi(lines);
}

/** A single-line "+OK text" reply, whatever was asked. */
export function okReply(text: string): Handler {
  return (s) => s.ok(text);
}

/** `faulty` in the first `sessions` sessions (1 by default), the RFC 1939 default handler of `verb` afterwards. */
export function inFirstSessions(verb: string, faulty: Handler, sessions = 1): Handler {
  const fallback = defaults[verb.toUpperCase()]!;
  return (s, args, line) => (s.id <= sessions ? faulty(s, args, line) : fallback(s, args, line));
}

/**
 * SASL that never ends: every AUTH line and every answer to it gets another "+ " challenge. The answers a client
 * gives after an error challenge: "*" (cancel, PLAIN), "" (XOAUTH2), "AQ==" (a ^A, OAUTHBEARER, RFC 7628 3.2.3).
 */
export function endlessSaslChallenges(): Record<string, Handler> {
  const challenge: Handler = (s) => {
    s.write('+ \r\n');
  };
  return { AUTH: challenge, '*': challenge, '': challenge, 'AQ==': challenge };
}

/** Writes `wire` (bytes as they go on the wire) in pieces of `bytes`, one every `everyMs`, until done or hung up. */
export async function trickle(s: FakeSession, wire: Buffer, bytes: number, everyMs: number): Promise<void> {
  for (let i = 0; i < wire.length && !s.socket.destroyed; i += bytes) {
    s.write(wire.subarray(i, i + bytes));
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** "+OK" at once, then `body` dot-stuffed and trickled: `bytes` every `everyMs` (a slow or hostile server). */
export function trickledReply(body: Buffer, bytes: number, everyMs: number): Handler {
  return async (s) => {
    s.write('+OK\r\n');
    await trickle(s, dotStuff(body), bytes, everyMs);
  };
}

/** A status line (without CRLF) trickled `bytes` every `everyMs`. */
export function trickledStatus(text: string, bytes: number, everyMs: number): Handler {
  return (s) => trickle(s, Buffer.from(`${text}\r\n`), bytes, everyMs);
}

/** `handler`, after `ms` of silence (a server that takes its time to start answering). */
export function afterPause(ms: number, handler: Handler): Handler {
  return async (s, args, line) => {
    await new Promise((r) => setTimeout(r, ms));
    await handler(s, args, line);
  };
}

/** A listing that never ends: "+OK", then `line(i)` for i = 1, 2, ... until the client hangs up. Counts what it sent. */
export function endlessListing(line: (i: number) => string): { readonly handler: Handler; sent(): number } {
  let sent = 0;
  const handler: Handler = async (s) => {
    s.write('+OK listing follows\r\n');
    let i = 1;
    while (!s.socket.destroyed) {
      let batch = '';
      while (batch.length < 64 * 1024) batch += `${line(i++)}\r\n`;
      sent += batch.length;
      if (!s.write(batch)) await writable(s);
    }
  };
  return { handler, sent: () => sent };
}

/** Resolves when the session's socket drains or closes (never leaves a listener behind). */
export function writable(s: FakeSession): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      s.socket.off('drain', done);
      s.socket.off('close', done);
      resolve();
    };
    s.socket.on('drain', done);
    s.socket.on('close', done);
  });
}

/** `handler` for the messages with these UIDLs (whatever their number this session), the default for the others. */
export function forUids(verb: string, uids: readonly string[], handler: Handler): Handler {
  const fallback = defaults[verb.toUpperCase()]!;
  return (s, args, line) => (uids.includes(s.message(Number(args[0]))?.uid ?? '') ? handler(s, args, line) : fallback(s, args, line));
}

/** LIST as the maildrop holds it, except that it states these sizes (UIDL -> size): a server that lies. */
export function listWithSizes(sizes: Readonly<Record<string, number>>): Handler {
  return (s) => s.multi(s.server.messages.flatMap((m, i) => (s.deleted.has(i + 1) ? [] : [`${i + 1} ${sizes[m.uid] ?? m.body.length}`])));
}

/**
 * A RETR body that never ends: "+OK" (with `status`, e.g. an octet count), the header block, then body lines until
 * the client hangs up, honouring back-pressure. Counts what it sent.
 */
export function endlessBody(headers: string, status = ''): { readonly handler: Handler; sent(): number } {
  let sent = 0;
  const handler: Handler = async (s) => {
    s.write(`+OK${status === '' ? '' : ` ${status}`}\r\n${headers}\r\n\r\n`);
    const lines = 'an endless body line, sent until the client hangs up\r\n'.repeat(1024);
    while (!s.socket.destroyed) {
      sent += lines.length;
      if (!s.write(lines)) await writable(s);
    }
  };
  return { handler, sent: () => sent };
}

/** Refuses USER/PASS, AUTH and APOP with [LOGIN-DELAY] (RFC 2449 section 8.1.1): logged in too recently. */
export function loginDelayRefusal(): Record<string, Handler> {
  const refuse: Handler = (s) => s.err('[LOGIN-DELAY] you logged in too recently');
  return { USER: refuse, AUTH: refuse, APOP: refuse };
}

/**
 * UIDL by position: message n's unique id is "n", whatever it holds (RFC 1939 section 7 forbids it; some servers do
 * it), so once a message is gone the next mail gets a UIDL used before.
 */
export function positionalUidls(): Handler {
  return (s, [n]) => {
    if (!s.authed) {
      s.err('not logged in');
      return;
    }
    if (n !== undefined) {
      if (s.message(Number(n))) s.ok(`${n} ${n}`);
      else s.err('no such message');
      return;
    }
    s.multi(s.server.messages.flatMap((_, i) => (s.deleted.has(i + 1) ? [] : [`${i + 1} ${i + 1}`])));
  };
}

/** QUIT answers +OK but deletes nothing: a server on which DELE never takes effect. */
export function quitWithoutDeleting(): Handler {
  return (s) => {
    s.ok('bye');
    s.end();
  };
}
